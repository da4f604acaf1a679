"""Pages drawn from templates compiled once per locale and URL root (`templating.render`): exactly
what the plain templates draw, in every language and under any root, with variables still escaped
and nothing that depends on the request's host worked out in advance."""

from __future__ import annotations

import re

import pytest
from flask import Flask, g, render_template
from flask_wtf.csrf import generate_csrf
from jinja2 import DictLoader, meta, nodes
from markupsafe import Markup

from linked_accounts import i18n, pages, templating
from linked_accounts.settings import DEFAULTS
from tests.support import tenant as t
from tests.support.app_session import client_for
from tests.support.forms import forms
from tests.support.visitor import Visitor, unlink_buttons

# A signed CSRF token (Flask-WTF's or a form's), in whatever attribute order
CSRF = re.compile(rb'(name="csrf_token"[^>]* value=)"[^"]+"')


def without_tokens(page: bytes) -> bytes:
    """The page with its CSRF tokens blanked: each request signs its own."""
    return CSRF.sub(rb'\1"T"', page)


@pytest.mark.parametrize("language", ["en", "de", "fr"])
def test_pages_are_exactly_what_the_plain_templates_draw(make_app, serve, monkeypatch, language):
    app = make_app()
    ada = Visitor(serve(app))
    ada.login("Ada Lovelace")
    client = client_for(app, ada)
    headers = {"Accept-Language": language}
    paths = ["/account/", "/account/unlink?identity=" + t.ADA_GITHUB, "/account/unlink?identity=x"]
    # the third: redirected to the settings page with an outcome message
    paths.append(paths[0])  # again: its content served from the part kept by the first view
    compiled = [client.get(path, headers=headers, follow_redirects=True) for path in paths]
    monkeypatch.setattr(pages, "render", render_template)  # the templates as written
    monkeypatch.setattr(pages, "render_kept", plain_page)
    monkeypatch.setitem(app.jinja_env.globals, "la_part", plain_part)
    plain = [client.get(path, headers=headers, follow_redirects=True) for path in paths]
    assert [p.status_code for p in compiled] == [200, 200, 200, 200]
    assert b"la-message--" in compiled[2].data
    for folded, written in zip(compiled, plain, strict=True):
        assert without_tokens(folded.data) == without_tokens(written.data)
    assert b"GitHub" in compiled[0].data and b'name="csrf_token"' in compiled[0].data


def plain_page(name: str, fill: dict, context: dict | None = None, **values) -> str:
    """A kept page drawn from the templates as written, kept nowhere."""
    return templating.render_plain(name, {**(context or {}), **values}, fill)


def plain_part(name: str, fill: dict | None = None, **values) -> Markup:
    """A part drawn from the template as written (the app's own environment), kept nowhere."""
    return templating.draw_part(name, values, fill or {})


def folded_app(source: str, **config) -> Flask:
    """A bare app with the extension's Jinja setup (its i18n helpers and `render`), whose one
    template `page.html` is `source`."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="k" * 32, **config)
    for key, value in DEFAULTS.items():  # as LinkedAccounts.init_app sets them
        app.config.setdefault(key, value)
    i18n.init_app(app)
    app.extensions[templating.EXTENSION] = templating.LocalizedTemplates(app)
    app.jinja_env.loader = DictLoader({"page.html": source})
    app.add_url_rule("/link", "link", lambda: "")
    return app


def draw(app: Flask, path: str = "/", request: dict | None = None, **context) -> str:
    with app.test_request_context(path, **(request or {})):
        return templating.render("page.html", **context)


def test_constant_messages_are_translated_when_compiled_and_variables_escaped_when_drawn():
    def not_at_render_time(*args, **kwargs):
        raise AssertionError("la_ called while drawing the page")

    app = folded_app('{{ la_("Log out") }}|{{ la_("Link %(name)s", name=who) }}|{{ la_locale() }}')
    drawn = draw(app, request={"headers": {"Accept-Language": "de"}}, who="<b>Ben</b>",
                 la_=not_at_render_time)  # fmt: skip
    assert drawn == "Abmelden|&lt;b&gt;Ben&lt;/b&gt; verknüpfen|de"


def test_each_locale_and_root_gets_its_own_compiled_page():
    app = folded_app('{{ la_("Log out") }} {{ url_for("link") }}')
    en = draw(app, request={"headers": {"Accept-Language": "en"}})
    de = draw(app, request={"headers": {"Accept-Language": "de"}})
    under = draw(app, request={"base_url": "http://h/portal"})
    assert (en, de, under) == ("Log out /link", "Abmelden /link", "Log out /portal/link")


def test_urls_that_depend_on_the_host_are_built_on_every_view():
    app = folded_app("{{ url_for('link', _external=True) }}")
    one = draw(app, request={"base_url": "http://one.test"})
    two = draw(app, request={"base_url": "http://two.test"})
    assert (one, two) == ("http://one.test/link", "http://two.test/link")


def test_urls_a_url_default_fills_in_are_built_on_every_view():
    """A host that fills a URL value per request (here a tenant slug) gets its own URLs."""
    app = folded_app("{{ url_for('home') }}")
    app.add_url_rule("/<org>/home", "home", lambda org: "")
    app.url_defaults(lambda endpoint, values: values.setdefault("org", g.org))
    drawn = []
    for org in ("acme", "globex"):
        with app.test_request_context("/"):
            g.org = org
            drawn.append(templating.render("page.html"))
    assert drawn == ["/acme/home", "/globex/home"]


def test_warming_compiles_every_locales_pages_before_the_first_request(make_app):
    """What a pre-forking master calls (gunicorn.conf.py `when_ready`): afterwards a page in any
    configured locale is drawn from templates already compiled, shared by the workers."""
    app = make_app()
    localized = app.extensions[templating.EXTENSION]
    localized.warm()
    compiled = localized._environment.cache_info()
    assert compiled.currsize == len(app.config["LINKED_ACCOUNTS_LOCALES"])
    for locale in app.config["LINKED_ACCOUNTS_LOCALES"]:
        with app.test_request_context("/account/", headers={"Accept-Language": locale}):
            localized.get("linked_accounts/settings.html")
    assert localized._environment.cache_info().misses == compiled.misses  # nothing new compiled


# Parts: drawn from their values alone, kept, and served again while the values stay the same.

PART = "linked_accounts/_accounts.html"


def part_app(source: str) -> Flask:
    """A bare app with the extension's Jinja setup whose template `part.html` is `source`."""
    app = folded_app("")
    app.jinja_env.loader = DictLoader({"part.html": source})
    app.add_template_global(templating.part, "la_part")
    app.add_template_global(templating.csrf_field, "la_csrf_field")
    return app


def draw_parts(app: Flask, *values: dict) -> list[str]:
    drawn = []
    for each in values:
        with app.test_request_context("/"):
            drawn.append(str(templating.part("part.html", **each)))
    return drawn


def test_a_kept_part_is_served_only_for_the_same_values():
    app = part_app("{{ who }}|{{ items|length }}|{{ flag }}")
    localized = app.extensions[templating.EXTENSION]
    drawn = draw_parts(
        app,
        {"who": "Ada", "items": [1, 2], "flag": True},
        {"who": "Ada", "items": [1, 2], "flag": True},  # served from the kept part
        {"who": "Ada", "items": [1, 2, 3], "flag": True},
        {"who": "Ada", "items": [1, 2], "flag": 1},  # equal in Python, a different value here
        {"who": "Ben", "items": [1, 2], "flag": True},
    )
    assert drawn == ["Ada|2|True", "Ada|2|True", "Ada|3|True", "Ada|2|1", "Ben|2|True"]
    assert localized.parts_kept == 4


def test_markup_and_text_of_the_same_characters_are_different_values():
    app = part_app("{{ who }}")
    drawn = draw_parts(app, {"who": Markup("<b>Ada</b>")}, {"who": "<b>Ada</b>"})
    assert drawn == ["<b>Ada</b>", "&lt;b&gt;Ada&lt;/b&gt;"]


def test_values_to_fill_change_from_view_to_view_without_drawing_the_part_again():
    app = part_app("<p>{{ la_('Last read %(ago)s.', ago=ago) }} {{ who }}</p>")
    drawn = []
    for ago in ("2 seconds ago", "<b>3</b> seconds ago"):
        with app.test_request_context("/"):
            drawn.append(str(templating.part("part.html", fill={"ago": ago}, who="Ada")))
    assert drawn == ["<p>Last read 2 seconds ago. Ada</p>",
                     "<p>Last read &lt;b&gt;3&lt;/b&gt; seconds ago. Ada</p>"]  # fmt: skip
    assert app.extensions[templating.EXTENSION].parts_kept == 1


def test_a_value_that_cannot_be_kept_is_drawn_every_time():
    app = part_app("{{ say() }}")
    answers = iter(["one", "two"])
    drawn = draw_parts(app, {"say": lambda: next(answers)}, {"say": lambda: next(answers)})
    assert drawn == ["one", "two"]
    assert app.extensions[templating.EXTENSION].parts_kept == 0


def test_a_worker_keeps_a_bounded_number_of_parts():
    app = part_app("{{ n }}")
    drawn = draw_parts(app, *({"n": n} for n in range(templating.PARTS_KEPT + 10)))
    assert drawn[-1] == str(templating.PARTS_KEPT + 9)
    assert app.extensions[templating.EXTENSION].parts_kept == templating.PARTS_KEPT
    assert draw_parts(app, {"n": 0}) == ["0"]  # the oldest went first: drawn again


def test_each_view_of_a_kept_part_gets_its_own_csrf_fields_and_answers():
    """The given helpers answer the values; the CSRF slots are filled per request, also in a
    value that tries to spell a slot (it is escaped, so it never can)."""
    source = "{{ la_outcome() }}|{{ la_csrf_field() }}|{{ la_csrf_field() }}|{{ note }}"
    app = part_app(source)
    values = {"outcome": ("info", "Done"), "note": str(templating.CSRF_SLOT)}
    tokens = []
    for _ in range(2):
        with app.test_request_context("/"):
            drawn = str(templating.part("part.html", **values))
            tokens.append(generate_csrf())
        assert drawn.count(f'value="{tokens[-1]}"') == 2
        assert drawn.startswith("(&#39;info&#39;, &#39;Done&#39;)|<input")
        assert drawn.endswith("|&lt;la-csrf-field&gt;")
    assert app.extensions[templating.EXTENSION].parts_kept == 1


def test_a_part_is_drawn_every_time_where_urls_depend_on_the_request():
    app = part_app("{{ url_for('link', _external=True) }}")
    app.config["SERVER_NAME"] = "one.test"
    with app.test_request_context("/"):
        assert templating.part("part.html") == "http://one.test/link"
    assert app.extensions[templating.EXTENSION].parts_kept == 0


def _templates_of(env, name: str) -> list[str]:
    """`name` and every template it includes, however deep."""
    found, todo = [], [name]
    while todo:
        current = todo.pop()
        if current not in found:
            found.append(current)
            source = env.loader.get_source(env, current)[0]
            todo += [t for t in meta.find_referenced_templates(env.parse(source)) if t]
    return found


def test_the_settings_content_reads_only_the_values_it_is_given(app):
    """What makes keeping it safe: `_accounts.html` and what it includes read nothing a request
    could change but the values settings.html gives `la_part`, and the helpers answering them."""
    env = app.jinja_env
    settings = env.parse(env.loader.get_source(env, "linked_accounts/settings.html")[0])
    calls = settings.find_all(nodes.Call)
    call = next(c for c in calls if getattr(c.node, "name", "") == "la_part")
    assert call.args[0].value == PART
    given = {keyword.key for keyword in call.kwargs if keyword.key != "fill"}
    fill = next(keyword.value for keyword in call.kwargs if keyword.key == "fill")
    given |= {item.key.value for item in fill.items}
    assert set(templating.GIVEN) <= given and "read_ago" in given
    allowed = given | set(templating.GIVEN.values()) | {"la_csrf_field"} | templating.PART_HELPERS
    for name in _templates_of(env, PART):
        ast = templating.reads_of(env.loader.get_source(env, name)[0], env)
        assert meta.find_undeclared_variables(ast) <= allowed, name
        filters = {node.name for node in ast.find_all(nodes.Filter)}
        assert filters <= templating.PART_FILTERS, name


def test_the_settings_page_is_kept_per_values_and_each_session_signs_its_own_forms(
    make_app, serve, monkeypatch
):
    """Two sessions of Ada see one kept page content, each with its own CSRF tokens, which only
    its own session accepts; a change to her list draws it anew."""
    app = make_app()
    app.jinja_env.filters["la_ago"] = lambda timestamp: "a moment ago"  # views in other seconds
    base = serve(app)
    phone, laptop = Visitor(base), Visitor(base)
    phone.login("Ada Lovelace")
    laptop.login("Ada Lovelace")
    localized = app.extensions[templating.EXTENSION]
    pages = [phone.get("/account/").text]
    kept = localized.parts_kept
    pages.append(laptop.get("/account/").text)
    assert localized.parts_kept == kept  # the laptop's view drew nothing: the phone's part
    assert without_tokens(pages[0].encode()) == without_tokens(pages[1].encode())
    refresh = [next(f for f in forms(page) if f.button("Refresh list")) for page in pages]
    assert refresh[0].fields["csrf_token"] != refresh[1].fields["csrf_token"]
    swapped = phone.http.post(base + refresh[1].action, data=refresh[1].fields)
    assert swapped.status_code == 400  # the laptop's token is not the phone's
    own = phone.http.post(base + refresh[0].action, data=refresh[0].fields)
    assert own.status_code == 200 and "up to date" in own.text
    assert any("GitHub" in button for button in unlink_buttons(pages[1]))
    phone.unlink(t.ADA_GITHUB)
    after = laptop.get("/account/").text
    assert not any("GitHub" in button for button in unlink_buttons(after))


LAYOUTS = {
    "pure.html": "<title>{% block title %}{% endblock %} · {{ la_app_name }}</title>"
    "<main>{% block content %}{% endblock %}</main>",
    "reads-the-request.html": "<p>{{ request.path }}</p>{% block content %}{% endblock %}",
    "page.html": "{% extends la_base_template %}{% block content %}{{ who }}{% endblock %}",
    "includes-by-name.html": "{% include chosen %}",
    "says-how-long-ago.html": "{{ at|la_ago }}",
}


def layout_app(layout: str) -> Flask:
    app = folded_app("", LINKED_ACCOUNTS_BASE_TEMPLATE=layout)
    app.jinja_env.loader = DictLoader(LAYOUTS)
    app.context_processor(lambda: {"la_base_template": layout, "la_app_name": "Linked accounts"})
    return app


@pytest.mark.parametrize(
    ("layout", "page", "kept"),
    [
        ("pure.html", "page.html", True),
        ("reads-the-request.html", "page.html", False),  # a host's layout showing the path
        ("pure.html", "includes-by-name.html", False),  # a template chosen at render time
        ("pure.html", "says-how-long-ago.html", False),  # a filter of the moment
    ],
)
def test_a_page_is_kept_whole_only_when_every_template_it_draws_reads_just_its_values(
    layout, page, kept
):
    app = layout_app(layout)
    localized = app.extensions[templating.EXTENSION]
    with app.test_request_context("/"):
        assert localized._reads_only(page, frozenset({"who", "at", "chosen"})) is kept


def test_a_layout_that_reads_the_request_is_drawn_on_every_view():
    app = layout_app("reads-the-request.html")
    drawn = []
    for path in ("/one", "/two", "/one"):
        with app.test_request_context(path):
            drawn.append(templating.render_kept("page.html", {}, who="Ada"))
    assert drawn == ["<p>/one</p>Ada", "<p>/two</p>Ada", "<p>/one</p>Ada"]
    assert app.extensions[templating.EXTENSION].parts_kept == 0


def test_a_page_kept_whole_is_served_for_the_same_values_only():
    app = layout_app("pure.html")
    drawn = []
    for who in ("Ada", "Ada", "<b>Ben</b>"):
        with app.test_request_context("/"):
            drawn.append(templating.render_kept("page.html", {}, who=who))
    assert drawn == [
        "<title> · Linked accounts</title><main>Ada</main>",
        "<title> · Linked accounts</title><main>Ada</main>",
        "<title> · Linked accounts</title><main>&lt;b&gt;Ben&lt;/b&gt;</main>",
    ]
    assert app.extensions[templating.EXTENSION].parts_kept == 2
