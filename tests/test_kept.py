"""Pages and parts kept per worker (`kept`): served only for the very values they were drawn from,
each view with its own CSRF fields and relative time; a page kept whole only when every template
it draws reads nothing else; the settings page's content held to that by a test."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_wtf.csrf import generate_csrf
from jinja2 import DictLoader, meta, nodes
from markupsafe import Markup

from linked_accounts.web import kept, templating
from tests.support import tenant as t
from tests.support.forms import forms
from tests.support.visitor import Visitor, unlink_buttons
from tests.test_templating import folded_app, without_tokens

# Parts: drawn from their values alone, kept, and served again while the values stay the same.

PART = "linked_accounts/_accounts.html"


def part_app(source: str) -> Flask:
    """A bare app with the extension's Jinja setup whose template `part.html` is `source`."""
    app = folded_app("")
    app.jinja_env.loader = DictLoader({"part.html": source})
    app.add_template_global(templating.csrf_field, "la_csrf_field")
    return app


def draw_parts(app: Flask, *values: dict) -> list[str]:
    drawn = []
    for each in values:
        with app.test_request_context("/"):
            drawn.append(str(kept.part("part.html", **each)))
    return drawn


def test_a_kept_part_is_served_only_for_the_same_values():
    app = part_app("{{ who }}|{{ items|length }}|{{ flag }}")
    pages_kept = app.extensions[kept.EXTENSION]
    drawn = draw_parts(
        app,
        {"who": "Ada", "items": [1, 2], "flag": True},
        {"who": "Ada", "items": [1, 2], "flag": True},  # served from the kept part
        {"who": "Ada", "items": [1, 2, 3], "flag": True},
        {"who": "Ada", "items": [1, 2], "flag": 1},  # equal in Python, a different value here
        {"who": "Ben", "items": [1, 2], "flag": True},
    )
    assert drawn == ["Ada|2|True", "Ada|2|True", "Ada|3|True", "Ada|2|1", "Ben|2|True"]
    assert pages_kept.parts_kept == 4


def test_markup_and_text_of_the_same_characters_are_different_values():
    app = part_app("{{ who }}")
    drawn = draw_parts(app, {"who": Markup("<b>Ada</b>")}, {"who": "<b>Ada</b>"})
    assert drawn == ["<b>Ada</b>", "&lt;b&gt;Ada&lt;/b&gt;"]


def test_values_to_fill_change_from_view_to_view_without_drawing_the_part_again():
    app = part_app("<p>{{ la_('Last read %(ago)s.', ago=ago) }} {{ who }}</p>")
    drawn = []
    for ago in ("2 seconds ago", "<b>3</b> seconds ago"):
        with app.test_request_context("/"):
            drawn.append(str(kept.part("part.html", fill={"ago": ago}, who="Ada")))
    assert drawn == ["<p>Last read 2 seconds ago. Ada</p>",
                     "<p>Last read &lt;b&gt;3&lt;/b&gt; seconds ago. Ada</p>"]  # fmt: skip
    assert app.extensions[kept.EXTENSION].parts_kept == 1


def test_a_value_that_cannot_be_kept_is_drawn_every_time():
    app = part_app("{{ say() }}")
    answers = iter(["one", "two"])
    drawn = draw_parts(app, {"say": lambda: next(answers)}, {"say": lambda: next(answers)})
    assert drawn == ["one", "two"]
    assert app.extensions[kept.EXTENSION].parts_kept == 0


def test_a_worker_keeps_a_bounded_number_of_parts():
    app = part_app("{{ n }}")
    drawn = draw_parts(app, *({"n": n} for n in range(kept.PARTS_KEPT + 10)))
    assert drawn[-1] == str(kept.PARTS_KEPT + 9)
    assert app.extensions[kept.EXTENSION].parts_kept == kept.PARTS_KEPT
    assert draw_parts(app, {"n": 0}) == ["0"]  # the oldest went first: drawn again


def test_each_view_of_a_kept_part_gets_its_own_csrf_fields_and_answers():
    """The given helpers answer the values; the CSRF slots are filled per request, also in a
    value that tries to spell a slot (it is escaped, so it never can)."""
    source = "{{ la_outcome() }}|{{ la_csrf_field() }}|{{ la_csrf_field() }}|{{ note }}"
    app = part_app(source)
    values = {"outcome": ("info", "Done"), "note": str(kept.CSRF_SLOT)}
    tokens = []
    for _ in range(2):
        with app.test_request_context("/"):
            drawn = str(kept.part("part.html", **values))
            tokens.append(generate_csrf())
        assert drawn.count(f'value="{tokens[-1]}"') == 2
        assert drawn.startswith("(&#39;info&#39;, &#39;Done&#39;)|<input")
        assert drawn.endswith("|&lt;la-csrf-field&gt;")
    assert app.extensions[kept.EXTENSION].parts_kept == 1


def test_a_part_is_drawn_every_time_where_urls_depend_on_the_request():
    app = part_app("{{ url_for('link', _external=True) }}")
    app.config["SERVER_NAME"] = "one.test"
    with app.test_request_context("/"):
        assert kept.part("part.html") == "http://one.test/link"
    assert app.extensions[kept.EXTENSION].parts_kept == 0


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
    assert set(kept.GIVEN) <= given and "read_ago" in given
    allowed = given | set(kept.GIVEN.values()) | {"la_csrf_field"} | kept.PART_HELPERS
    for name in _templates_of(env, PART):
        ast = kept.reads_of(env.loader.get_source(env, name)[0], env)
        assert meta.find_undeclared_variables(ast) <= allowed, name
        filters = {node.name for node in ast.find_all(nodes.Filter)}
        assert filters <= kept.PART_FILTERS, name


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
    pages_kept = app.extensions[kept.EXTENSION]
    pages = [phone.get("/account/").text]
    before = pages_kept.parts_kept
    pages.append(laptop.get("/account/").text)
    assert pages_kept.parts_kept == before  # the laptop's view drew nothing: the phone's part
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
    "imports-a-macro.html": "{% from 'macros.html' import path %}{{ path() }}",
    "macros.html": "{% macro path() %}{{ request.path }}{% endmacro %}",
}


def layout_app(layout: str) -> Flask:
    app = folded_app("", LINKED_ACCOUNTS_BASE_TEMPLATE=layout)
    app.jinja_env.loader = DictLoader(LAYOUTS)
    app.context_processor(lambda: {"la_base_template": layout, "la_app_name": "Linked accounts"})
    return app


@pytest.mark.parametrize(
    ("layout", "page", "whole"),
    [
        ("pure.html", "page.html", True),
        ("reads-the-request.html", "page.html", False),  # a host's layout showing the path
        ("pure.html", "includes-by-name.html", False),  # a template chosen at render time
        ("pure.html", "says-how-long-ago.html", False),  # a filter of the moment
        ("pure.html", "imports-a-macro.html", False),  # a macro that reads the request
    ],
)
def test_a_page_is_kept_whole_only_when_every_template_it_draws_reads_just_its_values(
    layout, page, whole
):
    app = layout_app(layout)
    pages_kept = app.extensions[kept.EXTENSION]
    with app.test_request_context("/"):
        assert pages_kept._reads_only(page, frozenset({"who", "at", "chosen"})) is whole


def test_a_layout_that_reads_the_request_is_drawn_on_every_view():
    app = layout_app("reads-the-request.html")
    drawn = []
    for path in ("/one", "/two", "/one"):
        with app.test_request_context(path):
            drawn.append(kept.render_kept("page.html", {}, who="Ada"))
    assert drawn == ["<p>/one</p>Ada", "<p>/two</p>Ada", "<p>/one</p>Ada"]
    assert app.extensions[kept.EXTENSION].parts_kept == 0


def test_a_page_kept_whole_is_served_for_the_same_values_only():
    app = layout_app("pure.html")
    drawn = []
    for who in ("Ada", "Ada", "<b>Ben</b>"):
        with app.test_request_context("/"):
            drawn.append(kept.render_kept("page.html", {}, who=who))
    assert drawn == [
        "<title> · Linked accounts</title><main>Ada</main>",
        "<title> · Linked accounts</title><main>Ada</main>",
        "<title> · Linked accounts</title><main>&lt;b&gt;Ben&lt;/b&gt;</main>",
    ]
    assert app.extensions[kept.EXTENSION].parts_kept == 2
