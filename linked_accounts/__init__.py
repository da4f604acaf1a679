"""An embeddable Flask extension: the user's linked Auth0 accounts, to see, unlink and link.

from linked_accounts import LinkedAccounts
LinkedAccounts(app, url_prefix="/account")      # or: ext = LinkedAccounts(); ext.init_app(app)

`init_app` is the whole wiring, in one place: the config defaults, the clients, every route, what
finishes each trip to Auth0, and which confirmed actions a fresh login resumes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any, TypeVar

from authlib.integrations.flask_client import OAuth
from flask import Blueprint, Flask

from . import atlogin, i18n, metrics, names, suggestions
from . import settings as settings_module
from .atlogin import merged_at_login
from .auth0 import scopes
from .auth0.m2m import ClientCredentials
from .auth0.management import ManagementClient
from .navigation import safe_next
from .notices import Notifier
from .purposes import Resumable, Trip, TripHandler
from .settings import DEFAULTS, ConfigError, Settings
from .signals import accounts_merged, identity_linked, identity_unlinked, separated_deleted
from .signin import account, reauth
from .signin.account import Account
from .state import EXTENSION, State
from .storage import init_sessions, is_server_side, keys, when_signed_in
from .suggestions import views as suggestion_pages
from .web import api, headers, pages, templating, unrouted
from .web import signin as auth

# What a host uses; everything else is the extension's own and may change.
__all__ = [
    "Account",
    "accounts_merged",
    "ConfigError",
    "LinkedAccounts",
    "Settings",
    "current_account",
    "identity_linked",
    "identity_unlinked",
    "init_sessions",
    "load_settings",
    "merged_at_login",
    "safe_next",
    "separated_deleted",
]


def current_account() -> Account | None:
    """Return who is signed in to the extension (in host sign-in mode: only the host's own
    user), or None. Call it in a request."""
    return account.current()


V = TypeVar("V")


class LinkedAccounts:
    """The extension. Per-app state lives in `app.extensions["linked_accounts"]`."""

    def __init__(self, app: Flask | None = None, **options) -> None:
        if app is not None:
            self.init_app(app, **options)

    def init_app(
        self,
        app: Flask,
        url_prefix: str = "/account",
        *,
        current_user: Callable[[], str | None] | None = None,
        login_url: str | None = None,
        current_user_name: Callable[[], str | None] | None = None,
        choose_primary: suggestions.ChoosePrimary | None = None,
        before_merge: Callable[[str, str], None] | None = None,
    ) -> None:
        """Read settings, create this app's Auth0 clients, and mount the pages at `url_prefix`.

        Host sign-in mode: `current_user` returns the Auth0 user id (`sub`) of the person the host
        has signed in, or None; the host then owns sign-in and sign-out, and a visitor it has not
        signed in is sent to `login_url` (a URL or an endpoint name) with `next`; optional
        `current_user_name` returns how that person knows their account (an email or a name),
        which the page names when Auth0 signs someone else in.

        `choose_primary(signed_in, other)` returns the user id of the account that stays when
        two merge (default: the one Auth0 created first); each is a users-by-email profile.
        `before_merge(primary_id, merged_id)` runs before every link this extension makes (the
        product's own preparation, e.g. moving what it keeps under the merged id); if it
        raises, nothing is linked. `accounts_merged` follows every merge.
        """
        if current_user is not None and not login_url:
            raise ValueError("current_user needs login_url: where the host signs people in")
        for key, value in {**DEFAULTS, **suggestions.config.DEFAULTS, **atlogin.DEFAULTS}.items():
            app.config.setdefault(key, value)
        i18n.init_app(app)  # the locale (Accept-Language unless the host chooses) and la_()
        settings = load_settings(app.config)
        suggesting = suggestions.config.load(app.config)
        if not is_server_side(app):
            raise RuntimeError(
                "linked_accounts keeps Auth0 tokens in the session, so the session must be "
                "server-side: call linked_accounts.init_sessions(app) (or Flask-Session's "
                "Session(app)) before LinkedAccounts(app)."
            )
        management = ManagementClient(settings.api_url, timeout=settings.timeout)
        st = State(
            settings=settings,
            management=management,
            auth0=_register_auth0(app, settings, suggesting.merge_metadata),
            m2m=_deletion_m2m(settings, management),
            notifier=Notifier(settings.smtp_url, settings.smtp_from) if settings.smtp_url else None,
            trip_handlers=covering(
                Trip,
                {
                    Trip.LOGIN: TripHandler(
                        auth.finish_login, fail=auth.login_failed, again=auth.login_again
                    ),
                    Trip.RENEW: TripHandler(auth.finish_renewal, fail=auth.renewal_failed),
                    Trip.REAUTH: TripHandler(
                        reauth.finish, fail=pages.change_trip_failed, again=auth.reauth_again
                    ),
                    Trip.LINK: TripHandler(pages.finish_link, fail=pages.change_trip_failed),
                    Trip.DELETE_SEPARATED: TripHandler(
                        pages.finish_delete, fail=pages.change_trip_failed, again=pages.delete_again
                    ),
                    Trip.MERGE: TripHandler(
                        suggestion_pages.finish_merge,
                        fail=pages.change_trip_failed,
                        again=suggestion_pages.merge_again,
                    ),
                    Trip.AT_LOGIN: TripHandler(
                        atlogin.views.finish_proof, fail=atlogin.views.proof_failed
                    ),
                },
            ),
            resumable=covering(
                Resumable,
                {
                    Resumable.UNLINK: pages.unlink_identity,
                    Resumable.LINK: pages.start_link,
                    Resumable.DELETE_SEPARATED: pages.delete_separated,
                    Resumable.RETURN_TO: reauth.return_to,
                    Resumable.MERGE: suggestion_pages.start_merge,
                },
            ),
            current_user=current_user,
            login_url=login_url,
            current_user_name=current_user_name,
            before_merge=before_merge,
        )
        app.extensions[EXTENSION] = st
        if settings.connection_display_names:
            connections = _m2m(settings, management, scopes.READ_CONNECTIONS)
            app.extensions[names.TENANT_NAMES] = names.TenantNames(management, connections)
        metrics.init_app(app, management.http)  # only if LINKED_ACCOUNTS_METRICS is set

        html = Blueprint(
            "linked_accounts",
            __name__,
            template_folder="templates",
            static_folder="static",
            # Not "/static": under an empty url_prefix the host app's own /static would shadow it.
            static_url_path="/la-static",
        )
        auth.register(html, host_signs_in=st.host_signs_in)
        pages.register(html)
        json_api = Blueprint("linked_accounts_api", __name__)
        api.register(json_api)
        suggestions.init_app(
            app,
            _m2m(settings, management, scopes.READ_USERS) if suggesting.suggest_links else None,
            choose_primary,
            html,
            json_api,
            _m2m(settings, management, f"{scopes.READ_USERS} {scopes.UPDATE_APP_METADATA}")
            if suggesting.merge_app_metadata
            else None,
        )
        if atlogin.enabled(app.config):
            atlogin.init_app(app, html)
        atlogin.add_commands(app)
        if st.host_signs_in:
            # Everything kept for a person is dropped as soon as the host's user is someone else.
            html.before_request(account.forget_another_users_data)
            json_api.before_request(account.forget_another_users_data)
            when_signed_in(app, lambda: st.host_user() is not None)  # who the store keeps long
        app.register_blueprint(html, url_prefix=url_prefix)
        api_prefix = f"{url_prefix.rstrip('/')}/api"
        app.register_blueprint(json_api, url_prefix=api_prefix)
        unrouted.register(app, url_prefix, api_prefix)  # styled 404 and 405 under the prefix
        # Whatever the host sends, or not; on its 404 and 405 answers under the prefixes too.
        headers.install(app, (html.name, json_api.name), (url_prefix.rstrip("/"), api_prefix))
        headers.warn_if_weak(app, settings.issuer_url)
        templating.init_app(app, st)


def covering(kinds: type[Enum], table: Mapping[Any, V]) -> Mapping[Any, V]:
    """Return `table`, or stop start-up if it lacks an entry for any of `kinds`: a trip or an
    action nobody finishes would otherwise surface only when someone comes back from Auth0."""
    missing = [kind.value for kind in kinds if kind not in table]
    if missing:
        raise RuntimeError(f"no entry for {kinds.__name__} {', '.join(missing)} in init_app")
    return table


def load_settings(config: Mapping[str, Any]) -> Settings:
    """Build Settings from `config`, or raise ConfigError naming every missing or invalid value,
    those of the optional features included."""
    return settings_module.load_settings(config, suggestions.config.problems, atlogin.problems)


def _register_auth0(app: Flask, settings: Settings, merge_metadata: bool):
    """Register the tenant with Authlib, on a registry of this app's own: Authlib caches clients
    (and their config) on its registry, so a shared one would serve another app's settings."""
    return OAuth(app).register(
        # Not "auth0": a host that signs in with Auth0 has its own client by that name, and
        # Authlib keeps each client's pending state in the session under the client's name.
        keys.AUTHLIB_CLIENT,
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        server_metadata_url=settings.metadata_url,
        client_kwargs={
            # With MERGE_METADATA the person's own token must write its user_metadata too.
            "scope": scopes.LOGIN + (f" {scopes.UPDATE_METADATA}" * merge_metadata),
            "code_challenge_method": "S256",
            "default_timeout": settings.timeout,
        },
    )


def _deletion_m2m(settings: Settings, management: ManagementClient) -> ClientCredentials | None:
    """The M2M token source, only for deleting separated accounts in server mode."""
    if not (settings.offer_delete_separated and settings.delete_separated_mode == "server"):
        return None
    return _m2m(settings, management)


def _m2m(
    settings: Settings, management: ManagementClient, scope: str | None = None
) -> ClientCredentials:
    """A token source for the M2M client of the settings (AUTH0_M2M_CLIENT_ID/_SECRET), each
    used for one thing (`scope`). Its token is asked for at the sign-in domain too, so it is
    valid where the API calls go."""
    return ClientCredentials(
        f"{settings.issuer_url}/oauth/token",
        settings.m2m_client_id,
        settings.m2m_client_secret,
        settings.audience,
        http=management.http,
        timeout=settings.timeout,
        scope=scope,
    )
