"""What the extension's templates can use: names, icons, times, the outcome, the settings."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, current_app, g
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from . import account, outcomes
from .forms import ActionForm
from .identities import Identity
from .names import icon_url, identity_name
from .state import State, state


def identity_icon(identity: Identity) -> str:
    """Return the URL of the icon for this identity's sign-in method."""
    return icon_url(identity.provider, identity.connection)


def offers_logout() -> bool:
    """Tell whether to offer the extension's own Log out: someone is signed in, and the
    extension owns sign-in (as a host's guest, the host offers its own)."""
    return not state().host_signs_in and account.current() is not None


def csrf_field() -> Markup:
    """The hidden CSRF input of a form that needs nothing else (refresh, link, log out).

    The same token and field name a FlaskForm renders, without building a form and rendering its
    field through WTForms for each button: that was a large part of a cached view's time.
    """
    field = g.get("_la_csrf_field")
    if field is None:  # one token per request (generate_csrf keeps it too): build the tag once
        name = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
        field = Markup('<input type="hidden" name="%s" value="%s">') % (name, generate_csrf())
        g._la_csrf_field = field
    return field


def la_time(timestamp: float) -> str:
    """Format a Unix time as HH:MM:SS in UTC."""
    return time.strftime("%H:%M:%S", time.gmtime(timestamp))


def init_app(app: Flask, st: State) -> None:
    """Give templates the helpers and the host's choices (layout, name, logo)."""
    app.add_template_global(identity_name)
    app.add_template_global(identity_icon)
    app.add_template_global(outcomes.current, "la_outcome")
    app.add_template_global(offers_logout, "la_offers_logout")
    app.add_template_global(ActionForm, "la_action_form")  # a CSRF token alone, e.g. Log out
    app.add_template_global(csrf_field, "la_csrf_field")  # the same, without building a form
    app.add_template_filter(la_time)

    @app.context_processor
    def linked_accounts_context() -> dict[str, Any]:
        return {
            "la_base_template": app.config["LINKED_ACCOUNTS_BASE_TEMPLATE"],
            "la_app_name": app.config["LINKED_ACCOUNTS_APP_NAME"],
            "la_logo_url": app.config["LINKED_ACCOUNTS_LOGO_URL"],
            "la_dev_tenant": st.settings.dev_tenant,
            "la_delete_mode": st.settings.delete_separated_mode,
            "la_offer_delete": st.settings.offer_delete_separated,
        }
