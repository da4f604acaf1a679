"""Auth0 may grant fewer scopes than asked (the token response's `scope` says which): each
missing scope is explained before anything is sent to Auth0, and nothing is changed."""

from __future__ import annotations

import logging
import time

import pytest
import requests

from linked_accounts.signin.account import Account
from tests.support import tenant as t
from tests.support.spa import Spa
from tests.support.visitor import Visitor

OFFER = "Also delete the separate GitHub account"


def withhold(tenant: str, *scopes: str) -> None:
    response = requests.post(f"{tenant}/__dev/scopes", json={"withhold": list(scopes)}, timeout=5)
    response.raise_for_status()


def test_without_update_scope_unlinking_says_what_to_grant_and_changes_nothing(
    visitor, tenant, caplog
):
    caplog.set_level(logging.ERROR, logger="linked_accounts.refusals")
    withhold(tenant, "update:current_user_identities")
    page = visitor.login()
    assert "GitHub" in page.text  # reading still works
    calls = t.stats(tenant)["management_calls_total"]
    refused = visitor.post(
        "/account/unlink", {"identity": t.ADA_GITHUB, "csrf_token": visitor.csrf_token()}
    )
    assert refused.status_code == 403
    # The user is told it is the site's setup; the administrator, in the log, what to grant.
    assert "This site is not set up to make this change" in refused.text
    assert "update:current_user_identities" not in refused.text
    assert "did not grant the scope update:current_user_identities" in caplog.text
    assert "nothing was changed" in refused.text
    assert t.stats(tenant)["management_calls_total"] == calls  # Auth0 was not asked
    assert t.identity_keys(tenant, t.ADA) == [t.ADA, t.ADA_GOOGLE, t.ADA_GITHUB, t.ADA_SAML]


def test_without_update_scope_linking_does_not_start(make_app, serve, tenant):
    withhold(tenant, "update:current_user_identities")
    visitor = Visitor(serve(make_app(LINK_CONNECTIONS="github")))
    visitor.login("Ben Carter")
    page = visitor.post(
        "/account/link", {"connection": "github", "csrf_token": visitor.csrf_token()}
    )
    assert page.status_code == 403 and page.url.startswith(visitor.base)
    assert "This site is not set up to make this change" in page.text


def test_without_read_scope_the_page_says_what_to_grant(visitor, tenant, caplog):
    caplog.set_level(logging.ERROR, logger="linked_accounts.refusals")
    withhold(tenant, "read:current_user")
    front = visitor.get("/")
    login_page = visitor.http.get(visitor.base + "/account/login", timeout=10)
    page = visitor.press(login_page, "Continue as Ada Lovelace")
    assert front.status_code == 200 and page.status_code == 403
    assert "This site is not set up to make this change" in page.text
    assert "did not grant the scope read:current_user" in caplog.text
    assert t.stats(tenant)["management_calls_total"] == 0


def test_the_json_api_refuses_by_code_and_logs_the_missing_scope(make_app, serve, tenant, caplog):
    caplog.set_level(logging.ERROR, logger="linked_accounts.refusals")
    withhold(tenant, "read:current_user")
    visitor = Visitor(serve(make_app()))
    login_page = visitor.http.get(visitor.base + "/account/login", timeout=10)
    visitor.press(login_page, "Continue as Ada Lovelace")
    answer = Spa(visitor).call("GET", "/identities")
    body = answer.json()["error"]
    assert answer.status_code == 403 and body["code"] == "scope_not_granted"
    assert "read:current_user" not in body["message"]  # shown to end users by the app
    assert "did not grant the scope read:current_user" in caplog.text


def test_without_delete_scope_the_deletion_points_to_server_mode_and_the_unlink_stands(
    make_app, serve, tenant, caplog
):
    caplog.set_level(logging.ERROR, logger="linked_accounts.refusals")
    visitor = Visitor(serve(make_app(OFFER_DELETE_SEPARATED="1")))
    visitor.login()
    page = visitor.unlink(t.ADA_GITHUB)
    withhold(tenant, "delete:current_user")
    href = page.text.split(OFFER)[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    login_page = visitor.press(visitor.get(href), "Delete the separate GitHub account")
    refused = visitor.press(login_page, "Continue as Ada Lovelace")
    assert refused.status_code == 403
    assert "cannot delete the separate GitHub account for you" in refused.text
    assert "LINKED_ACCOUNTS_DELETE_SEPARATED_MODE=server" in caplog.text  # for the administrator
    assert t.user(tenant, t.ADA_GITHUB) is not None  # not deleted
    assert t.identity_keys(tenant, t.ADA) == [t.ADA, t.ADA_GOOGLE, t.ADA_SAML]  # unlink stands


@pytest.mark.parametrize(
    ("scope", "granted"),
    [(None, True), ("openid read:current_user", False), ("update:current_user_identities", True)],
)
def test_a_token_response_without_scope_means_everything_asked_was_granted(scope, granted):
    acct = Account("auth0|1", None, None, "token", time.time() + 60, 60, None, scope=scope)
    assert acct.granted("update:current_user_identities") is granted
