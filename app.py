"""The standalone linked-accounts app: one host of the `linked_accounts` extension.

    flask --app app run            gunicorn   (reads gunicorn.conf.py)

With AUTH0_DOMAIN unset and DEV_TENANT=1 it talks to the development tenant (`make run` starts
one and sets both).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, redirect, render_template, url_for
from flask_wtf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from linked_accounts import (
    ConfigError,
    LinkedAccounts,
    Settings,
    current_account,
    init_sessions,
    load_settings,
)
from linked_accounts.settings import flag
from standalone import health
from standalone import metrics as metrics_endpoint
from standalone.logs import install_request_logging
from standalone.security import frame_ancestors_problem, install_security_headers

# The development tenant's published demo client (see devtenant/). Used only when AUTH0_DOMAIN is
# unset, so a newcomer needs no Auth0 account; never a real tenant's credentials.
DEV_TENANT = {
    "AUTH0_DOMAIN": "http://127.0.0.1:5001",
    "AUTH0_CLIENT_ID": "dev-client",
    "AUTH0_CLIENT_SECRET": "dev-client-secret",
}


# The environment variables the README documents, and the extension's config key each one sets.
ENVIRONMENT = {
    **{
        name: name
        for name in (
            "AUTH0_DOMAIN",
            "AUTH0_CLIENT_ID",
            "AUTH0_CLIENT_SECRET",
            "AUTH0_MANAGEMENT_DOMAIN",
            "AUTH0_CONNECT_TIMEOUT",
            "AUTH0_READ_TIMEOUT",
            "AUTH0_M2M_CLIENT_ID",
            "AUTH0_M2M_CLIENT_SECRET",
            "LINKED_ACCOUNTS_CONNECTIONS",
        )
    },
    "IDENTITIES_CACHE_SECONDS": "LINKED_ACCOUNTS_CACHE_SECONDS",
    "IDENTITIES_CLAIM": "LINKED_ACCOUNTS_IDENTITIES_CLAIM",
    "REFRESH_MIN_INTERVAL": "LINKED_ACCOUNTS_REFRESH_MIN_INTERVAL",
    "REAUTH_MAX_AGE": "LINKED_ACCOUNTS_REAUTH_MAX_AGE",
    "SESSION_MAX_AGE": "LINKED_ACCOUNTS_SESSION_MAX_AGE",
    "LINK_CONNECTIONS": "LINKED_ACCOUNTS_LINK_CONNECTIONS",
    "LINK_REQUIRE_VERIFIED_EMAIL": "LINKED_ACCOUNTS_LINK_REQUIRE_VERIFIED_EMAIL",
    "OFFER_DELETE_SEPARATED": "LINKED_ACCOUNTS_OFFER_DELETE_SEPARATED",
    "DELETE_SEPARATED_MODE": "LINKED_ACCOUNTS_DELETE_SEPARATED_MODE",
    "DELETE_SEPARATED_WINDOW": "LINKED_ACCOUNTS_DELETE_SEPARATED_WINDOW",
    "SMTP_URL": "LINKED_ACCOUNTS_SMTP_URL",
    "SMTP_FROM": "LINKED_ACCOUNTS_SMTP_FROM",
    "SUPPORT_URL": "LINKED_ACCOUNTS_SUPPORT_URL",
    "CONNECTION_DISPLAY_NAMES": "LINKED_ACCOUNTS_CONNECTION_DISPLAY_NAMES",
    "METRICS": "LINKED_ACCOUNTS_METRICS",
    "SUGGEST_LINKS": "LINKED_ACCOUNTS_SUGGEST_LINKS",
    "MERGE_METADATA": "LINKED_ACCOUNTS_MERGE_METADATA",
    "MERGE_APP_METADATA": "LINKED_ACCOUNTS_MERGE_APP_METADATA",
    "AT_LOGIN_SECRET": "LINKED_ACCOUNTS_AT_LOGIN_SECRET",
}


def create_app(test_config: dict | None = None) -> Flask:
    """Create the app from the environment or `test_config`; stop with a clear message if wrong.

    `test_config` takes the environment's names (`REAUTH_MAX_AGE`) as well as config keys.
    """
    try:
        return _create_app(test_config or {})
    except ConfigError as exc:
        # One message naming every problem, and a non-zero exit: no traceback for a typo.
        raise SystemExit(str(exc)) from None


def _create_app(test_config: dict) -> Flask:
    # INSTANCE_PATH lets tests (and read-only deployments) keep session files elsewhere.
    app = Flask(__name__, instance_path=test_config.get("INSTANCE_PATH"))
    app.config.update(test_config)
    settings = _configure(app, secure_cookie_chosen="SESSION_COOKIE_SECURE" in test_config)
    if _flag(app, "TRUST_PROXY"):
        # Behind a TLS-terminating proxy: trust its X-Forwarded-* so https is seen as https.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    init_sessions(app, _setting(app, "REDIS_URL") or None)
    CSRFProtect(app)
    install_security_headers(
        app,
        frame_ancestors=app.config["FRAME_ANCESTORS"],
        form_action=(settings.issuer_origin,),
    )
    app.config["LINKED_ACCOUNTS_BASE_TEMPLATE"] = "base.html"
    # Its layout shows no flashed messages: the pages' own message region shows them (once).
    app.config["LINKED_ACCOUNTS_SHOW_FLASHES"] = True
    LinkedAccounts(app, url_prefix="/account")
    # /healthz and /readyz for load balancers; /readyz reuses its answer, and may be restricted.
    health.init_app(
        app,
        health.Readiness(
            token=_setting(app, "READYZ_TOKEN"),
            loopback_only=_flag(app, "READYZ_LOOPBACK_ONLY"),
            cache_seconds=app.config["READYZ_CACHE_SECONDS"],
        ),
    )
    metrics_endpoint.install(app)  # /metrics, with METRICS=1 and METRICS_TOKEN
    install_request_logging(app)  # last, so its timing wraps every other layer

    @app.get("/")
    def index():
        """Show the front page, or go straight to the accounts page once signed in."""
        if current_account():
            return redirect(url_for("linked_accounts.accounts"))
        return render_template("index.html")

    return app


def _configure(app: Flask, *, secure_cookie_chosen: bool = False) -> Settings:
    """Fill app.config from the environment, collecting every problem before stopping."""
    problems: list[str] = []
    frame_ancestors = _setting(app, "FRAME_ANCESTORS") or "'none'"
    problem = frame_ancestors_problem(frame_ancestors)
    if problem:
        problems.append(
            "FRAME_ANCESTORS must be 'none', 'self' or space-separated https origins "
            f"(e.g. https://portal.example.com): {problem}"
        )
    app.config["FRAME_ANCESTORS"] = frame_ancestors
    for name, key in ENVIRONMENT.items():
        value = _read(app, name)
        if name == "LINKED_ACCOUNTS_CONNECTIONS" and isinstance(value, str):
            value = _json(value)
        if value is not None:
            app.config[key] = value
    dev_tenant = not _setting(app, "AUTH0_DOMAIN")
    if dev_tenant and not _flag(app, "DEV_TENANT"):
        # Never a silent fallback: the development tenant's client secret is published, so a
        # deployment that forgot AUTH0_DOMAIN must stop, not sign people in against it.
        # (load_settings says AUTH0_DOMAIN is not set; this says what else would do.)
        problems.append(
            "DEV_TENANT=1 instead of AUTH0_DOMAIN runs on the local development tenant "
            "(`make run` sets it)"
        )
        dev_tenant = False
    if dev_tenant:
        for key, value in DEV_TENANT.items():
            app.config[key] = _setting(app, "DEV_" + key) or value
    app.config["LINKED_ACCOUNTS_DEV_TENANT"] = dev_tenant
    secret = _setting(app, "APP_SECRET_KEY")
    if not secret and dev_tenant:
        secret = _dev_secret(Path(app.instance_path))
    if not secret:
        problems.append(
            "APP_SECRET_KEY is not set (a long random string, e.g. `openssl rand -hex 32`)"
        )
    elif len(secret) < 32:
        problems.append("APP_SECRET_KEY is too short: use at least 32 random characters")
    app.config["SECRET_KEY"] = secret
    redis_url = _setting(app, "REDIS_URL")
    if redis_url and urlsplit(redis_url).scheme not in ("redis", "rediss", "unix"):
        problems.append(
            f"REDIS_URL must start with redis://, rediss:// or unix://, got {redis_url!r}"
        )
    try:
        app.config["READYZ_CACHE_SECONDS"] = float(
            _setting(app, "READYZ_CACHE_SECONDS") or health.CACHE_SECONDS
        )
    except ValueError:
        problems.append("READYZ_CACHE_SECONDS must be a number of seconds (e.g. 5)")
    if not secure_cookie_chosen:
        # Not setdefault: Flask's defaults already hold SESSION_COOKIE_SECURE=False.
        app.config["SESSION_COOKIE_SECURE"] = not dev_tenant and not _flag(
            app, "INSECURE_HTTP_COOKIES"
        )
    if frame_ancestors not in ("'none'", "'self'"):
        # Framed by another site: browsers send the cookie into a cross-site frame only with
        # SameSite=None, and accept that only with Secure. CSRF tokens still guard every POST.
        app.config["SESSION_COOKIE_SAMESITE"] = "None"
        app.config["SESSION_COOKIE_SECURE"] = True
    try:
        settings = load_settings(app.config)
    except ConfigError as exc:
        problems.extend(_in_environment_names(p) for p in exc.problems)
    if problems:
        raise ConfigError(problems)
    return settings


def _in_environment_names(problem: str) -> str:
    """Name a setting as the reader set it: `REAUTH_MAX_AGE`, not the config key it maps to."""
    for name, key in ENVIRONMENT.items():
        problem = problem.replace(key, name)
    return problem


def _json(text: str) -> object:
    try:
        return json.loads(text or "{}")
    except ValueError:
        return text  # the extension's check names the setting and what it must look like


def _read(app: Flask, name: str) -> object:
    """The one way this app reads a setting: `test_config`'s value if it has one (typed, or a
    string), else the environment's, else None."""
    value = app.config.get(name)
    return value if value is not None else os.environ.get(name)


def _setting(app: Flask, name: str) -> str:
    value = _read(app, name)
    return "" if value is None else str(value).strip()


def _flag(app: Flask, name: str) -> bool:
    return flag(_read(app, name))


def _dev_secret(instance: Path) -> str:
    """Keep one random key per checkout for the development tenant, so restarts keep sessions."""
    path = instance / "dev-secret-key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        # Created private: a chmod after the write would leave it readable for a moment.
        with contextlib.suppress(FileExistsError):  # another worker created it first
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_hex(32))
    return path.read_text().strip()
