"""Helpers the extension's templates use: names, icons and times."""

from __future__ import annotations

import time

from .blueprint import bp
from .identities import Identity, display_name

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


@bp.app_template_global("identity_name")
def identity_name(identity: Identity) -> str:
    """Return the name a person knows this identity's sign-in method by."""
    return display_name(identity.provider, identity.connection)


@bp.app_template_filter("provider_icon")
def provider_icon(provider: str) -> str:
    """Return the icon file shipped for a provider, or a neutral one."""
    return ICONS.get(provider, "account.svg")


@bp.app_template_filter("la_time")
def la_time(timestamp: float) -> str:
    """Format a Unix time as HH:MM:SS in UTC."""
    return time.strftime("%H:%M:%S", time.gmtime(timestamp))
