"""A post-login Action's redirect suspends the login; /continue resumes it, once, in the same
browser, running onContinuePostLogin with a token it can validate; setPrimaryUser then ends the
login as the primary only when the primary really holds the identity that logged in."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest

from tests.devtenant.action_flow import (
    LINKING_SECRET,
    LINKING_URL,
    Browser,
    answer,
    jwt,
    query_of,
    verified_claims,
)
from tests.devtenant.conftest import needs_node
from tests.support.tenant import ADA, BEN, GRACE, MAYA, MAYA_GITHUB, user
from tests.support.tenant_api import auth, claims, http, m2m_token, user_url
from tests.support.tenant_login import LoginError

pytestmark = needs_node
CONTINUED = "https://fixture.test/continued"
LOST = "there is some issue with cookies"


def test_a_redirect_sends_the_browser_to_the_url_with_the_actions_query_and_a_state(
    action_tenant,
):
    redirect = Browser(action_tenant).redirected("maya-patel", fixture="redirect")
    assert set(redirect) == {"session_token", "state"}
    assert len(redirect["state"]) >= 32  # opaque and unguessable


def test_encode_token_signs_hs256_with_the_secret_in_auth0s_claims(action_tenant):
    before = int(time.time())
    redirect = Browser(action_tenant).redirected("maya-patel", fixture="redirect")
    token = verified_claims(redirect["session_token"])  # header {"alg":"HS256","typ":"JWT"}
    # The tenant's hostname, as Auth0's "Redirect with Actions" page says (not the issuer URL).
    assert token["iss"] == urlsplit(action_tenant).netloc
    assert token["sub"] == MAYA_GITHUB
    assert before <= token["iat"] <= int(time.time()) and token["exp"] == token["iat"] + 300
    assert token["purpose"] == "fixture" and token["candidates"] == ["auth0|someone"]
    assert token["ip"] == "127.0.0.1"  # Auth0 adds the request's address
    with pytest.raises(AssertionError):
        verified_claims(redirect["session_token"], secret="another secret")


def test_continue_resumes_with_the_continue_query_and_the_validated_answer(action_tenant):
    browser = Browser(action_tenant)
    redirect = browser.redirected("maya-patel", fixture="redirect")
    token = answer(redirect, MAYA_GITHUB, action="skip")
    body = browser.tokens(browser.resume(state=redirect["state"], session_token=token))
    id_token = claims(body["id_token"])
    continued = id_token[CONTINUED]
    assert continued["payload"]["action"] == "skip" and continued["payload"]["sub"] == MAYA_GITHUB
    assert continued["query"] == {"state": redirect["state"], "session_token": token}
    assert continued["user_id"] == MAYA_GITHUB
    assert continued["logins_count"] == 1  # the same login, not a second one
    # What the Action set before the redirect is kept: the login is one transaction.
    assert id_token["https://fixture.test/seen"]["user"]["user_id"] == MAYA_GITHUB
    assert id_token["sub"] == MAYA_GITHUB


def test_continue_takes_a_post_with_the_token_in_the_body(action_tenant):
    browser = Browser(action_tenant)
    redirect = browser.redirected("maya-patel", fixture="redirect")
    token = answer(redirect, MAYA_GITHUB, action="skip")
    response = browser.resume("POST", state=redirect["state"], session_token=token)
    continued = claims(browser.tokens(response)["id_token"])[CONTINUED]
    assert continued["body"] == {"state": redirect["state"], "session_token": token}
    assert continued["payload"]["state"] == redirect["state"]


@pytest.mark.parametrize(
    ("forge", "reason"),
    [
        (lambda r, sub: jwt({**claims(answer(r, sub)), "sub": sub}, secret="guessed"), "signature"),
        (lambda r, sub: jwt(claims(answer(r, sub)), alg="none"), "HS256"),
        (lambda r, sub: jwt(claims(answer(r, sub)), alg="HS512"), "HS256"),
        (lambda r, sub: jwt({**claims(answer(r, sub)), "exp": int(time.time()) - 1}), "expired"),
        (lambda r, sub: answer({"state": "another-login"}, sub), "does not match"),
        (lambda r, sub: "not-a-jwt", "Malformed"),
    ],
    ids=["forged-signature", "alg-none", "alg-hs512", "expired", "wrong-state", "garbage"],
)
def test_validate_token_refuses_what_the_page_did_not_sign_for_this_login(
    action_tenant, forge, reason
):
    browser = Browser(action_tenant)
    redirect = browser.redirected("maya-patel", fixture="redirect")
    response = browser.resume(state=redirect["state"], session_token=forge(redirect, MAYA_GITHUB))
    with pytest.raises(LoginError) as caught:  # the fixture denies with validateToken's error
        browser.tokens(response)
    assert caught.value.error == "access_denied"
    assert caught.value.description.startswith("The session token is invalid: ")
    assert reason in caught.value.description


def test_validate_token_needs_the_token_parameter(action_tenant):
    browser = Browser(action_tenant)
    redirect = browser.redirected("maya-patel", fixture="redirect")
    with pytest.raises(LoginError) as caught:
        browser.tokens(browser.resume(state=redirect["state"]))
    assert 'No "session_token" parameter' in caught.value.description


def lost(response) -> bool:
    """Auth0's invalid_request page for a transaction it cannot find."""
    return (
        response.status_code == 400 and "invalid_request" in response.text and LOST in response.text
    )


def test_an_unknown_or_missing_state_gets_auth0s_invalid_request_page(action_tenant):
    browser = Browser(action_tenant)
    assert lost(browser.resume(state="never-issued"))
    assert lost(browser.resume())


def test_a_state_resumes_its_login_only_once(action_tenant):
    browser = Browser(action_tenant)
    redirect = browser.redirected("maya-patel", fixture="redirect")
    token = answer(redirect, MAYA_GITHUB, action="skip")
    first = browser.resume(state=redirect["state"], session_token=token)
    assert "code=" in first.headers["Location"]
    assert lost(browser.resume(state=redirect["state"], session_token=token))


def test_the_browser_is_bound_by_an_http_only_cookie_sent_to_continue_only(action_tenant):
    response = Browser(action_tenant).begin("maya-patel", fixture="redirect")
    cookie = next(c for c in response.raw.headers.getlist("Set-Cookie") if "continue" in c)
    assert cookie.startswith("devtenant_continue=")
    assert "HttpOnly" in cookie and "Path=/continue" in cookie and "SameSite=Lax" in cookie


def test_another_browser_cannot_resume_the_login(action_tenant):
    redirect = Browser(action_tenant).redirected("maya-patel", fixture="redirect")
    token = answer(redirect, MAYA_GITHUB, action="skip")
    assert lost(Browser(action_tenant).resume(state=redirect["state"], session_token=token))


def test_a_suspended_login_expires_after_an_hour(action_tenant):
    browser = Browser(action_tenant)
    redirect = browser.redirected("maya-patel", fixture="redirect")
    http.post(f"{action_tenant}/__dev/clock", json={"offset": 3601}).raise_for_status()
    assert lost(browser.resume(state=redirect["state"], session_token="x"))


def test_on_continue_can_redirect_again_and_the_new_state_resumes(action_tenant):
    browser = Browser(action_tenant)
    first = browser.redirected("maya-patel", fixture="redirect")
    again = browser.resume(
        state=first["state"], session_token=answer(first, MAYA_GITHUB, redirect_again=True)
    )
    assert again.headers["Location"].startswith(f"{LINKING_URL}?again=1&state=")
    second = query_of(again)
    assert second["state"] != first["state"]
    body = browser.tokens(
        browser.resume(state=second["state"], session_token=answer(second, MAYA_GITHUB))
    )
    assert claims(body["id_token"])["sub"] == MAYA_GITHUB


def link(tenant: str, primary: str, secondary: str) -> None:
    """Link `secondary` into `primary` server-side, as the Action would."""
    provider, _, secondary_id = secondary.partition("|")
    response = http.post(
        f"{user_url(tenant, primary)}/identities",
        json={"provider": provider, "user_id": secondary_id},
        headers=auth(m2m_token(tenant, "update:users")),
    )
    assert response.status_code == 201, response.text


def test_set_primary_user_ends_the_login_as_the_primary_once_linked(action_tenant):
    browser = Browser(action_tenant)
    redirect = browser.redirected("maya-patel", fixture="redirect")
    link(action_tenant, MAYA, MAYA_GITHUB)  # while the login waits, as the Action would
    token = answer(redirect, MAYA_GITHUB, action="link", primary=MAYA)
    body = browser.tokens(browser.resume(state=redirect["state"], session_token=token))
    assert claims(body["id_token"])["sub"] == MAYA
    assert claims(body["access_token"])["sub"] == MAYA
    assert user(action_tenant, MAYA_GITHUB) is None
    # The browser's SSO session is the primary's now: the next login skips the page as Maya.
    assert claims(browser.tokens(browser.begin(None))["id_token"])["sub"] == MAYA


def test_set_primary_user_without_the_link_fails_the_login(action_tenant):
    browser = Browser(action_tenant)
    redirect = browser.redirected("maya-patel", fixture="redirect")
    token = answer(redirect, MAYA_GITHUB, action="link", primary=MAYA)
    with pytest.raises(LoginError) as caught:
        browser.tokens(browser.resume(state=redirect["state"], session_token=token))
    assert caught.value.error == "access_denied"
    assert MAYA in caught.value.description and MAYA_GITHUB in caught.value.description


def test_a_primary_holding_another_identity_is_not_enough(action_tenant):
    browser = Browser(action_tenant)
    redirect = browser.redirected("Ben Carter", fixture="redirect")
    link(action_tenant, ADA, GRACE)  # Ada holds Grace, not Ben
    token = answer(redirect, BEN, primary=ADA)
    with pytest.raises(LoginError):
        browser.tokens(browser.resume(state=redirect["state"], session_token=token))


def test_without_set_primary_user_a_linked_away_login_ends_for_a_user_that_is_gone(
    action_tenant,
):
    """Auth0 does not switch users by itself: the code names a user id that no longer exists."""
    browser = Browser(action_tenant)
    redirect = browser.redirected("maya-patel", fixture="redirect")
    link(action_tenant, MAYA, MAYA_GITHUB)
    response = browser.resume(state=redirect["state"], session_token=answer(redirect, MAYA_GITHUB))
    with pytest.raises(LoginError) as caught:
        browser.tokens(response)
    assert caught.value.error == "invalid_grant"


def test_a_sign_in_during_the_redirect_runs_the_action_and_the_resumed_login_ends_as_itself(
    action_tenant,
):
    """The linking page's proof sign-in happens in the same browser while the login waits."""
    browser = Browser(action_tenant)
    redirect = browser.redirected("maya-patel", fixture="redirect")
    first = (browser.state, browser.verifier)
    proof = browser.tokens(browser.begin("Maya Patel", prompt="login", linked_accounts="proof"))
    seen = claims(proof["id_token"])["https://fixture.test/seen"]
    assert seen["query"]["linked_accounts"] == "proof" and seen["user"]["user_id"] == MAYA
    browser.state, browser.verifier = first  # the resumed login is the first /authorize's
    resumed = browser.resume(state=redirect["state"], session_token=answer(redirect, MAYA_GITHUB))
    assert claims(browser.tokens(resumed)["id_token"])["sub"] == MAYA_GITHUB
    assert claims(browser.tokens(browser.begin(None))["id_token"])["sub"] == MAYA_GITHUB


def test_the_secret_never_reaches_the_browser(action_tenant):
    browser = Browser(action_tenant)
    response = browser.begin("maya-patel", fixture="redirect")
    assert LINKING_SECRET not in response.headers["Location"]
    assert LINKING_SECRET not in response.text
