"""Signing in and renewing the token: a renewal nobody needs never starts, and every trip asks
Auth0 only for the current user's scopes."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from linked_accounts import trips
from tests.support import tenant as t
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
