"""An embeddable Flask extension: the user's linked Auth0 accounts, to see, unlink and link.

from linked_accounts import LinkedAccounts
LinkedAccounts(app, url_prefix="/account")      # or: ext = LinkedAccounts(); ext.init_app(app)
"""

from __future__ import annotations

from authlib.integrations.flask_client import OAuth
from flask import Flask

from . import account, auth, i18n, linking, notices, separated, views  # noqa: F401  (add routes)
from .api import api
from .blueprint import bp
from .events import identity_linked, identity_unlinked, separated_deleted
from .m2m import ClientCredentials
from .management import ManagementClient
from .sessions import init_sessions, is_server_side
from .settings import ConfigError, Settings, load_settings
from .state import EXTENSION, State

__all__ = [
    "account",
    "ConfigError",
    "LinkedAccounts",
    "Settings",
    "identity_linked",
    "identity_unlinked",
    "init_sessions",
    "load_settings",
    "separated_deleted",
]


class LinkedAccounts:
    """The extension. Per-app state lives in `app.extensions["linked_accounts"]`."""

    def __init__(self, app: Flask | None = None, **options) -> None:
        if app is not None:
            self.init_app(app, **options)

    def init_app(self, app: Flask, url_prefix: str = "/account") -> None:
        """Read settings, create this app's Auth0 clients, and mount the pages at `url_prefix`."""
        settings = load_settings(app.config)
        if not is_server_side(app):
            raise RuntimeError(
                "linked_accounts keeps Auth0 tokens in the session, so the session must be "
                "server-side: call linked_accounts.init_sessions(app) (or Flask-Session's "
                "Session(app)) before LinkedAccounts(app)."
            )
        i18n.init_app(app)  # the locale (Accept-Language unless the host chooses) and la_()
        app.config.setdefault("LINKED_ACCOUNTS_BASE_TEMPLATE", "linked_accounts/base.html")
        app.config.setdefault("LINKED_ACCOUNTS_APP_NAME", "Your account")
        # A registry of its own per app: Authlib caches clients (and their config) on it.
        oauth = OAuth(app)
        client = oauth.register(
            "auth0",
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            server_metadata_url=settings.metadata_url,
            client_kwargs={
                "scope": auth.SCOPES,
                "code_challenge_method": "S256",
                "default_timeout": (settings.connect_timeout, settings.read_timeout),
            },
        )
        timeout = (settings.connect_timeout, settings.read_timeout)
        management = ManagementClient(settings.management_url, timeout=timeout)
        m2m = None
        if settings.offer_delete_separated and settings.delete_separated_mode == "server":
            m2m = ClientCredentials(
                f"{settings.issuer_url}/oauth/token",
                settings.m2m_client_id,
                settings.m2m_client_secret,
                settings.audience,
                http=management.http,
                timeout=timeout,
            )
        app.extensions[EXTENSION] = State(settings, management, client, m2m)
        app.register_blueprint(bp, url_prefix=url_prefix)
        app.register_blueprint(api, url_prefix=f"{url_prefix.rstrip('/')}/api")
        notices.init_app(app, settings)  # security emails after link/unlink when SMTP_URL is set

        @app.context_processor
        def linked_accounts_context():
            return {
                "la_base_template": app.config["LINKED_ACCOUNTS_BASE_TEMPLATE"],
                "la_app_name": app.config["LINKED_ACCOUNTS_APP_NAME"],
                "la_logo_url": app.config.get("LINKED_ACCOUNTS_LOGO_URL"),
                "la_dev_tenant": settings.dev_tenant,
                "la_delete_mode": settings.delete_separated_mode,
                "la_offer_delete": settings.offer_delete_separated,
            }
