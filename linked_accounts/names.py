"""What to call a sign-in method, and which icon to draw: the host's choice first, always.

Every page, message, email and JSON answer names a connection through `display_name` (an
identity through `identity_name`), so a host's own names (`LINKED_ACCOUNTS_CONNECTIONS`, e.g.
"Acme SSO") hold everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import url_for

from .i18n import _, lazy_gettext
from .identities import Identity
from .state import state

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
# is shown inside words a person knows, unless the host names the connection.
SINGLE_SIGN_ON = frozenset(
    {"samlp", "waad", "adfs", "oidc", "okta", "pingfederate", "google-apps", "ad", "office365"}
)


def display_name(provider: str, connection: str) -> str:
    """Return the name a person knows this sign-in method by, honouring the host's names."""
    custom = state().settings.connection_names.get(connection)
    if custom:
        return custom
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
