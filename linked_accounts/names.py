"""What to call a sign-in method, and which icon to draw: the host's choice first, always.

Every page, message, email and JSON answer names a connection through `display_name` (an
identity through `identity_name`), so a host's own names (`LINKED_ACCOUNTS_CONNECTIONS`, e.g.
"Acme SSO") hold everywhere. Next comes the display name the tenant's administrator gave the
connection at Auth0 (what its login button says), when the host asks for it
(`LINKED_ACCOUNTS_CONNECTION_DISPLAY_NAMES`): Auth0 gives it only in `GET /api/v2/connections`,
to a machine-to-machine token with `read:connections`; no user token, ID token or identity
carries it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping

from flask import current_app, url_for

from .auth0 import management as m
from .auth0.m2m import ClientCredentials
from .i18n import _, lazy_gettext
from .identities import Identity
from .state import state

log = logging.getLogger(__name__)

TENANT_NAMES = "linked_accounts.connection_names"  # the app's TenantNames, when asked for

# Providers whose name says more than their connection name does. Enterprise connections read
# "Single sign-on (<connection>)"; anything else (custom social, passwordless) is shown by its
# connection name, which is what the tenant's admin chose and the user saw on the login page.
PROVIDER_NAMES: Mapping[str, object] = {
    "auth0": lazy_gettext("Email and password"),
    "google-oauth2": "Google",
    "github": "GitHub",
    "windowslive": "Microsoft",
    "apple": "Apple",
    "facebook": "Facebook",
    "twitter": "X",
    "linkedin": "LinkedIn",
    "gitlab": "GitLab",
    "bitbucket": "Bitbucket",
    "sms": lazy_gettext("Phone number"),
    "email": lazy_gettext("Email code"),
}

ICONS = {
    "auth0": "password.svg",
    "google-oauth2": "google.svg",
    "github": "github.svg",
    "samlp": "enterprise.svg",
    "waad": "enterprise.svg",
    "adfs": "enterprise.svg",
    "oidc": "enterprise.svg",
    "okta": "enterprise.svg",
}


# Enterprise connections: their connection name ("acme-saml") is an administrator's label, so it
# is shown inside words a person knows, unless the host or the tenant names the connection.
SINGLE_SIGN_ON = frozenset(
    {"samlp", "waad", "adfs", "oidc", "okta", "pingfederate", "google-apps", "ad", "office365"}
)


class TenantNames:
    """The connections' display names as the tenant's administrator set them, read with an M2M
    token (`read:connections`) at most once an hour per process: they change with the tenant's
    configuration, not per person, so one read serves everyone. A failed read is logged and
    tried again a few minutes later; meanwhile the names known before (or the built-in ones)
    are used: a name is never a reason for a page to fail."""

    PERIOD = 3600.0
    RETRY = 300.0
    PER_PAGE = 100
    MAX_PAGES = 20  # 2,000 connections: more than any tenant has

    def __init__(self, client: m.ManagementClient, m2m: ClientCredentials) -> None:
        self.client = client
        self.m2m = m2m
        self._lock = threading.Lock()
        self._names: Mapping[str, str] = {}
        self._next_read = 0.0

    def get(self) -> Mapping[str, str]:
        """Return {connection name: display name}, read again when the last read is old."""
        if time.time() < self._next_read or not self._lock.acquire(blocking=False):
            return self._names  # fresh, or another request of this process is reading them
        try:
            self._names = self._read()
            self._next_read = time.time() + self.PERIOD
        except m.ManagementError as exc:
            log.warning("connection display names unavailable: %s status=%s",
                        type(exc).__name__, exc.status)  # fmt: skip
            self._next_read = time.time() + self.RETRY
        finally:
            self._lock.release()
        return self._names

    def _read(self) -> dict[str, str]:
        token = self.m2m.token()
        names: dict[str, str] = {}
        for page in range(self.MAX_PAGES):
            listed = self.client.connections(token, "name,display_name", page, self.PER_PAGE)
            for connection in listed:
                name, shown = connection.get("name"), connection.get("display_name")
                # Unset, Auth0 answers the connection's own name: nothing better is known then.
                if (
                    isinstance(name, str)
                    and isinstance(shown, str)
                    and shown.strip() not in ("", name)
                ):
                    names[name] = shown.strip()
            if len(listed) < self.PER_PAGE:
                break
        return names


def display_name(provider: str, connection: str) -> str:
    """Return the name a person knows this sign-in method by: the host's, the tenant's display
    name, the provider's, and only then the connection's own."""
    custom = state().settings.connection_names.get(connection)
    if custom:
        return custom
    tenant = current_app.extensions.get(TENANT_NAMES)
    shown = tenant.get().get(connection) if tenant is not None else None
    if shown:
        return shown
    name = PROVIDER_NAMES.get(provider)
    if name:
        return str(name)  # str(): translated for this request
    if provider in SINGLE_SIGN_ON:
        return _("Single sign-on (%(connection)s)", connection=connection or provider)
    return connection or provider


def identity_name(identity: Identity) -> str:
    """Return the name a person knows this identity's sign-in method by."""
    return display_name(identity.provider, identity.connection)


def icon_url(provider: str, connection: str) -> str:
    """Return the icon URL: the host's for this connection, else the one shipped locally."""
    custom = state().settings.connection_icons.get(connection)
    if custom:
        return custom
    filename = ICONS.get(provider, "account.svg")
    return url_for("linked_accounts.static", filename=f"icons/{filename}")
