"""What the extension's templates use (`templating`): pages and their parts drawn for the request
they answer, each view with its own CSRF tokens, in its own language."""

from __future__ import annotations

import re

from babel import localedata
from flask import Flask
from jinja2 import DictLoader

from linked_accounts import i18n
from linked_accounts.web import templating
from tests.support import tenant as t
from tests.support.forms import forms
from tests.support.visitor import Visitor, unlink_buttons

# A signed CSRF token (Flask-WTF's or a form's), in whatever attribute order
CSRF = re.compile(rb'(name="csrf_token"[^>]* value=)"[^"]+"')


def without_tokens(page: bytes) -> bytes:
    """The page with its CSRF tokens blanked: each request signs its own."""
    return CSRF.sub(rb'\1"T"', page)


def part_app(**templates: str) -> Flask:
    """A bare app with `la_part`, `la_csrf_field` and a context processor of its own."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "k" * 32
    app.jinja_env.loader = DictLoader(templates)
    app.add_template_global(templating.la_part)
    app.add_template_global(templating.csrf_field, "la_csrf_field")
    app.context_processor(lambda: {"shop": "Acme"})
    return app


def test_a_part_is_drawn_for_each_request_with_the_pages_context_and_its_values():
    app = part_app(
        **{
            "page.html": "{{ la_part('part.html', fill={'ago': ago}, who=who) }}",
            "part.html": "{{ request.args.q }}|{{ shop }}|{{ account }}|{{ who }}|{{ ago }}",
        }
    )
    drawn = []
    for query, who in (("one", "Ada"), ("two", "Ada"), ("one", "<b>Ben</b>")):
        with app.test_request_context("/", query_string={"q": query}):
            drawn.append(templating.render("page.html", who=who, ago="now", account="a1"))
    assert drawn == [
        "one|Acme|a1|Ada|now",
        "two|Acme|a1|Ada|now",
        "one|Acme|a1|&lt;b&gt;Ben&lt;/b&gt;|now",
    ]


def test_every_form_of_a_page_carries_the_requests_one_token():
    app = part_app(**{"page.html": "{{ la_csrf_field() }}{{ la_csrf_field() }}"})
    with app.test_request_context("/"):
        page = templating.render("page.html")
    fields = re.findall(r'<input type="hidden" name="csrf_token" value="([^"]+)">', page)
    assert len(fields) == 2 and fields[0] == fields[1]


def test_each_session_signs_its_own_forms_on_the_same_page(make_app, serve):
    """Two sessions of Ada see the same page, each with its own CSRF tokens, which only its own
    session accepts; a change to her list shows in the other session's next view."""
    app = make_app()
    base = serve(app)
    phone, laptop = Visitor(base), Visitor(base)
    phone.login("Ada Lovelace")
    laptop.login("Ada Lovelace")
    pages = [phone.get("/account/").text, laptop.get("/account/").text]
    read_at = re.compile(rb'<p class="la-read-at">.*?</p>')  # "2 seconds ago": each view's own
    assert read_at.sub(b"", without_tokens(pages[0].encode())) == read_at.sub(
        b"", without_tokens(pages[1].encode())
    )
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


def test_one_session_switching_languages_gets_each_page_in_the_language_asked(visitor):
    visitor.login("Ada Lovelace")
    pages = [
        visitor.get("/account/", headers={"Accept-Language": lang}) for lang in ["de", "en", "de"]
    ]
    headings = [re.search(r"<h1>(.*?)</h1>", page.text).group(1) for page in pages]
    assert headings == ["Verknüpfte Konten", "Linked accounts", "Verknüpfte Konten"]


def test_warming_loads_each_configured_languages_catalog_and_date_words(make_app, monkeypatch):
    """What a pre-forking master calls (gunicorn.conf.py `when_ready`), so that no worker loads
    its own copy on its first page in any configured language."""
    app = make_app()
    monkeypatch.setattr(i18n.domain, "cache", {})
    monkeypatch.setattr(localedata, "_cache", {})  # Babel's locale data, and its wrappers
    monkeypatch.setattr(localedata, "_dict_cache", {})
    templating._ago.cache_clear()
    templating._locale.cache_clear()
    templating.warm(app)
    locales = set(app.config["LINKED_ACCOUNTS_LOCALES"])
    assert {locale for locale, _ in i18n.domain.cache} == locales
    assert locales <= set(localedata._dict_cache)
