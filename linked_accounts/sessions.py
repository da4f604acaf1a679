"""Server-side sessions (Flask-Session): a file store with no setup, or Redis when configured."""

from __future__ import annotations

import os
from datetime import timedelta

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask_session import Session


def init_sessions(app: Flask, redis_url: str | None = None) -> None:
    """Keep session data on the server; the cookie carries only a random session id.

    Redis when `redis_url` is given, so several instances share sessions; otherwise a cachelib
    file store in the instance folder, which needs no setup.
    """
    if redis_url:
        import redis

        app.config["SESSION_TYPE"] = "redis"
        app.config["SESSION_REDIS"] = redis.Redis.from_url(
            redis_url, socket_connect_timeout=2, socket_timeout=2
        )
    else:
        from cachelib.file import FileSystemCache

        os.makedirs(app.instance_path, exist_ok=True)
        app.config["SESSION_TYPE"] = "cachelib"
        app.config["SESSION_CACHELIB"] = FileSystemCache(
            os.path.join(app.instance_path, "sessions"), threshold=10_000, mode=0o600
        )
    # Flask's own defaults already fill these keys (SameSite unset, 31 days), so setdefault
    # would never apply: replace Flask's default values, keep whatever the host app chose.
    _default(app, "SESSION_COOKIE_HTTPONLY", True)
    _default(app, "SESSION_COOKIE_SAMESITE", "Lax")
    _default(app, "PERMANENT_SESSION_LIFETIME", timedelta(hours=8))
    # Save the session only when a request changed it: a view that only reads it costs one read
    # and no write, and merely viewing a page never pushes its expiry further out.
    _default(app, "SESSION_REFRESH_EACH_REQUEST", False)
    app.config.setdefault("SESSION_KEY_PREFIX", "linked-accounts:")
    Session(app)


def _default(app: Flask, key: str, value: object) -> None:
    if key not in app.config or app.config[key] == Flask.default_config.get(key):
        app.config[key] = value


def is_server_side(app: Flask) -> bool:
    """Tell whether the app keeps session data off the cookie (tokens must never reach it)."""
    interface = app.session_interface
    return not isinstance(interface, SecureCookieSessionInterface) and hasattr(
        interface, "regenerate"
    )
