"""`init_sessions`: the session store and the side store beside it, built together."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from .files import PENDING_THRESHOLD, FileSessions, PendingFiles
from .read_ahead import ReadAhead
from .rules import MAX_AGE, SessionRules
from .side import PREFIX as SIDE_PREFIX
from .side import FileSideStore, RedisSideStore, SideStore

SIDE_STORE = "linked_accounts.side_store"  # its key in app.extensions


def init_sessions(app: Flask, redis_url: str | None = None) -> None:
    """Keep session data on the server; the cookie carries only a random session id.

    Redis when `redis_url` is given, so several instances share sessions; otherwise cachelib file
    stores in the instance folder, which need no setup. Either way a side store for per-user
    data comes with it (`side_store`). Call it after choosing SESSION_COOKIE_SECURE: a Secure
    cookie gets the `__Host-` name prefix.
    """
    # Flask's own defaults already fill these keys (SameSite unset, 31 days), so setdefault
    # would never apply: replace Flask's default values, keep whatever the host app chose.
    _default(app, "SESSION_COOKIE_HTTPONLY", True)
    _default(app, "SESSION_COOKIE_SAMESITE", "Lax")
    _default(app, "PERMANENT_SESSION_LIFETIME", timedelta(seconds=MAX_AGE))
    # The lifetime is absolute, so writing an unchanged session again would only cost time.
    _default(app, "SESSION_REFRESH_EACH_REQUEST", False)
    if app.config.get("SESSION_COOKIE_SECURE") and app.config["SESSION_COOKIE_NAME"] == "session":
        # __Host-: the browser takes it only from https, for this host alone, on Path=/, so a
        # sibling subdomain or a plain-http page cannot plant or overwrite it.
        prefix = "__Secure-" if app.config.get("SESSION_COOKIE_DOMAIN") else "__Host-"
        app.config["SESSION_COOKIE_NAME"] = prefix + "session"
    max_age = int(
        app.config.get("LINKED_ACCOUNTS_SESSION_MAX_AGE")
        or app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
    )
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=max_age)
    app.config.setdefault("SESSION_KEY_PREFIX", "linked-accounts:")
    options = {
        "key_prefix": app.config["SESSION_KEY_PREFIX"],
        "permanent": app.config.get("SESSION_PERMANENT", True),
        "sid_length": app.config.get("SESSION_ID_LENGTH", 32),
        "serialization_format": app.config.get("SESSION_SERIALIZATION_FORMAT", "msgpack"),
    }
    side: SideStore
    if redis_url:
        import redis  # the [redis] extra: only hosts that keep sessions in Redis need it

        from .redis_store import RedisSessions

        client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2)
        app.config["SESSION_TYPE"] = "redis"
        app.config["SESSION_REDIS"] = client
        read_ahead = ReadAhead(SIDE_PREFIX)  # a view's side entries come with its session
        app.session_interface = RedisSessions(app, client, max_age, read_ahead, **options)
        side = RedisSideStore(client, read_ahead)
    else:
        from cachelib.file import FileSystemCache

        folder = os.path.join(app.instance_path, "sessions")
        os.makedirs(folder, exist_ok=True)
        app.config["SESSION_TYPE"] = "cachelib"
        app.config["SESSION_CACHELIB"] = FileSystemCache(folder, threshold=0, mode=0o600)
        limit = int(app.config.get("LINKED_ACCOUNTS_PENDING_SESSIONS") or PENDING_THRESHOLD)
        pending = PendingFiles(folder + "-pending", threshold=limit, mode=0o600)
        app.session_interface = FileSessions(
            app, app.config["SESSION_CACHELIB"], pending, max_age, **options
        )
        side = FileSideStore(os.path.join(app.instance_path, "linked-accounts-side"))
    app.extensions[SIDE_STORE] = side


def when_signed_in(app: Flask, signed_in: Callable[[], bool]) -> None:
    """Tell the session store how to see that someone is signed in, in host sign-in mode (the
    host's user, read from the request's session): a session nobody is signed in to, such as the
    host's own login on its way to Auth0, is then kept only as long as a trip lasts."""
    if isinstance(app.session_interface, SessionRules):
        app.session_interface.host_signed_in = signed_in


def side_store(app: Flask) -> SideStore | None:
    """Return the app's side store, or None when `init_sessions` did not build its sessions."""
    return app.extensions.get(SIDE_STORE)


def _default(app: Flask, key: str, value: object) -> None:
    if key not in app.config or app.config[key] == Flask.default_config.get(key):
        app.config[key] = value


def is_server_side(app: Flask) -> bool:
    """Tell whether the app keeps session data off the cookie (tokens must never reach it)."""
    interface = app.session_interface
    return not isinstance(interface, SecureCookieSessionInterface) and hasattr(
        interface, "regenerate"
    )
