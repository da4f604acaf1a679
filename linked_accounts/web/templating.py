"""What the extension's templates can use: names, icons, times, the outcome, the settings; and
`render`, which draws a page for the request it answers.

Every page is rendered per request from the templates as they are (the host's layout and
overrides included) by Flask's `render_template`: nothing drawn is kept between requests, so no
template, the host's or ours, has a rule to respect for a page to stay right.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from babel import Locale
from babel.dates import format_timedelta
from flask import Flask, current_app, g, render_template
from flask_wtf.csrf import generate_csrf
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from .. import i18n, outcomes
from ..identities import Identity
from ..names import display_name, icon_url
from ..settings import DEFAULTS
from ..signin import account
from ..state import State, state
from .forms import ActionForm


def identity_name(identity: Identity) -> str:
    """Return the name a person knows this identity's sign-in method by (`names.identity_name`)."""
    return display_name(identity.provider, identity.connection)


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


def la_ago(timestamp: float) -> str:
    """Say how long ago `timestamp` was, in the page's language ("2 minutes ago"), to the second
    (a moment less than one is one: "1 second ago", as Babel says it)."""
    delta = timestamp - time.time()
    seconds = round(delta) or (1 if delta > 0 else -1 if delta < 0 else 0)
    return _ago(_babel_locale(), seconds)


@lru_cache(maxsize=256)  # the same words for every page read that many seconds ago, in a language
def _ago(locale: Locale, seconds: int) -> str:
    return format_timedelta(seconds, add_direction=True, locale=locale)


def la_when(timestamp: float) -> Markup:
    """A `<time>` element holding the exact time: HH:MM UTC as drawn, which the page's script
    (linked-accounts.js) rewrites in the reader's own time zone and language."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return Markup('<time class="la-when" datetime="%s">%s UTC</time>') % (
        moment.isoformat(timespec="seconds").replace("+00:00", "Z"),
        moment.strftime("%H:%M"),
    )


def la_breakable(text: str) -> Markup:
    """`text` (an email address, a domain) allowed to wrap only after its `@` and dots."""
    escaped = str(Markup.escape(text))  # a plain str: Markup.replace would escape the <wbr>
    return Markup(escaped.replace("@", "@<wbr>").replace(".", ".<wbr>"))  # noqa: S704


def la_unbroken(text: str) -> Markup:
    """`text` (an email address in a heading) kept on one line: it moves to the next line whole
    and the stylesheet shrinks it to the heading's width. One too long to fit even so may wrap
    (`la-unbroken--long`), so a phone never scrolls sideways."""
    long = " la-unbroken--long" if len(text) > UNBROKEN_MAX else ""
    return Markup('<span class="la-unbroken%s">%s</span>') % (long, text)


# The longest address the stylesheet's shrinking fits on a phone's line (at 4.5% of the heading's
# width a character is about 2.5%): a longer one may wrap rather than overflow.
UNBROKEN_MAX = 36


def _babel_locale() -> Locale:
    return _locale(i18n.html_lang())


@lru_cache(maxsize=32)  # one per language shown: Babel would parse the tag again on every call
def _locale(tag: str) -> Locale:
    return Locale.parse(tag.replace("-", "_"))


def render(template: str, **context: Any) -> str:
    """Render one of the extension's pages for this request: Flask's render_template, with its
    context processors and signals, whatever the host's layout and overrides read."""
    return render_template(template, **context)


@pass_context
def la_part(context: Context, name: str, fill: dict[str, Any] | None = None, **values: Any):
    """Draw template `name` into a page, as `{% include %}` does (the page's context, a host's
    override of it found first), with `values` and `fill` added: drawn for this request, kept
    nowhere."""
    template = context.environment.get_template(name)
    return Markup(template.render({**context.get_all(), **(fill or {}), **values}))  # noqa: S704


def warm(app: Flask) -> None:
    """Load what a page needs in each configured language, its catalog and Babel's data for
    "2 minutes ago", now: called in a pre-forking server's master (see gunicorn.conf.py), so that
    the workers share them instead of each loading its own on its first views."""
    for locale in app.config["LINKED_ACCOUNTS_LOCALES"]:
        with app.test_request_context("/", headers={"Accept-Language": locale}):
            i18n.domain.get_translations()
            la_ago(time.time())


def shows_flashes(app: Flask) -> bool:
    """Tell whether the pages draw the flashed messages themselves: when asked to, or when they
    are drawn in their own layout (no host layout to show them)."""
    own_layout = (
        app.config["LINKED_ACCOUNTS_BASE_TEMPLATE"] == DEFAULTS["LINKED_ACCOUNTS_BASE_TEMPLATE"]
    )
    return bool(app.config["LINKED_ACCOUNTS_SHOW_FLASHES"]) or own_layout


def init_app(app: Flask, st: State) -> None:
    """Give templates the helpers and the host's choices (layout, name, logo)."""
    app.add_template_global(identity_name)
    app.add_template_global(identity_icon)
    app.add_template_global(outcomes.current, "la_outcome")
    app.add_template_global(offers_logout, "la_offers_logout")
    app.add_template_global(ActionForm, "la_action_form")  # a CSRF token alone, e.g. Log out
    app.add_template_global(csrf_field, "la_csrf_field")  # the same, without building a form
    app.add_template_filter(la_ago)
    app.add_template_filter(la_when)
    app.add_template_filter(la_breakable)
    app.add_template_filter(la_unbroken)
    app.add_template_global(la_part)

    @app.context_processor
    def linked_accounts_context() -> dict[str, Any]:
        return {
            "la_base_template": app.config["LINKED_ACCOUNTS_BASE_TEMPLATE"],
            "la_show_flashes": shows_flashes(app),
            "la_app_name": app.config["LINKED_ACCOUNTS_APP_NAME"],
            "la_provider": i18n.provider_name(),
            "la_home_url": app.config["LINKED_ACCOUNTS_HOME_URL"],
            "la_logo_url": app.config["LINKED_ACCOUNTS_LOGO_URL"],
            "la_support_url": st.settings.support_url,
            "la_dev_tenant": st.settings.dev_tenant,
            "la_delete_mode": st.settings.delete_separated_mode,
            "la_offer_delete": st.settings.offer_delete_separated,
        }
