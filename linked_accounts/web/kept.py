"""Pages and parts drawn once for their values and kept: a view of an unchanged list draws nothing.

What is per user is mostly the same from one view to the next: the settings page changes when the
list, the messages or the time it was read change, not with every view. `render_kept` draws such
a page from the values its view gives it, and `la_part` a part of one (the settings page's content,
`_accounts.html`), from those values and nothing else; each is kept per locale, URL root and values
and serves the next view with the same ones, filled in with that request's CSRF tokens and
"2 minutes ago". A page is kept whole only when every template it draws, the host's layout
included, reads nothing but its values (checked once with `jinja2.meta`); otherwise the layout is
drawn on every view around the kept content. The output is exactly what the templates draw (a
test compares).
"""

from __future__ import annotations

import pickle
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from functools import lru_cache
from typing import Any

from flask import Flask, current_app, render_template
from jinja2 import Environment, Template, TemplateError, meta, nodes
from markupsafe import Markup, escape

from .templating import EXTENSION as TEMPLATES
from .templating import LocalizedTemplates, csrf_field

# Where init_app keeps the KeptPages in app.extensions.
EXTENSION = "linked_accounts.kept"
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
# test of the settings page's content, in tests/test_kept.py, holds it to this list).
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


def render_kept(
    template: str, fill: dict[str, Any], context: dict[str, Any] | None = None, **values: Any
) -> str:
    """Render a page from `values` and the GIVEN helpers' answers, keeping it whole (as a part,
    `fill` and CSRF fields filled per view) when its templates, the layout included, read
    nothing else; otherwise as `render` does, with `context` too (what only a host's own
    template might read, such as the signed-in account: never part of a kept page)."""
    kept: KeptPages = current_app.extensions[EXTENSION]
    return kept.page(template, values, fill, context or {})


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
    between requests (tests/test_kept.py checks the settings page's)."""
    kept: KeptPages = current_app.extensions[EXTENSION]
    return kept.part(template, values, fill or {})


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


class KeptPages:
    """A worker's kept pages and parts, and what each page's templates read."""

    def __init__(self, app: Flask, templates: LocalizedTemplates) -> None:
        self.app = app
        self.templates = templates
        self._parts: OrderedDict[Any, Markup] = OrderedDict()
        self._parts_lock = threading.Lock()  # a gthread worker's threads share the parts
        self._reads: dict[tuple[str, str], frozenset[str] | None] = {}  # see reads

    @property
    def parts_kept(self) -> int:
        """How many drawn pages and parts this worker keeps now."""
        return len(self._parts)

    def page(
        self, name: str, values: dict[str, Any], fill: dict[str, Any], context: dict[str, Any]
    ) -> str:
        """The page `name` for this request (see `render_kept`)."""
        variant = self.templates.variant()
        if variant[1] is not None and self._reads_only(name, values.keys() | fill.keys()):
            return self._kept(variant, name, {**values, **_answers()}, fill)
        return render_plain(self._template(variant, name), {**context, **values}, fill)

    def part(self, name: str, values: dict[str, Any], fill: dict[str, Any]) -> Markup:
        """The part `name` drawn from `values` for this request, with `fill` (see `part`)."""
        variant = self.templates.variant()
        if variant[1] is None:  # its URLs may differ from one request to the next: draw each time
            return draw_part(self._template(variant, name), values, fill)
        return self._kept(variant, name, values, fill)

    def _template(self, variant: tuple[str, str | None], name: str) -> Template:
        return self.templates.environment(variant).get_template(name)

    def _kept(
        self,
        variant: tuple[str, str | None],
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
            return draw_part(self._template(variant, name), values, fill)
        with self._parts_lock:
            drawn = self._parts.get(key)
            if drawn is not None:
                self._parts.move_to_end(key)
        if drawn is None:  # the template is looked up only to draw
            drawn = _draw_with_slots(self._template(variant, name), values, fill)
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
            for node in tree.find_all(
                (nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)
            ):
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

    def warm(self) -> None:
        """Work out what each of the extension's pages reads now: called in a pre-forking
        server's master (see gunicorn.conf.py), so the workers share it."""
        names = self.app.jinja_env.list_templates(
            filter_func=lambda name: name.startswith("linked_accounts/") and name.endswith(".html")
        )
        for name in names:
            self.reads(name)


def init_app(app: Flask) -> None:
    """Keep the app's pages and parts (after templating.init_app)."""
    app.extensions[EXTENSION] = KeptPages(app, app.extensions[TEMPLATES])
    app.add_template_global(part, "la_part")
