"""An expired access token: the user logs in again, silently (`prompt=none`) while Auth0 still
has their session, else on Auth0's login page; a confirmed unlink is neither lost nor carried
out without them, and a half-done link never signs them in as the other account."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.support import tenant as t
from tests.support.app_session import app_session, expire_token
from tests.support.visitor import Visitor

ADA_ALL = [t.ADA, t.ADA_GOOGLE, t.ADA_GITHUB, t.ADA_SAML]
# Tokens that live 45 s: still valid for our app (it renews 30 s early), expired for a tenant
# whose clock runs 60 s ahead (within the 120 s leeway Authlib allows ID tokens).
SHORT_LIFETIME, AHEAD = 45, 60


@pytest.fixture
def served(make_app, serve):
    """The app object (to reach its session store) and a Visitor of it over real HTTP."""
    app = make_app(LINK_CONNECTIONS="github", IDENTITIES_CACHE_SECONDS="0")
    return app, Visitor(serve(app))


def authorize_hops(response: requests.Response) -> list[dict[str, list[str]]]:
    """The query of every trip to the tenant's /authorize on the way to `response`."""
    urls = [r.url for r in response.history] + [response.url]
    return [parse_qs(urlsplit(u).query) for u in urls if urlsplit(u).path == "/authorize"]


def forget_auth0_session(visitor: Visitor) -> None:
    """Drop the tenant's SSO cookie, as when Auth0's session has ended."""
    for cookie in list(visitor.http.cookies):
        if cookie.name == "devtenant_sso":
            visitor.http.cookies.clear(cookie.domain, cookie.path, cookie.name)


def tenant_rejects_tokens_we_think_valid(tenant: str) -> None:
    """Shorten token lifetimes (call before login), for `run_tenant_clock_ahead` afterwards."""
    requests.post(
        f"{tenant}/__dev/config", json={"access_token_lifetime": SHORT_LIFETIME}, timeout=5
    ).raise_for_status()


def run_tenant_clock_ahead(tenant: str) -> None:
    requests.post(f"{tenant}/__dev/clock", json={"offset": AHEAD}, timeout=5).raise_for_status()


def token_expires_at(app, visitor) -> float:
    with app_session(app, visitor) as session:
        return session["linked_accounts"]["expires_at"]


def test_an_expired_token_is_renewed_silently_while_auth0_has_a_session(served, tenant):
    app, visitor = served
    visitor.login("Ada Lovelace")
    expire_token(app, visitor)
    page = visitor.get("/account/")
    hops = authorize_hops(page)
    assert [h["prompt"] for h in hops] == [["none"]]  # one silent trip, no login page
    assert page.status_code == 200 and page.url.split("?")[0] == visitor.base + "/account/"
    assert "ada@example.com" in page.text
    assert token_expires_at(app, visitor) > time.time() + 3600  # a new token, kept
    assert visitor.get("/account/").history == []  # the new token is used, no further trips


def test_a_token_auth0_rejects_as_expired_is_renewed_silently(served, tenant):
    app, visitor = served
    tenant_rejects_tokens_we_think_valid(tenant)
    visitor.login("Ada Lovelace")
    run_tenant_clock_ahead(tenant)  # our clock says valid; Auth0's says expired
    page = visitor.get("/account/")
    assert [h["prompt"] for h in authorize_hops(page)] == [["none"]]
    assert page.status_code == 200 and "ada@example.com" in page.text
    assert len(visitor.get("/account/").history) == 0


def test_without_an_auth0_session_the_user_logs_in_on_auth0s_page(served, tenant):
    app, visitor = served
    visitor.login("Ada Lovelace")
    expire_token(app, visitor)
    forget_auth0_session(visitor)
    login_page = visitor.get("/account/")
    assert [h["prompt"] for h in authorize_hops(login_page)] == [["none"], ["login"]]
    assert "Continue as Ada Lovelace" in login_page.text
    page = visitor.press(login_page, "Continue as Ada Lovelace")
    assert page.url.split("?")[0] == visitor.base + "/account/"
    assert "ada@example.com" in page.text


@pytest.mark.parametrize("auth0_session", [True, False], ids=["silent", "login-page"])
def test_a_confirmed_unlink_with_an_expired_token_returns_to_its_confirmation(
    served, tenant, auth0_session
):
    app, visitor = served
    visitor.login("Ada Lovelace")
    confirm = visitor.confirm_page(t.ADA_GITHUB)
    expire_token(app, visitor)
    if not auth0_session:
        forget_auth0_session(visitor)
    calls = t.stats(tenant)["management_calls_total"]
    visitor.http.headers["Referer"] = confirm.url  # browsers send it (Referrer-Policy same-origin)
    page = visitor.press(confirm, "Unlink")
    if not auth0_session:
        assert "Continue as Ada Lovelace" in page.text
        page = visitor.press(page, "Continue as Ada Lovelace")
    # Not carried out without the user: no DELETE was sent, nothing changed.
    assert t.identity_keys(tenant, t.ADA) == ADA_ALL
    assert t.stats(tenant)["management_calls_total"] - calls <= 1  # at most the page's GET
    # Not lost: the user is back on the same confirmation, and one press finishes it.
    assert page.status_code == 200
    assert page.url == confirm.url
    assert "Unlink GitHub</button>" in page.text
    done = visitor.press(page, "Unlink")
    assert "was unlinked" in done.text
    assert t.identity_keys(tenant, t.ADA) == [t.ADA, t.ADA_GOOGLE, t.ADA_SAML]


def test_an_unlink_auth0_refuses_for_an_expired_token_returns_to_its_confirmation(served, tenant):
    app, visitor = served
    tenant_rejects_tokens_we_think_valid(tenant)
    visitor.login("Ada Lovelace")
    confirm = visitor.confirm_page(t.ADA_GITHUB)
    run_tenant_clock_ahead(tenant)  # the DELETE itself gets Auth0's 401
    visitor.http.headers["Referer"] = confirm.url
    page = visitor.press(confirm, "Unlink")
    assert [h["prompt"] for h in authorize_hops(page)] == [["none"]]
    assert t.identity_keys(tenant, t.ADA) == ADA_ALL
    assert page.status_code == 200 and page.url == confirm.url
    assert "Unlink GitHub</button>" in page.text
    assert "was unlinked" in visitor.press(page, "Unlink").text
    assert t.identity_keys(tenant, t.ADA) == [t.ADA, t.ADA_GOOGLE, t.ADA_SAML]


def test_an_expired_token_during_a_link_never_signs_in_as_the_other_account(served, tenant):
    app, visitor = served
    visitor.login("Ben Carter")
    login_page = visitor.press_link("Link GitHub")
    expire_token(app, visitor)
    # Signing in to Grace's GitHub makes Auth0's session Grace's: a silent login now would
    # sign the browser in as Grace. Auth0's page must ask who is signing in instead.
    page = visitor.press(login_page, "Continue as Grace Hopper")
    assert "Continue as Ben Carter" in page.text, page.text[:300]
    assert t.identity_keys(tenant, t.BEN) == [t.BEN]
    assert t.identity_keys(tenant, t.GRACE) == [t.GRACE]
    settings = visitor.press(page, "Continue as Ben Carter")
    assert settings.status_code == 200 and settings.url.split("?")[0] == visitor.base + "/account/"
    assert "ben@example.com" in settings.text
    assert t.identity_keys(tenant, t.BEN) == [t.BEN]


def test_an_id_token_from_a_tenant_clock_far_ahead_is_refused_without_a_500(served, tenant):
    app, visitor = served
    requests.post(f"{tenant}/__dev/clock", json={"offset": 3600}, timeout=5).raise_for_status()
    front = visitor.get("/account/")  # to our login, then Auth0's page
    page = visitor.press(front, "Continue as Ada Lovelace")
    # The ID token says it was issued an hour from now: refused, clearly, and nobody signed in.
    assert page.status_code in (400, 502), page.status_code
    assert "Sign-in did not complete" in page.text
    assert visitor.get("/account/", allow_redirects=False).status_code == 302
