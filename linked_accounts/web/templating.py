"""What the extension's templates can use: names, icons, times, the outcome, the settings; and
`render`, which draws a page from templates compiled for the request's locale.

Most of a page is the same for everyone who reads it in one language: headings, button labels,
the stylesheet's and the forms' URLs. `render` compiles each template once per locale (and URL
root), with every constant `la_("...")`, `la_locale()` and `url_for('endpoint', name='...')`
already worked out, so a view spends its time on what is really per user: the identities, the
CSRF tokens, the messages. The page is exactly what the plain templates draw (a test compares).

What is per user but the same from one view to the next is kept by `kept`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from babel import Locale
from babel.dates import format_timedelta
from flask import Flask, current_app, g, render_template, request, url_for
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf
from jinja2 import Environment, Template, pass_environment
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from markupsafe import Markup

from .. import i18n, outcomes
from ..identities import Identity
from ..names import display_name, icon_url
from ..signin import account
from ..state import State, state
from .forms import ActionForm

# Where init_app keeps the LocalizedTemplates in app.extensions.
EXTENSION = "linked_accounts.templates"
# Locales times URL roots a worker keeps compiled templates for; more only costs recompiling.
COMPILED_VARIANTS = 16


@pass_environment
def identity_name(env: Environment, identity: Identity) -> str:
    """Return the name a person knows this identity's sign-in method by (`names.identity_name`,
    kept per compiled variant)."""
    return _per_variant(env, "names", display_name, identity.provider, identity.connection)


@pass_environment
def identity_icon(env: Environment, identity: Identity) -> str:
    """Return the URL of the icon for this identity's sign-in method."""
    return _per_variant(env, "icons", icon_url, identity.provider, identity.connection)


def _per_variant(env: Environment, kind: str, work: Callable[[str, str], str], *key: str) -> str:
    """`work(*key)`, kept by templates compiled for one locale and root (where names and icon URLs
    cannot change) for the next page; worked out every time elsewhere."""
    folding = env.extensions.get(Folding.identifier)
    if not isinstance(folding, Folding) or not folding.fold_urls:
        return work(*key)
    known = folding.known[kind]
    if key not in known:
        known[key] = work(*key)  # a few entries: one per sign-in method the tenant has
    return known[key]


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


def _babel_locale() -> Locale:
    return _locale(i18n.html_lang())


@lru_cache(maxsize=32)  # one per language shown: Babel would parse the tag again on every call
def _locale(tag: str) -> Locale:
    return Locale.parse(tag.replace("-", "_"))


def render(template: str, **context: Any) -> str:
    """Render one of the extension's pages (Flask's render_template, with its context
    processors and signals) from templates compiled for this request's locale and URL root."""
    templates: LocalizedTemplates = current_app.extensions[EXTENSION]
    return render_template(templates.get(template), **context)


class LocalizedTemplates:
    """The app's templates compiled once per locale and URL root, in overlays of its Jinja
    environment (the same loader, globals and filters; compiled templates of their own)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._environment = lru_cache(maxsize=COMPILED_VARIANTS)(self._overlay)

    def get(self, name: str) -> Template:
        return self.environment(self.variant()).get_template(name)

    def environment(self, variant: tuple[str, str | None]) -> Environment:
        """The Jinja environment compiling templates for `variant` (see `variant`)."""
        return self._environment(*variant)

    def variant(self) -> tuple[str, str | None]:
        """This request's locale, and its URL root where URLs can be worked out in advance."""
        if "_la_variant" not in g:  # a page and its parts: worked out once per request
            g._la_variant = self._work_out_variant()
        return g._la_variant

    def _work_out_variant(self) -> tuple[str, str | None]:
        locale = get_locale()
        # URLs are worked out once only where they are the same for every request under one root:
        # no SERVER_NAME, host or subdomain matching, nor url_defaults that might fill a value in.
        app = self.app
        urls_fixed = not (
            app.config.get("SERVER_NAME")
            or app.url_map.host_matching
            or app.subdomain_matching
            or any(app.url_default_functions.values())
        )
        return str(locale) if locale else "", request.script_root if urls_fixed else None

    def warm(self) -> None:
        """Compile the extension's pages for every configured locale (at the app's root), and
        load each locale's date data, now: called in a pre-forking server's master (see
        gunicorn.conf.py), so that the workers share them instead of each building its own on
        its first views."""
        names = self.app.jinja_env.list_templates(
            filter_func=lambda name: name.startswith("linked_accounts/") and name.endswith(".html")
        )
        for locale in self.app.config["LINKED_ACCOUNTS_LOCALES"]:
            with self.app.test_request_context("/", headers={"Accept-Language": locale}):
                for name in names:
                    self.get(name)
                la_ago(time.time())

    def _overlay(self, locale: str, root: str | None) -> Environment:
        env = self.app.jinja_env.overlay(extensions=[Folding], cache_size=100)
        folding = env.extensions[Folding.identifier]
        assert isinstance(folding, Folding)
        folding.catalog = i18n.domain.get_translations()  # this request's, i.e. `locale`'s
        folding.html_lang = i18n.html_lang()
        folding.fold_urls = root is not None
        return env


class Folding(Extension):
    """Work out, while a template compiles, what is the same on every page of one locale and URL
    root: `la_("...")` becomes its translation (still trusted markup, its variables still
    escaped when the page is drawn), `la_locale()` the language tag, and `url_for` of string
    arguments only (no `_external` and the like) the URL. Anything else is left as written.

    A token filter: the templates keep calling `la_`, so extraction and overriding stay as they
    are, and a template without such calls compiles as it would without this.
    """

    catalog: Any = None
    html_lang = i18n.SOURCE_LOCALE
    fold_urls = False

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.known: dict[str, dict[tuple[str, ...], str]] = {"names": {}, "icons": {}}

    def filter_stream(self, stream: TokenStream) -> Iterable[Token]:
        return self._fold(list(stream))

    def _fold(self, tokens: list[Token]) -> Iterator[Token]:
        i = 0
        while i < len(tokens):
            folded = self._fold_call(tokens, i)
            if folded is None:
                yield tokens[i]
                i += 1
            else:
                replacement, i = folded
                yield from replacement

    def _fold_call(self, tokens: list[Token], i: int) -> tuple[list[Token], int] | None:
        """The tokens replacing the call starting at `i`, and where the call ends; or None."""
        token = tokens[i]
        if token.type != "name" or not _is(tokens, i + 1, "lparen"):
            return None
        if i and tokens[i - 1].type == "dot":
            return None  # something.la_(...): not ours
        end = _closing(tokens, i + 1)
        if end is None:
            return None
        args = _arguments(tokens[i + 2 : end])
        if args is None:
            return None
        positional, keywords = args
        line = token.lineno
        if token.value == "la_" and len(positional) == 1 and self.catalog is not None:
            message = positional[0]
            if len(message) != 1 or message[0].type != "string":
                return None
            text = _string(line, self.catalog.ugettext(message[0].value))
            safe = [_tok(line, "lparen", "("), text, _tok(line, "pipe", "|"),
                    _tok(line, "name", "safe"), _tok(line, "rparen", ")")]  # fmt: skip
            if not keywords:
                return safe, end + 1
            # Markup % {...} escapes each variable, as la_ does when the page is drawn.
            mapping = [_tok(line, "lbrace", "{")]
            for name, value in keywords:
                mapping += [_string(line, name), _tok(line, "colon", ":"), *value]
                mapping.append(_tok(line, "comma", ","))
            mapping.append(_tok(line, "rbrace", "}"))
            wrapped = [_tok(line, "lparen", "("), *safe, _tok(line, "mod", "%"), *mapping,
                       _tok(line, "rparen", ")")]  # fmt: skip
            return wrapped, end + 1
        if token.value == "la_locale" and not positional and not keywords:
            return [_string(line, self.html_lang)], end + 1
        if token.value == "url_for" and self.fold_urls and len(positional) == 1:
            return self._fold_url(line, positional[0], keywords, end)
        return None

    def _fold_url(self, line: int, endpoint: list[Token], keywords, end: int):
        constant = [endpoint] + [value for _, value in keywords]
        if any(len(v) != 1 or v[0].type != "string" for v in constant):
            return None
        if any(name.startswith("_") for name, _ in keywords):
            return None  # _external, _scheme, _anchor, _method: leave to url_for at render time
        try:
            url = url_for(endpoint[0].value, **{name: v[0].value for name, v in keywords})
        except Exception:  # noqa: BLE001 - an unbuildable URL fails where it always did: at render
            return None
        return [_string(line, url)], end + 1


def _tok(line: int, kind: str, value: str) -> Token:
    return Token(line, kind, value)


def _string(line: int, value: str) -> Token:
    return Token(line, "string", value)


def _is(tokens: list[Token], i: int, kind: str) -> bool:
    return i < len(tokens) and tokens[i].type == kind


OPENING = {"lparen", "lbracket", "lbrace"}
CLOSING = {"rparen", "rbracket", "rbrace"}


def _closing(tokens: list[Token], opening: int) -> int | None:
    """The index of the bracket closing the one at `opening`, if the expression has it."""
    depth = 0
    for i in range(opening, len(tokens)):
        kind = tokens[i].type
        if kind in OPENING:
            depth += 1
        elif kind in CLOSING:
            depth -= 1
            if depth == 0:
                return i
        elif kind in ("variable_end", "block_end"):
            return None
    return None


def _arguments(tokens: list[Token]):
    """Split a call's arguments into positional and keyword ones (name, value tokens); None for
    anything else (*args, **kwargs)."""
    parts: list[list[Token]] = [[]]
    depth = 0
    for token in tokens:
        if token.type in OPENING:
            depth += 1
        elif token.type in CLOSING:
            depth -= 1
        if token.type == "comma" and depth == 0:
            parts.append([])
        else:
            parts[-1].append(token)
    if not parts[-1]:
        parts.pop()  # no arguments, or a trailing comma
    positional: list[list[Token]] = []
    keywords: list[tuple[str, list[Token]]] = []
    for part in parts:
        if not part or part[0].type in ("mul", "pow"):
            return None
        if len(part) > 2 and part[0].type == "name" and part[1].type == "assign":
            keywords.append((part[0].value, part[2:]))
        elif keywords:
            return None  # a positional argument after a keyword one
        else:
            positional.append(part)
    return positional, keywords


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
    app.extensions[EXTENSION] = LocalizedTemplates(app)

    @app.context_processor
    def linked_accounts_context() -> dict[str, Any]:
        return {
            "la_base_template": app.config["LINKED_ACCOUNTS_BASE_TEMPLATE"],
            "la_app_name": app.config["LINKED_ACCOUNTS_APP_NAME"],
            "la_provider": i18n.provider_name(),
            "la_home_url": app.config["LINKED_ACCOUNTS_HOME_URL"],
            "la_logo_url": app.config["LINKED_ACCOUNTS_LOGO_URL"],
            "la_dev_tenant": st.settings.dev_tenant,
            "la_delete_mode": st.settings.delete_separated_mode,
            "la_offer_delete": st.settings.offer_delete_separated,
        }
