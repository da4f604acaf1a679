"""The at-login door end to end in Chromium: the app's own `install-action` puts the shipped
Action on the development tenant, which runs it with Node on every login; the Action sends Maya
to the page at the login that made her duplicate; she proves the other account and ends signed in
to the older one, merged. "Not now" and "Not mine" hold; a cancelled proof and the wrong account
change nothing; Auth0 down during the Action's lookup does not stop the login."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from joserfc import jwt
from joserfc.jwk import OctKey
from playwright.sync_api import Page, expect

from linked_accounts import accounts_merged
from tests.e2e.pages import settings_url
from tests.support import tenant as t

pytestmark = pytest.mark.browser

SECRET = "at-login-browser-secret-0123456789abcdef"
DOOR = {
    "AT_LOGIN_SECRET": SECRET,
    "AUTH0_M2M_CLIENT_ID": "dev-m2m",
    "AUTH0_M2M_CLIENT_SECRET": "dev-m2m-secret",
}


@pytest.fixture
def door(serve_app, tenant, tmp_path, app_config) -> Iterator[tuple[str, list]]:
    """The app with the door open, and the Action installed on the tenant by the app's own
    command, pointing at this app's page; yields its URL and the merges it announced."""
    if shutil.which("node") is None:
        pytest.fail("node is needed: the development tenant runs the Action with it")
    from app import create_app

    merges: list[tuple[str, str]] = []
    with serve_app(**DOOR, INSTANCE_PATH=str(tmp_path)) as url:
        installer = create_app({**app_config, "AUTH0_DOMAIN": tenant, **DOOR})
        result = installer.test_cli_runner().invoke(
            args=["linked-accounts", "install-action", "--linking-url", f"{url}/account/at-login"]
        )
        assert result.exit_code == 0, result.output

        def record(sender, primary_id, merged_id):
            merges.append((primary_id, merged_id))

        accounts_merged.connect(record)
        try:
            yield url, merges
        finally:
            accounts_merged.disconnect(record)


def start_login(page: Page, app_url: str, name: str) -> None:
    page.goto(app_url + "/")
    page.get_by_role("link", name="Log in").click()
    page.get_by_role("button", name=f"Continue as {name}").click()


def app_metadata(tenant: str, user_id: str) -> dict:
    return (t.user(tenant, user_id) or {}).get("app_metadata") or {}


def make_due(tenant: str, user_id: str) -> None:
    """A "Not now" whose period is over: the next login is asked about again."""
    kept = app_metadata(tenant, user_id).get("linked_accounts") or {}
    t.set_app_metadata(
        tenant, user_id, {"linked_accounts": {**kept, "not_now_until": int(time.time()) - 5}}
    )


def test_signed_in_with_the_newer_account_she_ends_as_the_older_one_merged(
    page: Page, door, tenant
):
    app_url, merges = door
    start_login(page, app_url, "maya-patel")  # her GitHub account's first login
    expect(page.get_by_role("heading", level=1)).to_have_text("Is this also you?")
    expect(page.get_by_text("You keep the Email and password account")).to_be_visible()
    assert Axe().run(page).violations_count == 0
    page.get_by_role("button", name="Sign in and link").click()
    page.get_by_role("button", name="Continue as Maya Patel").click()  # the proof
    expect(page).to_have_url(settings_url(app_url))
    accounts = page.get_by_role("list", name="Linked accounts")
    expect(accounts.get_by_text("Email and password")).to_be_visible()
    expect(page.get_by_role("link", name="Unlink GitHub (maya@example.com)")).to_be_visible()
    assert t.identity_keys(tenant, t.MAYA) == [t.MAYA, t.MAYA_GITHUB]
    assert t.user(tenant, t.MAYA_GITHUB) is None
    assert t.user(tenant, t.MAYA)["user_metadata"]["editor"] == "vim"  # merged before the link
    assert merges == [(t.MAYA, t.MAYA_GITHUB)]  # told once


def test_signed_in_with_the_older_account_the_newer_one_is_merged_into_it(page: Page, door, tenant):
    app_url, merges = door
    make_due(tenant, t.MAYA)
    start_login(page, app_url, "Maya Patel")
    expect(page.get_by_text("You keep this profile")).to_be_visible()
    page.get_by_role("button", name="Sign in and link").click()
    # The proof is the GitHub account's own first login: the Action does not send it to the
    # page again (it is marked as the page's proof).
    page.get_by_role("button", name="Continue as maya-patel").click()
    expect(page).to_have_url(settings_url(app_url))
    expect(page.get_by_role("link", name="Unlink GitHub (maya@example.com)")).to_be_visible()
    assert t.identity_keys(tenant, t.MAYA) == [t.MAYA, t.MAYA_GITHUB]
    assert merges == [(t.MAYA, t.MAYA_GITHUB)]


def test_not_mine_is_not_asked_again(page: Page, door, tenant):
    app_url, merges = door
    start_login(page, app_url, "maya-patel")
    page.get_by_role("button", name="Not mine").click()
    expect(page).to_have_url(settings_url(app_url))
    expect(page.get_by_role("status")).to_contain_text("will not be suggested again")
    assert app_metadata(tenant, t.MAYA_GITHUB)["linked_accounts"]["not_mine"] == [t.MAYA]
    page.get_by_role("button", name="Log out").click()
    make_due(tenant, t.MAYA_GITHUB)  # due again: only "Not mine" keeps the question away
    start_login(page, app_url, "maya-patel")
    expect(page).to_have_url(settings_url(app_url))
    assert t.identity_keys(tenant, t.MAYA_GITHUB) == [t.MAYA_GITHUB]
    assert merges == []


def test_not_now_is_asked_again_after_its_period(page: Page, door, tenant):
    app_url, _ = door
    start_login(page, app_url, "maya-patel")
    page.get_by_role("button", name="Not now").click()
    expect(page).to_have_url(settings_url(app_url))
    until = app_metadata(tenant, t.MAYA_GITHUB)["linked_accounts"]["not_now_until"]
    assert until > time.time() + 29 * 86400  # NOT_NOW_DAYS, 30 by default
    page.get_by_role("button", name="Log out").click()
    start_login(page, app_url, "maya-patel")  # within the period: not asked
    expect(page).to_have_url(settings_url(app_url))
    page.get_by_role("button", name="Log out").click()
    make_due(tenant, t.MAYA_GITHUB)
    start_login(page, app_url, "maya-patel")
    expect(page.get_by_role("heading", level=1)).to_have_text("Is this also you?")


def test_a_cancelled_proof_asks_again_and_the_login_goes_on_unchanged(page: Page, door, tenant):
    app_url, merges = door
    start_login(page, app_url, "maya-patel")
    page.get_by_role("button", name="Sign in and link").click()
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("alert")).to_contain_text("cancelled")
    page.get_by_role("button", name="Not now").click()
    expect(page).to_have_url(settings_url(app_url))
    expect(page.get_by_role("status")).to_contain_text("Nothing was linked")
    assert t.identity_keys(tenant, t.MAYA_GITHUB) == [t.MAYA_GITHUB]
    assert merges == []


def test_a_proof_with_the_wrong_account_links_nothing(page: Page, door, tenant):
    app_url, merges = door
    start_login(page, app_url, "maya-patel")
    page.get_by_role("button", name="Sign in and link").click()
    page.get_by_role("button", name="Continue as Ben Carter").click()
    expect(page.get_by_role("alert")).to_contain_text("a different account")
    assert t.identity_keys(tenant, t.MAYA) == [t.MAYA]
    assert t.identity_keys(tenant, t.BEN) == [t.BEN]
    assert merges == []


def test_auth0_down_during_the_actions_lookup_lets_the_login_go_on(page: Page, door, tenant):
    app_url, merges = door
    t.fault(tenant, "users_by_email", status=503, body={"statusCode": 503})
    try:
        start_login(page, app_url, "maya-patel")
        expect(page).to_have_url(settings_url(app_url))
    finally:
        t.clear_faults(tenant)
    assert t.identity_keys(tenant, t.MAYA_GITHUB) == [t.MAYA_GITHUB]
    assert merges == []


def test_a_forged_answer_at_continue_links_nothing_and_a_used_state_is_refused(
    page: Page, door, tenant
):
    """The page never sends a forged answer. One sent by hand to Auth0's /continue with the real
    state (signed with another secret, naming Maya's older account as primary) is refused by the
    Action's validateToken: the login goes on unchanged. The state, once used, is refused."""
    app_url, merges = door
    sent_to_door: list[str] = []
    page.on("request", lambda r: sent_to_door.append(r.url) if "session_token=" in r.url else None)
    start_login(page, app_url, "maya-patel")
    expect(page.get_by_role("heading", level=1)).to_have_text("Is this also you?")
    state = parse_qs(urlsplit(sent_to_door[0]).query)["state"][0]
    now = int(time.time())
    forged = jwt.encode(
        {"alg": "HS256", "typ": "JWT"},
        {
            "iss": f"{app_url}/account/at-login",
            "sub": t.MAYA_GITHUB,
            "iat": now,
            "exp": now + 300,
            "state": state,
            "action": "link",
            "primary_identity": {"user_id": t.MAYA, "provider": "auth0",
                                 "connection": "Username-Password-Authentication"},
            "secondary_identity": {"user_id": t.MAYA_GITHUB, "provider": "github",
                                   "connection": "github"},
        },
        OctKey.import_key(b"not-the-shared-secret-0123456789abcdef"),
    )  # fmt: skip
    continue_url = f"{tenant}/continue?" + urlencode({"state": state, "session_token": forged})
    page.goto(continue_url)
    expect(page).to_have_url(settings_url(app_url))  # signed in as she started, nothing linked
    assert t.identity_keys(tenant, t.MAYA) == [t.MAYA]
    assert t.identity_keys(tenant, t.MAYA_GITHUB) == [t.MAYA_GITHUB]
    assert merges == []
    replay = page.goto(continue_url)  # the same browser: only the state's one use refuses it
    assert replay is not None and replay.status == 400, replay and replay.status
    assert t.identity_keys(tenant, t.MAYA) == [t.MAYA]
