"""The pages in a host's own layout and templates: every view is drawn for its own request, so
what a host's template reads (flashed messages as its call asks for them, the request's host and
scheme, the query) is that request's, whatever the extension's own templates read. Each message
appears once: the host's flashes in its layout, the extension's outcomes in the page's own region
(LINKED_ACCOUNTS_SHOW_FLASHES for a layout that shows no flashes)."""

from __future__ import annotations

import re

import pytest
from flask import Flask, flash, redirect, url_for
from jinja2 import ChoiceLoader, DictLoader

from tests.support import tenant as t
from tests.support.visitor import Visitor

PAGE = "/account/"


def host_app(make_app, show_flashes: bool = False, **templates: str) -> Flask:
    """The standalone app as a host would mount it: its own layout (`layout.html`) and templates,
    found before the extension's own; `/saved` flashes two messages and comes to the page."""
    app = make_app()
    app.config["LINKED_ACCOUNTS_BASE_TEMPLATE"] = "layout.html"
    app.config["LINKED_ACCOUNTS_SHOW_FLASHES"] = show_flashes  # a host's default: off
    app.jinja_loader = ChoiceLoader([DictLoader(templates), app.jinja_loader])

    @app.get("/saved")
    def saved():
        flash("Saved", "success")
        flash("Careful", "warning")
        return redirect(url_for("linked_accounts.accounts"))

    return app


def layout(reads: str) -> str:
    """A layout with the blocks the extension fills, and `reads` in its own header."""
    return (
        "<!doctype html><title>{% block title %}{% endblock %}</title>"
        "{% block head %}{% endblock %}"
        f"<header>{reads}</header><main>{{% block content %}}{{% endblock %}}</main>"
    )


def header(page: str) -> str:
    return re.search(r"<header>(.*?)</header>", page, re.S).group(1)


def signed_in(app: Flask, serve) -> Visitor:
    ada = Visitor(serve(app))
    ada.login("Ada Lovelace")
    return ada


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        # Flask's tutorial layout: the messages alone
        ("get_flashed_messages()", ["Saved", "Careful"]),
        ("get_flashed_messages(with_categories=true)",
         ["(&#39;success&#39;, &#39;Saved&#39;)", "(&#39;warning&#39;, &#39;Careful&#39;)"]),
        ("get_flashed_messages(category_filter=['warning'])", ["Careful"]),
        ("get_flashed_messages(with_categories=true, category_filter=['success'])",
         ["(&#39;success&#39;, &#39;Saved&#39;)"]),
    ],
)  # fmt: skip
def test_a_layout_gets_flashed_messages_as_its_own_call_asks(make_app, serve, call, expected):
    reads = "{% for m in " + call + " %}<p class=flash>{{ m }}</p>{% endfor %}"
    ada = signed_in(host_app(make_app, **{"layout.html": layout(reads)}), serve)
    for _ in range(2):  # two views in a row, the same list and the same messages
        page = ada.get("/saved")  # flashes, then the page shows them (and pops them)
        assert page.status_code == 200
        assert re.findall(r"<p class=flash>(.*?)</p>", header(page.text)) == expected
        assert "la-message--" not in page.text  # left to the layout: not drawn a second time
        assert re.findall(r"<p class=flash>", header(ada.get(PAGE).text)) == []  # shown once


def test_a_layout_builds_external_urls_for_the_requests_own_host_and_scheme(make_app, serve):
    reads = "<a href=\"{{ url_for('linked_accounts.accounts', _external=True) }}\">Accounts</a>"
    app = host_app(make_app, **{"layout.html": layout(reads)})
    ada = signed_in(app, serve)
    cookie = (
        f"{app.config['SESSION_COOKIE_NAME']}={ada.http.cookies[app.config['SESSION_COOKIE_NAME']]}"
    )
    client = app.test_client(use_cookies=False)
    for root in ("https://shop-a.example", "http://shop-b.example", "https://shop-a.example"):
        page = client.get(PAGE, base_url=root, headers={"Cookie": cookie})
        assert page.status_code == 200
        assert header(page.text) == f'<a href="{root}{PAGE}">Accounts</a>'


def test_an_overridden_content_template_reads_each_visitors_own_query(make_app, serve):
    """The docs invite overriding `_accounts.html`: one that reads the request is drawn for each
    request, not kept with the first visitor's query."""
    override = "<p class=ref>{{ request.args.get('ref', '-') }}</p>"
    app = host_app(
        make_app,
        **{"layout.html": layout(""), "linked_accounts/_accounts.html": override},
    )
    base = serve(app)
    phone, laptop = Visitor(base), Visitor(base)
    phone.login("Ada Lovelace")
    laptop.login("Ada Lovelace")
    seen = [
        visitor.get(PAGE, params={"ref": ref}).text
        for visitor, ref in ((phone, "mail"), (laptop, "<b>news</b>"), (phone, "mail"))
    ]
    shown = [re.findall(r"<p class=ref>(.*?)</p>", page) for page in seen]
    assert shown == [["mail"], ["&lt;b&gt;news&lt;/b&gt;"], ["mail"]]


SHOWS_FLASHES = layout(
    "{% for m in get_flashed_messages() %}<p class=flash>{{ m }}</p>{% endfor %}"
)


def test_a_layout_that_shows_flashes_shows_each_message_once(make_app, serve):
    ada = signed_in(host_app(make_app, **{"layout.html": SHOWS_FLASHES}), serve)
    page = ada.get("/saved").text
    assert page.count("Saved") == 1 and page.count("Careful") == 1
    # The extension's own outcome is drawn by the page alone: the layout has no flash of it.
    done = ada.press(ada.confirm_page(t.ADA_GITHUB), "Unlink GitHub")
    assert done.text.count("was unlinked") == 1
    assert re.findall(r"<p class=flash>", header(done.text)) == []


def test_show_flashes_draws_them_for_a_layout_that_shows_none(make_app, serve):
    app = host_app(make_app, show_flashes=True, **{"layout.html": layout("")})
    page = signed_in(app, serve).get("/saved").text
    assert page.count("Saved") == 1 and page.count("Careful") == 1
    assert '<p class="la-message la-message--warning">Careful</p>' in page


def test_the_default_layout_shows_them_itself(make_app, serve):
    app = host_app(make_app, **{"layout.html": SHOWS_FLASHES})
    app.config["LINKED_ACCOUNTS_BASE_TEMPLATE"] = "linked_accounts/base.html"  # no host layout
    page = signed_in(app, serve).get("/saved").text
    assert page.count("Saved") == 1 and page.count("Careful") == 1
    assert '<p class="la-message la-message--success">Saved</p>' in page


@pytest.mark.parametrize(("asked", "lang", "direction"), [("ar", "ar", "rtl"), ("de", "de", "ltr")])
def test_the_pages_say_their_own_language_and_direction_in_a_layout_that_does_not(
    make_app, serve, asked, lang, direction
):
    """A host's layout often hard-codes `<html lang="en">`: the extension's content carries its
    own `lang` and `dir`, so a screen reader reads it in its language and Arabic mirrors."""
    english = '<!doctype html><html lang="en">' + layout("Shop") + "</html>"
    ada = signed_in(host_app(make_app, **{"layout.html": english}), serve)
    ada.http.headers["Accept-Language"] = asked
    pages = [ada.get(PAGE), ada.confirm_page(t.ADA_GITHUB)]
    for page in pages:
        assert page.status_code == 200
        assert re.findall(r'<div class="la" lang="([^"]+)" dir="([^"]+)"', page.text) == [
            (lang, direction)
        ]
