"""Logging out of the app ends Auth0's session too, without Auth0's "log out?" prompt: the
logout request names the session by the ID token's `sid` (never the ID token itself)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.support import tenant as t
from tests.support.app_session import app_session
from tests.support.forms import submit
from tests.support.tenant_login import LoginError, login
from tests.support.visitor import Visitor


def tenant_session_ended(tenant: str, visitor) -> bool:
    """Whether the browser's SSO session at the tenant is gone (a silent login fails)."""
    try:
        login(tenant, None, session=visitor.http, extra_params={"prompt": "none"})
    except LoginError as exc:
        return exc.error == "login_required"
    return False


def test_logout_sends_the_sid_as_logout_hint_and_lands_home_without_a_prompt(visitor, tenant):
    visitor.login()
    page = submit(visitor.http, visitor.get("/account/"), "Log out")
    assert page.url.split("?")[0] == visitor.base + "/"
    (to_tenant,) = [r for r in page.history if r.url.startswith(visitor.base + "/account/logout")]
    query = parse_qs(urlsplit(to_tenant.headers["Location"]).query)
    # No `state`: Auth0 would hand it back on the front page's address, where nothing reads it.
    assert set(query) == {"logout_hint", "client_id", "post_logout_redirect_uri"}
    assert query["client_id"] == ["dev-client"]
    assert query["post_logout_redirect_uri"] == [visitor.base + "/"]
    assert "." not in query["logout_hint"][0]  # a session id, not a JWT
    # Every hop was a redirect: no page of the tenant was shown on the way.
    assert all(r.status_code == 302 for r in page.history)
    assert "Do you want to log out?" not in page.text
    assert tenant_session_ended(tenant, visitor)


def test_without_end_session_discovery_it_falls_back_to_v2_logout(visitor, tenant):
    doc = requests.get(f"{tenant}/.well-known/openid-configuration", timeout=5).json()
    del doc["end_session_endpoint"]
    t.fault(tenant, "discovery", status=200, body=doc)
    visitor.login()
    page = submit(visitor.http, visitor.get("/account/"), "Log out")
    assert page.url.split("?")[0] == visitor.base + "/"
    (to_tenant,) = [r for r in page.history if r.url.startswith(visitor.base + "/account/logout")]
    location = urlsplit(to_tenant.headers["Location"])
    assert location.path == "/v2/logout"
    assert parse_qs(location.query) == {
        "client_id": ["dev-client"],
        "returnTo": [visitor.base + "/"],
    }
    assert tenant_session_ended(tenant, visitor)


def log_out(visitor) -> requests.Response:
    """Press Log out; assert every hop was a redirect (no page of the tenant on the way)."""
    page = submit(visitor.http, visitor.get("/account/"), "Log out")
    assert page.url.split("?")[0] == visitor.base + "/"
    assert all(r.status_code == 302 for r in page.history)
    assert "Do you want to log out?" not in page.text
    return page


@pytest.mark.parametrize(
    ("button", "other", "linked"),
    [("Link GitHub", "Grace Hopper", True), ("Link Google", "Eve Unverified", False)],
)
def test_after_a_link_trip_logout_names_the_browsers_new_auth0_session(
    make_app, serve, tenant, button, other, linked
):
    # The login to the other account replaced Auth0's session in this browser, whether the link
    # then went through or was refused (Eve's email is not verified): only its sid is kept.
    app = make_app(LINK_CONNECTIONS="github,google-oauth2")
    visitor = Visitor(serve(app))
    visitor.login("Ben Carter")
    with app_session(app, visitor) as session:
        before = dict(session["linked_accounts"])
    page = visitor.link(button, other)
    assert ("is now linked" in page.text) is linked
    with app_session(app, visitor) as session:
        after = dict(session["linked_accounts"])
    assert after["sid"] != before["sid"]
    # Nothing else of the other account's sign-in: Ben's token, name and login time stay.
    assert {**after, "sid": before["sid"]} == before
    log_out(visitor)
    assert tenant_session_ended(tenant, visitor)


def test_the_logged_out_message_is_not_carried_into_the_next_sign_in(tenant, app_config, serve):
    """A product's front page that does not show flashed messages leaves "You are logged out."
    unread: the next sign-in starts without it, so no signed-in page (nor the single-page app's
    GET /api/session) tells the person, or the next one at a shared computer, they are out."""
    from examples.product_host.app import create_app as create_product

    base = serve(create_product({**app_config, "AUTH0_DOMAIN": tenant}))
    prefix = base + "/settings/sign-in"
    browser = Visitor(base)
    page = submit(
        browser.http, browser.http.get(prefix + "/login", timeout=10), "Continue as Ben Carter"
    )
    front = submit(browser.http, page, "Log out")
    assert front.url == base + "/" and "You are logged out." not in front.text  # not shown here
    again = submit(
        browser.http, browser.http.get(prefix + "/login", timeout=10), "Continue as Ben Carter"
    )
    assert again.url.startswith(prefix + "/") and "You are logged out." not in again.text
    session = browser.http.get(prefix + "/api/session", timeout=10).json()
    assert "You are logged out." not in str(session.get("messages"))
