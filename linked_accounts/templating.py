"""Helpers the extension's templates use: names, icons and times."""

from __future__ import annotations

import time

from flask import url_for

from . import account, outcomes
from .blueprint import bp
from .forms import ActionForm
from .identities import Identity
from .operations import name_of
from .state import state

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
    return name_of(identity)


@bp.app_template_global("identity_icon")
def identity_icon(identity: Identity) -> str:
    """Return the icon URL: the host's for this connection, else the one shipped locally."""
    custom = state().settings.connection_icons.get(identity.connection)
    if custom:
        return custom
    filename = ICONS.get(identity.provider, "account.svg")
    return url_for("linked_accounts.static", filename=f"icons/{filename}")


@bp.app_template_global("la_outcome")
def outcome() -> tuple[str, str] | None:
    """Return the outcome of the form post that led to this page, if any."""
    return outcomes.current()


@bp.app_template_global("la_signed_in")
def signed_in() -> bool:
    """Tell whether someone is signed in (to offer Log out)."""
    return account.current() is not None


@bp.app_template_global("la_action_form")
def action_form() -> ActionForm:
    """Return a form that carries just a CSRF token, for buttons such as Log out."""
    return ActionForm()


@bp.app_template_filter("la_time")
def la_time(timestamp: float) -> str:
    """Format a Unix time as HH:MM:SS in UTC."""
    return time.strftime("%H:%M:%S", time.gmtime(timestamp))
