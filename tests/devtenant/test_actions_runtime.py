"""The tenant runs a post-login Action with Node on every login, after the person authenticated
and before the code, and applies what it asks of `api` as Auth0 does."""

from __future__ import annotations

import logging
import time

import pytest

from devtenant import create_app as create_tenant
from devtenant.actions_runtime import TIMED_OUT
from tests.devtenant.action_flow import Browser
from tests.devtenant.conftest import ACTION_TIMEOUT, needs_node
from tests.support.tenant import BEN, GRACE, MAYA, MAYA_GITHUB, user
from tests.support.tenant_api import claims, http
from tests.support.tenant_login import LoginError

pytestmark = needs_node
SEEN = "https://fixture.test/seen"


def id_token(browser: Browser, account: str | None, **extra: str) -> dict:
    """Log in (the fixture Action doing `extra["fixture"]`) and return the ID token's claims."""
    return claims(browser.tokens(browser.begin(account, **extra))["id_token"])


def test_the_action_sees_the_user_client_connection_and_authorize_request(action_tenant):
    seen = id_token(Browser(action_tenant), "maya-patel", login_hint="maya@example.com")[SEEN]
    assert seen["user"]["user_id"] == MAYA_GITHUB
    assert seen["user"]["email"] == "maya@example.com" and seen["user"]["email_verified"] is True
    assert seen["user"]["name"] == "maya-patel"
    assert seen["user"]["created_at"] == "2026-10-20T18:05:00.000Z"
    assert seen["user"]["user_metadata"] == {"theme": "dark", "editor": "vim"}
    assert seen["user"]["app_metadata"] == {}  # always an object, as at Auth0
    assert [i["provider"] for i in seen["user"]["identities"]] == ["github"]
    assert seen["client"]["client_id"] == "dev-client" and seen["client"]["name"]
    assert seen["connection"]["name"] == seen["connection"]["strategy"] == "github"
    assert seen["query"]["login_hint"] == "maya@example.com"  # the /authorize parameters
    assert seen["query"]["client_id"] == "dev-client" and seen["method"] == "GET"
    assert seen["transaction"]["redirect_uri"] == "http://127.0.0.1:5999/callback"
    assert "openid" in seen["transaction"]["requested_scopes"]
    assert seen["secret_names"] == [
        "AUTH0_DOMAIN",
        "LINKING_SECRET",
        "LINKING_URL",
        "M2M_CLIENT_ID",
        "M2M_CLIENT_SECRET",
    ]


def test_the_database_connection_has_strategy_auth0(action_tenant):
    seen = id_token(Browser(action_tenant), "Ben Carter")[SEEN]
    assert seen["connection"]["name"] == "Username-Password-Authentication"
    assert seen["connection"]["strategy"] == "auth0"


def test_logins_count_counts_this_login_and_every_later_one_single_sign_on_included(
    action_tenant,
):
    assert user(action_tenant, MAYA_GITHUB)["logins_count"] == 0
    browser = Browser(action_tenant)
    assert id_token(browser, "maya-patel")[SEEN]["logins_count"] == 1
    # The browser's SSO session skips the login page; the Action runs all the same.
    assert id_token(browser, None)[SEEN]["logins_count"] == 2
    assert user(action_tenant, MAYA_GITHUB)["logins_count"] == 2
    assert user(action_tenant, MAYA)["logins_count"] == 14  # the older account's own count


def test_the_action_state_and_transaction_state_are_the_applications(action_tenant):
    browser = Browser(action_tenant)
    seen = id_token(browser, "Ben Carter")[SEEN]
    assert seen["transaction"]["state"] == browser.state


def test_a_denial_ends_the_login_at_the_callback_with_its_reason_and_keeps_metadata(
    action_tenant,
):
    browser = Browser(action_tenant)
    with pytest.raises(LoginError) as caught:
        browser.tokens(browser.begin("Ben Carter", fixture="deny"))
    assert (caught.value.error, caught.value.description) == ("access_denied", "Fixture says no.")
    assert caught.value.params["state"] == browser.state
    # Auth0: a denial does not cancel the Action's metadata changes.
    assert user(action_tenant, BEN)["app_metadata"] == {"denied_once": True}


def test_an_action_that_throws_fails_the_login_with_its_message(action_tenant):
    browser = Browser(action_tenant)
    with pytest.raises(LoginError) as caught:
        browser.tokens(browser.begin("Ben Carter", fixture="throw"))
    assert (caught.value.error, caught.value.description) == (
        "access_denied",
        "Fixture exploded.",
    )


def test_an_action_that_hangs_fails_the_login_at_the_timeout_not_later(action_tenant):
    browser = Browser(action_tenant)
    started = time.monotonic()
    response = browser.begin("Ben Carter", fixture="hang")
    elapsed = time.monotonic() - started
    with pytest.raises(LoginError) as caught:
        browser.tokens(response)
    assert (caught.value.error, caught.value.description) == ("access_denied", TIMED_OUT)
    assert ACTION_TIMEOUT <= elapsed < ACTION_TIMEOUT + 3


def test_metadata_the_action_sets_is_written_to_the_user(action_tenant):
    id_token(Browser(action_tenant), "maya-patel", fixture="metadata")
    stored = user(action_tenant, MAYA_GITHUB)
    assert stored["app_metadata"] == {"fixture": {"seen": True}}
    assert stored["user_metadata"] == {"editor": "emacs"}  # null removed "theme"


def test_custom_claims_reach_the_tokens_except_those_auth0_refuses(action_tenant, caplog):
    browser = Browser(action_tenant)
    with caplog.at_level(logging.WARNING, logger="devtenant.actions"):
        body = browser.tokens(browser.begin("Ben Carter", fixture="claims"))
    token = claims(body["id_token"])
    assert token["https://fixture.test/color"] == "teal"
    assert token["favourite_number"] == 7  # non-namespaced claims are allowed since 2022
    assert "https://example.auth0.com/sneaky" not in token  # Auth0's own namespace
    assert token["sub"] == BEN and token["email"] == "ben@example.com"  # reserved: unchanged
    access = claims(body["access_token"])
    assert access["https://fixture.test/tier"] == "gold"
    assert "plain" not in access  # an Auth0 API's access token takes namespaced claims only
    left_out = " ".join(r.getMessage() for r in caplog.records)
    assert "sneaky" in left_out and "'sub'" in left_out and "'plain'" in left_out


def test_the_cache_keeps_values_between_runs_until_they_expire(action_tenant):
    browser = Browser(action_tenant)
    count = "https://fixture.test/count"
    assert id_token(browser, "Ben Carter", fixture="cache", ttl="60000")[count] == 1
    assert id_token(browser, "Ben Carter", fixture="cache", ttl="60000")[count] == 2
    # Two minutes later, by the tenant's clock, the entry has expired.
    http.post(f"{action_tenant}/__dev/clock", json={"offset": 120}).raise_for_status()
    assert id_token(Browser(action_tenant), "Ben Carter", fixture="cache")[count] == 1


def test_the_action_reaches_the_tenants_management_api_while_the_login_waits(action_tenant):
    token = id_token(Browser(action_tenant), "Ben Carter", fixture="fetch")
    # The Action read Ben over HTTP (client credentials, then GET /api/v2/users/{id}): the
    # count it read is this login's.
    assert token["https://fixture.test/fetched"] == user(action_tenant, BEN)["logins_count"]


def test_what_the_action_prints_goes_to_the_tenants_log(action_tenant, caplog):
    with caplog.at_level(logging.INFO, logger="devtenant.actions"):
        id_token(Browser(action_tenant), "Grace Hopper")
    assert f"Action post_login.js: execute  as {GRACE}" in [r.getMessage() for r in caplog.records]


def test_set_primary_user_to_a_user_not_holding_the_login_fails_it(action_tenant):
    browser = Browser(action_tenant)
    with pytest.raises(LoginError) as caught:
        browser.tokens(browser.begin("Grace Hopper", fixture="primary", primary=BEN))
    assert caught.value.error == "access_denied"
    assert "setPrimaryUser" in caught.value.description


def test_a_redirect_under_prompt_none_is_interaction_required(action_tenant):
    browser = Browser(action_tenant)
    id_token(browser, "Ben Carter")
    with pytest.raises(LoginError) as caught:
        browser.tokens(browser.begin(None, prompt="none", fixture="redirect"))
    assert caught.value.error == "interaction_required"


def test_the_start_up_action_file_is_read_at_every_login(tmp_path, serve):
    """Edits to the Action file apply at the next login, without a restart."""
    action = tmp_path / "claim.js"
    code = (
        "exports.onExecutePostLogin = async (event, api) => "
        "{{ api.idToken.setCustomClaim({!r}, {}); }};"
    )
    action.write_text(code.format("https://fixture.test/version", 1))
    tenant = serve(create_tenant({"DEVTENANT_ACTION": str(action)}))
    assert id_token(Browser(tenant), "Ben Carter")["https://fixture.test/version"] == 1
    action.write_text(code.format("https://fixture.test/version", 2))
    assert id_token(Browser(tenant), "Ben Carter")["https://fixture.test/version"] == 2
