"""Logging out of the app ends Auth0's session too, without Auth0's "log out?" prompt: the
logout request names the session by the ID token's `sid` (never the ID token itself)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import requests

from tests.support import tenant as t
from tests.support.forms import submit
from tests.support.tenant_login import LoginError, login


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
    assert set(query) == {"logout_hint", "client_id", "post_logout_redirect_uri", "state"}
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
