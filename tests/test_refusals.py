"""Refusals: typed, answered by handlers that only translate (they read nothing from the request,
change nothing, and cannot fail), and the same refusal reads the same in the pages and the API."""

from __future__ import annotations

import pytest
import requests

from linked_accounts.auth0.management import TokenRejected
from linked_accounts.purposes import Resumable
from linked_accounts.refusals import (
    AlreadyUnlinked,
    InvalidRequest,
    LoginRequired,
    NotAuthenticated,
    SessionRefreshRequired,
    from_auth0,
)
from linked_accounts.web import api, pages
from tests.support import tenant as t
from tests.support.app_session import expire_token
from tests.support.spa import Spa, schema
from tests.support.visitor import Visitor

ADA_ALL = [t.ADA, t.ADA_GOOGLE, t.ADA_GITHUB, t.ADA_SAML]


@pytest.fixture
def served(make_app, serve):
    app = make_app(LINK_CONNECTIONS="github")
    visitor = Visitor(serve(app))
    visitor.login()
    return app, Spa(visitor)


def test_a_form_encoded_post_with_an_expired_token_says_where_to_renew_it(served, tenant):
    app, spa = served
    expire_token(app, spa.visitor)
    response = spa.visitor.http.post(
        spa.api + "/identities/unlink",
        data={"identity": t.ADA_GITHUB, "return_to": "/spa"},
        headers={"X-CSRFToken": spa.csrf_token(), "Accept": "application/json"},
        allow_redirects=False,
        timeout=15,
    )
    schema()["/api/identities/unlink"]["POST"].validate_response(response)
    assert response.status_code == 401
    error = response.json()["error"]
    # The body is not JSON, so it names no return address: the renewal comes back by default.
    assert error["code"] == "login_required"
    assert error["redirect_to"] == "/account/relogin"
    assert t.identity_keys(tenant, t.ADA) == ADA_ALL


def test_a_return_to_that_is_not_a_string_is_refused_before_a_stale_login_matters(
    make_app, serve, tenant
):
    requests.post(f"{tenant}/__dev/clock", json={"offset": -600}, timeout=5).raise_for_status()
    visitor = Visitor(serve(make_app(REAUTH_MAX_AGE="60")))
    visitor.login()
    requests.post(f"{tenant}/__dev/clock", json={"offset": 0}, timeout=5).raise_for_status()
    response = Spa(visitor).call(
        "POST", "/identities/unlink", {"identity": t.ADA_GITHUB, "return_to": 5}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_request" and "return_to" in error["message"]
    assert t.identity_keys(tenant, t.ADA) == ADA_ALL


def test_a_stale_login_in_the_api_comes_back_to_the_return_to_of_the_body(make_app, serve, tenant):
    requests.post(f"{tenant}/__dev/clock", json={"offset": -600}, timeout=5).raise_for_status()
    visitor = Visitor(serve(make_app(REAUTH_MAX_AGE="60")))
    visitor.login()
    requests.post(f"{tenant}/__dev/clock", json={"offset": 0}, timeout=5).raise_for_status()
    response = Spa(visitor).call(
        "POST", "/identities/unlink", {"identity": t.ADA_GITHUB, "return_to": "/spa/accounts"}
    )
    assert response.status_code == 403
    assert response.json()["error"]["redirect_to"] == "/account/reauthenticate?next=/spa/accounts"


def test_a_token_auth0_refuses_is_renewed_even_if_our_clock_thinks_it_valid(
    make_app, serve, tenant
):
    visitor = Visitor(serve(make_app(IDENTITIES_CACHE_SECONDS="0")))
    visitor.login()
    t.reject_token_once(tenant)
    page = visitor.get("/account/unlink?identity=" + requests.utils.quote(t.ADA_GITHUB))
    hops = [r.url for r in page.history]
    assert any("/account/relogin" in u for u in hops), hops
    assert any("prompt=none" in u for u in hops), hops  # renewed silently, then back
    assert page.status_code == 200 and "/account/unlink?identity=" in page.url


@pytest.fixture
def app_in_request(make_app):
    app = make_app()
    with app.test_request_context(
        "/account/api/identities/unlink",
        method="POST",
        data="return_to=%2Fnot-json",
        content_type="application/x-www-form-urlencoded",
    ):
        yield app


@pytest.mark.parametrize(
    ("refusal", "status", "redirect_to"),
    [
        (NotAuthenticated("/spa"), 401, "/account/login?next=/spa"),
        (LoginRequired("/spa"), 401, "/account/relogin?next=/spa"),
        (LoginRequired(), 401, "/account/relogin"),
        (
            SessionRefreshRequired(Resumable.UNLINK, {}, "/spa"),
            403,
            "/account/reauthenticate?next=/spa",
        ),
        (AlreadyUnlinked("GitHub"), 404, None),
        (InvalidRequest("Send a JSON object."), 400, None),
    ],
)
def test_the_api_handler_translates_by_type_reading_nothing(
    app_in_request, refusal, status, redirect_to
):
    from flask import session

    before = dict(session)
    body, answered, _ = api.refused(refusal)
    assert answered == status
    error = body.get_json()["error"]
    assert error["code"] == refusal.code and error.get("redirect_to") == redirect_to
    assert dict(session) == before  # the handler changed nothing


@pytest.mark.parametrize(
    ("refusal", "location"),
    [
        (
            NotAuthenticated("/account/unlink?identity=x"),
            "/account/login?next=/account/unlink?identity%3Dx",
        ),
        (LoginRequired("/account/"), "/account/relogin?next=/account/"),
    ],
)
def test_the_page_handler_sends_the_browser_on_without_starting_a_trip(
    app_in_request, refusal, location
):
    from flask import session

    before = dict(session)
    response = pages.refused(refusal)
    assert response.status_code == 302 and response.location == location
    assert dict(session) == before  # no trip to Auth0 started in the handler


def test_a_refused_token_maps_to_login_required(app_in_request):
    assert isinstance(from_auth0(TokenRejected("Invalid token", status=401)), LoginRequired)


def test_every_kind_of_refusal_that_sends_the_browser_somewhere_has_a_destination():
    from linked_accounts.refusals import GoElsewhere

    assert set(api.REDIRECTS) == set(GoElsewhere.__subclasses__())
