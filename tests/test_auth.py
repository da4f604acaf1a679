"""Signing in and renewing the token: a renewal nobody needs never starts, and every trip asks
Auth0 only for the current user's scopes."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import requests

from linked_accounts.signin import trips
from tests.support import tenant as t
from tests.support.servers import free_port
from tests.support.spa import Spa
from tests.support.stored_session import COOKIE, signed_in, stored
from tests.support.visitor import Visitor

LEAST_PRIVILEGE = {"openid", "profile", "email", "read:current_user"}


def test_relogin_with_a_usable_token_goes_back_without_a_trip_to_auth0(app, base):
    ada = Visitor(base)
    ada.login()
    response = ada.get("/account/relogin?next=/account/", allow_redirects=False)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/"
    assert not stored(app, ada.http.cookies[COOKIE]).get(trips.PENDING)
    assert signed_in(ada)


def test_the_app_asks_auth0_only_for_current_user_scopes(make_app, serve, tenant):
    # REAUTH_MAX_AGE=0: unlinking and linking each need a re-login first, so every kind of
    # trip the app makes (login, re-authentication, link) is seen here.
    base = serve(make_app(LINK_CONNECTIONS="github", REAUTH_MAX_AGE="0"))
    visitor = Visitor(base)
    asked: dict[str, set[str]] = {}

    def remember(response, *args, **kwargs):
        parts = urlsplit(response.url)
        if parts.path == "/authorize":
            query = parse_qs(parts.query)
            purpose = "login" if "login_hint" not in query else "reauth"
            asked.setdefault(purpose, set()).update(query.get("scope", [""])[0].split())

    visitor.http.hooks["response"].append(remember)
    visitor.login()
    relogin = visitor.unlink(t.ADA_GITHUB)
    assert "was unlinked" in visitor.press(relogin, "Continue as Ada Lovelace").text
    relogin = visitor.press_link("Link GitHub")
    other = visitor.press(relogin, "Continue as Ada Lovelace")
    assert "is now linked" in visitor.press(other, "Continue as Grace Hopper").text
    assert set(asked) == {"login", "reauth"}
    # The login asks exactly what the settings page needs to act for the user on their own
    # profile: never update:users, read:users or any other tenant-wide scope.
    assert asked["login"] == LEAST_PRIVILEGE | {"update:current_user_identities"}
    assert asked["reauth"] <= LEAST_PRIVILEGE | {"update:current_user_identities"}


UNREACHABLE = "There is no connection to your sign-in service"


def test_login_answers_a_clear_503_when_auth0_cannot_be_reached(make_app, serve):
    base = serve(make_app(AUTH0_DOMAIN=f"http://127.0.0.1:{free_port()}"))  # nobody listens
    page = requests.get(f"{base}/account/login", timeout=15)
    assert page.status_code == 503
    assert page.headers["Content-Type"].startswith("text/html")
    assert UNREACHABLE in page.text and "Traceback" not in page.text


def test_login_answers_503_while_discovery_fails_and_signs_in_once_it_is_back(base, tenant):
    t.fault(tenant, "discovery", status=503)  # until cleared
    page = requests.get(f"{base}/account/login", timeout=15)
    assert page.status_code == 503 and UNREACHABLE in page.text
    t.clear_faults(tenant)
    Visitor(base).login()  # nothing of the failure was kept


def test_the_json_api_answers_503_as_json_when_a_trip_cannot_start(make_app, serve, tenant):
    # Ada signed in on one instance; another, just started (it has not read Auth0's discovery
    # document yet), shares the session store and is asked to start a link while Auth0 is down.
    first = Visitor(serve(make_app()))
    first.login()
    second = Visitor(serve(make_app()))
    second.http = first.http  # the same browser (cookies are not per port)
    t.fault(tenant, "discovery", status=503)
    response = Spa(second).call("POST", "/identities/link", {})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "auth0_unreachable"
    assert UNREACHABLE in response.json()["error"]["message"]
