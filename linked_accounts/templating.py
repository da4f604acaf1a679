"""What the extension's templates can use: names, icons, times, the outcome, the settings; and
`render`, which draws a page from templates compiled for the request's locale.

Most of a page is the same for everyone who reads it in one language: headings, button labels,
the stylesheet's and the forms' URLs. `render` compiles each template once per locale (and URL
root), with every constant `la_("...")`, `la_locale()` and `url_for('endpoint', name='...')`
already worked out, so a view spends its time on what is really per user: the identities, the
CSRF tokens, the messages. The page is exactly what the plain templates draw (a test compares).

What is per user is often the same from one view to the next: the settings page's content changes
when the list, the messages or the time it was read change, not with every view. `la_part` draws
such a part from the values it is given and nothing else, keeps it, and serves the next view with
the same values (and language and root) from it, with this request's CSRF token filled in.
"""

from __future__ import annotations

import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from collections.abc import Set as AbstractSet
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from babel.dates import format_timedelta
from flask import Flask, current_app, g, render_template, request, url_for
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf
from jinja2 import Environment, Template, TemplateError, meta, nodes, pass_environment
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from markupsafe import Markup, escape

from . import account, i18n, outcomes
from .forms import ActionForm
from .identities import Identity
from .names import display_name, icon_url
from .state import State, state

# Where init_app keeps the LocalizedTemplates in app.extensions.
EXTENSION = "linked_accounts.templates"
# Locales times URL roots a worker keeps compiled templates for; more only costs recompiling.
COMPILED_VARIANTS = 16
# Drawn pages and parts a worker keeps (the most recently used; 4-10 KB each, ~300 KB in all): one
# per list being viewed now, so its next views, from any tab or device, are served from it.
PARTS_KEPT = 32

# The helpers whose answer differs between two requests that give a part the same values: the
# page works each out and gives its answer as the value named here, which the helper returns
# while the part is drawn (so the shared includes call them as on every other page).
GIVEN = {
    "outcome": "la_outcome",
    "flashes": "get_flashed_messages",  # called with_categories=true, as _messages.html does
    "suggestions": "la_link_suggestions",
    "offers_logout": "la_offers_logout",
}
GIVEN_ARGUMENTS = {"get_flashed_messages": {"with_categories": True}}
# What a part may use besides its values and the helpers above: helpers and filters whose answer
# depends only on their arguments, the language, the URL root and the app's configuration (the
# test of every part, in tests/test_templating.py, holds them to this list).
PART_HELPERS = frozenset({
    "la_", "la_n", "la_locale", "url_for", "identity_name", "identity_icon", "la_candidate_icon",
    "la_dev_tenant", "la_provider", "la_app_name", "la_delete_mode", "la_offer_delete",
    "la_home_url", "la_logo_url", "la_base_template", "la_part", "la_csrf_field",
})  # fmt: skip
PART_FILTERS = frozenset({"la_when", "la_breakable", "length"})
# What a kept page may read besides its own values.
ALWAYS_READABLE = PART_HELPERS | frozenset(GIVEN) | frozenset(GIVEN.values())
# What a kept part holds where each of its forms' CSRF fields goes (every request signs its own
# token), and where each value to fill goes (`_slot`): tag-shaped, so no value drawn into the part
# can spell one (each is escaped).
CSRF_SLOT = Markup("<la-csrf-field>")


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
    """Say how long ago `timestamp` was, in the page's language ("2 minutes ago")."""
    return format_timedelta(timestamp - time.time(), add_direction=True, locale=_babel_locale())


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


def _babel_locale() -> str:
    return i18n.html_lang().replace("-", "_")


def render(template: str, **context: Any) -> str:
    """Render one of the extension's pages (Flask's render_template, with its context
    processors and signals) from templates compiled for this request's locale and URL root."""
    templates: LocalizedTemplates = current_app.extensions[EXTENSION]
    return render_template(templates.get(template), **context)


def render_kept(
    template: str, fill: dict[str, Any], context: dict[str, Any] | None = None, **values: Any
) -> str:
    """Render a page from `values` and the GIVEN helpers' answers, keeping it whole (as a part,
    `fill` and CSRF fields filled per view) when its templates, the layout included, read
    nothing else; otherwise as `render` does, with `context` too (what only a host's own
    template might read, such as the signed-in account: never part of a kept page)."""
    templates: LocalizedTemplates = current_app.extensions[EXTENSION]
    return templates.page(template, values, fill, context or {})


def render_plain(template: str | Template, values: dict[str, Any], fill: dict[str, Any]) -> str:
    """Render a page of `render_kept` as written: the helpers' answers and every value in
    place, nothing kept."""
    return render_template(template, **values, **fill, **_answers())


def _answers() -> dict[str, Any]:
    """Each GIVEN helper's answer for this request, under its value's name."""
    helpers = current_app.jinja_env.globals
    return {
        name: helpers[helper](**GIVEN_ARGUMENTS.get(helper, {}))
        for name, helper in GIVEN.items()
        if helper in helpers
    }


def part(template: str, fill: dict[str, Any] | None = None, **values: Any) -> Markup:
    """Draw `template` from `values` (and the app's constants) alone: kept per locale, URL root
    and values, and served from there while they stay the same. Each of `fill` is drawn as a slot
    that every view fills with its own value, escaped (text that changes from view to view, such
    as "2 minutes ago"); so is each CSRF field. The part may read nothing else that differs
    between requests (tests/test_templating.py checks the settings page's)."""
    templates: LocalizedTemplates = current_app.extensions[EXTENSION]
    return templates.part(template, values, fill or {})


def draw_part(template: str | Template, values: dict[str, Any], fill: dict[str, Any]) -> Markup:
    """Draw a part for this request as written, every value in place, keeping nothing."""
    drawn = render_template(template, **values, **fill, **_given(values))
    return Markup(drawn)  # noqa: S704 - drawn by Jinja, which escaped every value


def _draw_with_slots(template: Template, values: dict[str, Any], fill: Iterable[str]) -> Markup:
    """Draw a part (or a whole page) to keep: the given helpers' answers in place, a slot for each
    of `fill` and for each CSRF field; a part within it drawn the same way, to be filled with it."""
    env = template.environment
    slots = {name: _slot(name) for name in fill}
    drawn = render_template(
        template,
        **values,
        **slots,
        **_given(values),
        la_csrf_field=lambda: CSRF_SLOT,
        la_part=lambda name, fill=None, **inner: _draw_with_slots(
            env.get_template(name), inner, fill or {}
        ),
    )
    return Markup(drawn)  # noqa: S704 - drawn by Jinja, which escaped every value


def reads_of(source: str, env: Environment) -> nodes.Template:
    """Parse `source` so that jinja2.meta names every variable it reads: in an environment with
    `env`'s filters and tests but not its globals (which meta leaves out, and which include
    `request` and `session`)."""
    bare = Environment(autoescape=True)  # only parsed, never rendered
    bare.filters.update(env.filters)
    bare.tests.update(env.tests)
    return bare.parse(source)


def _filled(drawn: Markup, fill: dict[str, Any]) -> Markup:
    """A kept part with this view's values in its slots, and its CSRF field in each form."""
    text = str(drawn)  # plain str.replace: Markup's would escape what it is given again
    for name, value in fill.items():
        text = text.replace(_slot(name), escape(value))
    if CSRF_SLOT in text:
        text = text.replace(CSRF_SLOT, csrf_field())
    return Markup(text)  # noqa: S704 - kept markup, with escaped values and our own fields


@lru_cache(maxsize=64)
def _slot(name: str) -> Markup:
    return Markup("<la-slot-%s>") % name


def _given(values: dict[str, Any]) -> dict[str, Callable[..., Any]]:
    """The helpers named in GIVEN, each answering the value the page gave for it."""
    return {helper: _answering(values[name]) for name, helper in GIVEN.items() if name in values}


def _answering(value: Any) -> Callable[..., Any]:
    return lambda *args, **kwargs: value


class LocalizedTemplates:
    """The app's templates compiled once per locale and URL root, in overlays of its Jinja
    environment (the same loader, globals and filters; compiled templates of their own)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._environment = lru_cache(maxsize=COMPILED_VARIANTS)(self._overlay)
        self._parts: OrderedDict[Any, Markup] = OrderedDict()
        self._parts_lock = threading.Lock()  # a gthread worker's threads share the parts
        self._reads: dict[tuple[str, str], frozenset[str] | None] = {}  # see reads

    def get(self, name: str) -> Template:
        return self._environment(*self._variant()).get_template(name)

    @property
    def parts_kept(self) -> int:
        """How many drawn parts this worker keeps now."""
        return len(self._parts)

    def page(
        self, name: str, values: dict[str, Any], fill: dict[str, Any], context: dict[str, Any]
    ) -> str:
        """The page `name` for this request (see `render_kept`)."""
        variant = self._variant()
        template = self._environment(*variant).get_template(name)
        if variant[1] is not None and self._reads_only(name, values.keys() | fill.keys()):
            return self._kept(variant, template, name, {**values, **_answers()}, fill)
        return render_plain(template, {**context, **values}, fill)

    def part(self, name: str, values: dict[str, Any], fill: dict[str, Any]) -> Markup:
        """The part `name` drawn from `values` for this request, with `fill` (see `part`)."""
        variant = self._variant()
        template = self._environment(*variant).get_template(name)
        if variant[1] is None:  # its URLs may differ from one request to the next: draw each time
            return draw_part(template, values, fill)
        return self._kept(variant, template, name, values, fill)

    def _kept(
        self,
        variant: tuple[str, str | None],
        template: Template,
        name: str,
        values: dict[str, Any],
        fill: dict[str, Any],
    ) -> Markup:
        try:
            # Equal pickles are equal values (of the same types: Markup is not a str here), so a
            # kept part is only ever served for values that draw it exactly; a value pickle
            # cannot take is drawn every time.
            frozen = pickle.dumps(values, pickle.HIGHEST_PROTOCOL)
            key = (variant, name, tuple(sorted(fill)), frozen)
        except (pickle.PicklingError, TypeError, AttributeError):
            return draw_part(template, values, fill)
        with self._parts_lock:
            drawn = self._parts.get(key)
            if drawn is not None:
                self._parts.move_to_end(key)
        if drawn is None:
            drawn = _draw_with_slots(template, values, fill)
            with self._parts_lock:
                self._parts[key] = drawn
                if len(self._parts) > PARTS_KEPT:
                    self._parts.popitem(last=False)
        return _filled(drawn, fill)

    def _reads_only(self, name: str, names: AbstractSet[str]) -> bool:
        """Tell whether template `name`, and every template it extends, includes or draws as a
        part (the layout LINKED_ACCOUNTS_BASE_TEMPLATE names among them), reads nothing but
        `names`, the pure helpers and filters (PART_HELPERS, PART_FILTERS) and the given
        helpers. A template named at render time otherwise cannot be told, and counts as no."""
        reads = self.reads(name)
        return reads is not None and all(read in names for read in reads)

    def reads(self, name: str) -> frozenset[str] | None:
        """What template `name` and what it draws read besides ALWAYS_READABLE (see
        `_reads_only`), worked out once (in a pre-forking server's master, by `warm`); None if
        that cannot be told."""
        key = (name, self.app.config["LINKED_ACCOUNTS_BASE_TEMPLATE"])  # the layout as it is now
        if key not in self._reads:
            found = self._work_out_reads(name)
            self._reads[key] = None if found is None else found - ALWAYS_READABLE
        return self._reads[key]

    def _work_out_reads(self, name: str) -> frozenset[str] | None:
        env = self.app.jinja_env
        found: set[str] = set()
        seen: set[str] = set()
        todo = [name]
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            try:
                tree = reads_of(env.loader.get_source(env, current)[0], env)  # type: ignore[union-attr]
                found |= meta.find_undeclared_variables(tree)
            except TemplateError:  # missing, or unknown to this app: it will fail when drawn
                return None
            if not {node.name for node in tree.find_all(nodes.Filter)} <= PART_FILTERS:
                return None
            for node in tree.find_all((nodes.Extends, nodes.Include, nodes.Import)):
                named = self._template_named(node.template)
                if named is None:
                    return None
                todo.append(named)
            for call in tree.find_all(nodes.Call):
                if isinstance(call.node, nodes.Name) and call.node.name == "la_part":
                    named = self._template_named(call.args[0]) if call.args else None
                    if named is None:
                        return None
                    todo.append(named)
        return frozenset(found)

    def _template_named(self, node: nodes.Node) -> str | None:
        if isinstance(node, nodes.Const) and isinstance(node.value, str):
            return node.value
        if isinstance(node, nodes.Name) and node.name == "la_base_template":
            return str(self.app.config["LINKED_ACCOUNTS_BASE_TEMPLATE"])
        return None

    def _variant(self) -> tuple[str, str | None]:
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
        for name in names:
            self.reads(name)

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
    app.add_template_global(part, "la_part")
    app.add_template_global(i18n.provider_name, "la_provider")  # only other_account.html says it
    app.add_template_filter(la_ago)
    app.add_template_filter(la_when)
    app.add_template_filter(la_breakable)
    app.extensions[EXTENSION] = LocalizedTemplates(app)

    @app.context_processor
    def linked_accounts_context() -> dict[str, Any]:
        return {
            "la_base_template": app.config["LINKED_ACCOUNTS_BASE_TEMPLATE"],
            "la_app_name": app.config["LINKED_ACCOUNTS_APP_NAME"],
            "la_home_url": app.config["LINKED_ACCOUNTS_HOME_URL"],
            "la_logo_url": app.config["LINKED_ACCOUNTS_LOGO_URL"],
            "la_dev_tenant": st.settings.dev_tenant,
            "la_delete_mode": st.settings.delete_separated_mode,
            "la_offer_delete": st.settings.offer_delete_separated,
        }
