"""Translations: every string the user sees goes through the `linked_accounts` gettext domain.

The catalogs ship in `translations/` (English is the source language; German, French, Spanish and
Arabic are complete). The domain is our own, so the extension works in a host with its own
Flask-Babel (and catalogs) or with none:
- a host without Flask-Babel: `init_app` creates one whose locale comes from `Accept-Language`,
  among LINKED_ACCOUNTS_LOCALES (default: every shipped catalog); LINKED_ACCOUNTS_LOCALE_SELECTOR (a
  callable returning a locale or None) overrides that choice, e.g. from the user's profile;
- a host that already runs Flask-Babel (created before the extension): its own locale_selector
  decides, and LINKED_ACCOUNTS_LOCALES / LINKED_ACCOUNTS_LOCALE_SELECTOR are not used.

Templates call `la_("...", name=...)` and `la_n(singular, plural, n)`: the message is trusted
markup from our catalog, the variables are escaped. `la_locale()` gives `<html lang>` and
`la_dir()` its `dir` ("rtl" for Arabic).

In a right-to-left language every variable but a number is set in Unicode's isolates (FSI ... PDI,
what `<bdi>` is in plain text), in templates and in Python alike: an email address, a name or a
time keeps its own direction and cannot pull the punctuation around it into it. They work where
a tag cannot: in attributes (aria-label), flash messages, the JSON API and the security email.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from babel import Locale
from flask import Flask, current_app, has_app_context, request
from flask_babel import Babel, Domain, get_locale
from markupsafe import Markup
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

TRANSLATIONS = Path(__file__).parent / "translations"
SOURCE_LOCALE = "en"

# Unicode's FIRST STRONG ISOLATE and POP DIRECTIONAL ISOLATE: <bdi>, in plain text.
FSI, PDI = "\u2068", "\u2069"


class _IsolatingDomain(Domain):
    """Flask-Babel's domain, with each variable isolated in a right-to-left language."""

    def gettext(self, string: str, **variables: Any) -> str:
        text = self.get_translations().ugettext(string)
        return text % isolated(variables, text) if variables else text

    def ngettext(self, singular: str, plural: str, num: int, **variables: Any) -> str:
        text = self.get_translations().ungettext(singular, plural, num)
        return text % {"num": num, **isolated(variables, text)}


domain = _IsolatingDomain(translation_directories=str(TRANSLATIONS), domain="linked_accounts")
_ = domain.gettext
gettext = domain.gettext
ngettext = domain.ngettext
lazy_gettext = domain.lazy_gettext

# What end users are told they sign in at, unless the host names it: a phrase that reads after
# a preposition ("at ...", German "bei ..."), as every message that uses it puts it.
DEFAULT_PROVIDER_NAME = lazy_gettext("your sign-in service")


def init_app(app: Flask) -> None:
    """Make sure the app chooses a locale, and give templates the translation helpers."""
    # Its config keys (LINKED_ACCOUNTS_LOCALES, _APP_NAME, ...) are defaulted with the others.
    if "babel" not in app.extensions:
        Babel(app, locale_selector=select_locale, configure_jinja=False)
    app.add_template_global(template_gettext, "la_")
    app.add_template_global(template_ngettext, "la_n")
    app.add_template_global(html_lang, "la_locale")
    app.add_template_global(html_dir, "la_dir")
    app.context_processor(_catalog_for_this_page)


def _catalog_for_this_page() -> dict[str, Any]:
    """Bind la_ and la_n to the catalog once per rendered page, not once per message: a page has
    dozens, and Flask-Babel's lookup was a large part of a cached view's time. Looked up at the
    first message, not before: a page without one (a redirect's, an error in JSON) never pays
    for it. (The globals above remain for templates rendered without context processors.)"""
    found: list[Any] = []

    def catalog() -> Any:
        if not found:
            found.append(domain.get_translations())
        return found[0]

    return {
        "la_": lambda message, **variables: _translate(catalog(), message, variables),
        "la_n": lambda singular, plural, num, **variables: _translate_n(
            catalog(), singular, plural, num, variables
        ),
    }


def provider_name() -> str:
    """Return what end users are told they sign in at (LINKED_ACCOUNTS_PROVIDER_NAME), in this
    request's language: never the vendor's name unless the host chose it."""
    chosen = current_app.config.get("LINKED_ACCOUNTS_PROVIDER_NAME") if has_app_context() else None
    return str(chosen or DEFAULT_PROVIDER_NAME)


def select_locale() -> str | Locale | None:
    """Return the host's choice (LINKED_ACCOUNTS_LOCALE_SELECTOR), else Accept-Language's best."""
    chosen = current_app.config.get("LINKED_ACCOUNTS_LOCALE_SELECTOR")
    if callable(chosen):
        locale = chosen()
        if locale:
            return str(locale)
    offered = tuple(current_app.config["LINKED_ACCOUNTS_LOCALES"])
    # Read from the WSGI environ: the request's header object is built only if something asks.
    return _best_match(request.environ.get("HTTP_ACCEPT_LANGUAGE", ""), offered)


@lru_cache(maxsize=256)  # a browser sends the same header on every request: parsed once
def _best_match(header: str, offered: tuple[str, ...]) -> Locale | None:
    # A Locale, not its tag: Flask-Babel takes it as it is instead of parsing the tag again.
    best = parse_accept_header(header, LanguageAccept).best_match(offered)
    return Locale.parse(best) if best else None


def template_gettext(message: str, **variables: Any) -> Markup:
    """Translate `message` for a template; the variables are escaped, the message is not."""
    return _translate(domain.get_translations(), message, variables)


def template_ngettext(singular: str, plural: str, num: int, **variables: Any) -> Markup:
    """Translate a message with a count (`%(num)d`) for a template."""
    return _translate_n(domain.get_translations(), singular, plural, num, variables)


def _translate(catalog: Any, message: str, variables: dict[str, Any]) -> Markup:
    # Our own catalog is trusted markup (it may hold <strong>); Markup's % escapes the variables.
    text = Markup(catalog.ugettext(message))  # noqa: S704
    return text % isolated(variables, text) if variables else text


def _translate_n(
    catalog: Any, singular: str, plural: str, num: int, variables: dict[str, Any]
) -> Markup:
    text = Markup(catalog.ungettext(singular, plural, num))  # noqa: S704
    return text % {"num": num, **isolated(variables, text)}


def isolated(variables: dict[str, Any], message: str) -> dict[str, Any]:
    """Return `variables` for `message` in this request's language: in a right-to-left one, each
    one that is read as text between FSI and PDI (Markup stays Markup, so it is not escaped
    again). A number needs none; a value inside a tag (`<a href="%(url)s">`) is no text."""
    if not variables or html_dir() != "rtl":
        return variables
    in_tags = set(_IN_TAG.findall(message))
    return {
        name: value
        if isinstance(value, int | float) or name in in_tags
        else FSI + _text(value) + PDI
        for name, value in variables.items()
    }


_IN_TAG = re.compile(r"<[^>]*?%\((\w+)\)[sd]")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)  # a lazy string, read now


def html_lang() -> str:
    """Return the language our text is shown in, as a BCP 47 tag for `<html lang>`."""
    locale = get_locale()
    if locale is None or not _has_catalog(locale.language):
        return SOURCE_LOCALE
    return "-".join(part for part in (locale.language, locale.territory) if part)


def html_dir() -> str:
    """Return the direction our text is written in, for `<html dir>`: "rtl" or "ltr"."""
    return _direction(html_lang())


@cache  # the shipped catalogs do not change while the app runs
def _has_catalog(language: str) -> bool:
    return language == SOURCE_LOCALE or (TRANSLATIONS / language).is_dir()


@cache  # one answer per language shown
def _direction(tag: str) -> str:
    order = Locale.parse(tag.replace("-", "_")).character_order
    return "rtl" if order == "right-to-left" else "ltr"


def shipped_locales() -> tuple[str, ...]:
    """Return the language of every catalog that ships, the source language first."""
    found = sorted(p.parent.parent.name for p in TRANSLATIONS.glob("*/LC_MESSAGES/*.mo"))
    return (SOURCE_LOCALE, *found)
