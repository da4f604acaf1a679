"""The HTML pages: thin views over `operations`, and where a refusal becomes a page or a
redirect (which comes back to the page the browser was on)."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import pytest

from tests.support import tenant as t
from tests.support.app_session import expire_token
from tests.support.forms import forms
from tests.support.visitor import Visitor


@pytest.fixture
def served(make_app, serve):
    app = make_app()
    return app, Visitor(serve(app))


def where(response) -> tuple[str, str]:
    """The path a redirect goes to, and its `next`."""
    location = urlsplit(response.headers["Location"])
    return location.path, parse_qs(location.query)["next"][0]


def test_signed_out_the_confirmation_page_sends_to_login_and_back_to_it(served):
    _, visitor = served
    path = "/account/unlink?identity=" + quote(t.ADA_GITHUB, safe="")
    response = visitor.get(path, allow_redirects=False)
    assert response.status_code == 302
    assert where(response) == ("/account/login", path)


def test_an_identity_the_user_does_not_have_goes_back_to_the_list_saying_so(served):
    _, visitor = served
    visitor.login()
    page = visitor.confirm_page(t.GRACE)
    assert page.url.split("?")[0] == visitor.base + "/account/"
    assert "That account was already unlinked." in page.text


def test_a_form_posted_with_an_expired_token_renews_it_and_returns_to_the_form_page(served, tenant):
    app, visitor = served
    visitor.login()
    confirm = visitor.confirm_page(t.ADA_GITHUB)
    form = next(f for f in forms(confirm.text) if "identity" in f.fields)
    expire_token(app, visitor)
    response = visitor.post(
        "/account/unlink", form.fields, headers={"Referer": confirm.url}, allow_redirects=False
    )
    assert response.status_code == 302
    path = "/account/unlink?identity=" + quote(t.ADA_GITHUB, safe="")
    assert where(response) == ("/account/relogin", path)
    back = visitor.get(response.headers["Location"])
    assert any("prompt=none" in r.url for r in back.history)  # renewed silently at Auth0
    assert back.url == confirm.url and "Unlink GitHub" in back.text
    assert len(t.identity_keys(tenant, t.ADA)) == 4  # the form is never re-posted for the user


def test_a_forged_form_gets_a_page_that_says_nothing_changed(served, tenant):
    _, visitor = served
    visitor.login()
    response = visitor.post("/account/unlink", {"identity": t.ADA_GITHUB, "csrf_token": "x"})
    assert response.status_code == 400
    assert "could not be used" in response.text and "Nothing was changed" in response.text
    assert len(t.identity_keys(tenant, t.ADA)) == 4
