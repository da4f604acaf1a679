"""Addresses under the extension's prefix that lead nowhere, or do not take the method used: the
extension's own page (or JSON under its API), in the reader's language; elsewhere the host's."""

from __future__ import annotations

import pytest

from linked_accounts import LinkedAccounts
from tests.support.visitor import Visitor
from tests.test_extension import host


@pytest.fixture
def visitor(make_app, serve):
    return Visitor(serve(make_app()))


def test_an_unknown_page_under_the_prefix_is_a_styled_404(visitor):
    page = visitor.get("/account/P/anything")
    assert page.status_code == 404
    assert "<h1>Page not found</h1>" in page.text
    assert "linked-accounts.css" in page.text
    assert "Back to linked accounts" in page.text


def test_the_404_page_is_german_for_a_german_reader(visitor):
    visitor.http.headers["Accept-Language"] = "de"
    page = visitor.get("/account/nothing-here")
    assert page.status_code == 404
    assert '<html lang="de" dir="ltr">' in page.text and "Seite nicht gefunden" in page.text


def test_a_wrong_method_under_the_prefix_is_a_styled_405_naming_the_allowed_ones(visitor):
    page = visitor.http.put(visitor.base + "/account/refresh", timeout=10)
    assert page.status_code == 405
    assert "This page cannot be used this way" in page.text
    assert "POST" in page.headers["Allow"]


def test_the_api_answers_json(visitor):
    answer = visitor.http.get(visitor.base + "/account/api/nothing", timeout=10)
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


def test_outside_the_prefix_the_host_keeps_its_own_404(visitor):
    page = visitor.get("/nothing-here")
    assert page.status_code == 404
    assert "Page not found</h1>" not in page.text  # Flask's (or the host's) own page


def test_a_host_404_handler_registered_first_still_answers_outside_the_prefix(tenant, tmp_path):
    app = host(tenant, tmp_path)
    app.register_error_handler(404, lambda error: ("the host's own 404", 404))
    LinkedAccounts(app, url_prefix="/account")
    client = app.test_client()
    assert client.get("/nothing-here").get_data(as_text=True) == "the host's own 404"
    assert "Page not found" in client.get("/account/nothing-here").get_data(as_text=True)


def test_the_default_layout_links_back_to_the_product_when_the_host_says_where(tenant, tmp_path):
    app = host(
        tenant,
        tmp_path,
        LINKED_ACCOUNTS_APP_NAME="Acme Notes",
        LINKED_ACCOUNTS_HOME_URL="https://notes.example.com/",
    )
    LinkedAccounts(app, url_prefix="/account")
    page = app.test_client().get("/account/nothing-here").get_data(as_text=True)
    assert (
        '<a class="la-site-home" href="https://notes.example.com/">Back to Acme Notes</a>' in page
    )
    plain = host(tenant, tmp_path)
    LinkedAccounts(plain, url_prefix="/account")
    assert "la-site-home" not in plain.test_client().get("/account/x").get_data(as_text=True)
