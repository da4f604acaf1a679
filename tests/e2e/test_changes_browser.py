"""Linking, re-authentication and deleting the separated account, clicked through in Chromium."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.e2e.pages import log_in, settings_url, unlink_control
from tests.support import tenant as t

pytestmark = pytest.mark.browser


def log_in_and_unlink_github(page: Page, app_url: str) -> None:
    """Log in as Ada and confirm unlinking her GitHub account on its confirmation page."""
    log_in(page, app_url)
    unlink_control(page, "GitHub").click()
    page.get_by_role("button", name="Unlink GitHub").click()


def test_link_github_to_a_profile_without_links_then_unlink_it(page: Page, serve_app, tenant):
    with serve_app(LINK_CONNECTIONS="github") as app_url:
        log_in(page, app_url, "Ben Carter")
        page.get_by_role("button", name="Link GitHub").click()
        page.get_by_role("button", name="Sign in and link").click()
        page.get_by_role("button", name="Continue as Grace Hopper").click()
        expect(page.get_by_role("status")).to_contain_text(
            "GitHub (grace@example.com) is now linked"
        )
        assert t.identity_keys(tenant, t.BEN) == [t.BEN, t.GRACE]
        unlink_control(page, "GitHub").click()
        page.get_by_role("button", name="Unlink GitHub").click()
        expect(page.get_by_role("status")).to_contain_text("was unlinked")
        assert t.identity_keys(tenant, t.BEN) == [t.BEN]


def test_link_through_auth0s_chooser_and_refuse_an_unverified_email(page: Page, serve_app, tenant):
    with serve_app() as app_url:
        log_in(page, app_url, "Ben Carter")
        page.get_by_role("button", name="Link another account").click()
        page.get_by_role("button", name="Sign in and link").click()
        page.get_by_role("button", name="Continue as Eve Unverified").click()
        expect(page.get_by_role("alert")).to_contain_text("is not verified")
        page.get_by_role("link", name="Back to linked accounts").click()
        page.get_by_role("button", name="Link another account").click()
        page.get_by_role("button", name="Sign in and link").click()
        page.get_by_role("button", name="Continue as Linus Google").click()
        expect(page.get_by_role("status")).to_contain_text(
            "Google (linus@example.com) is now linked"
        )
        assert t.identity_keys(tenant, t.BEN) == [t.BEN, t.LINUS]


def test_unlink_asks_for_a_fresh_login_then_finishes_without_asking_again(
    page: Page, serve_app, tenant
):
    with serve_app(REAUTH_MAX_AGE="0") as app_url:
        log_in_and_unlink_github(page, app_url)
        expect(page).to_have_url(re.compile(r"prompt=login"))
        assert t.identity_keys(tenant, t.ADA)[2] == t.ADA_GITHUB  # nothing written yet
        page.get_by_role("button", name="Continue as Ada Lovelace").click()
        expect(page).to_have_url(settings_url(app_url))
        expect(page.get_by_role("status")).to_contain_text("was unlinked")
        assert t.identity_keys(tenant, t.ADA) == [t.ADA, t.ADA_GOOGLE, t.ADA_SAML]


def test_a_stale_fresh_login_is_refused(page: Page, serve_app, tenant):
    with serve_app(REAUTH_MAX_AGE="0") as app_url:
        log_in_and_unlink_github(page, app_url)
        requests.post(f"{tenant}/__dev/clock", json={"offset": -600}, timeout=5).raise_for_status()
        page.get_by_role("button", name="Continue as Ada Lovelace").click()
        expect(page.get_by_role("status")).to_contain_text("Your sign-in was not confirmed again")
        assert t.identity_keys(tenant, t.ADA)[2] == t.ADA_GITHUB


@pytest.mark.parametrize("mode", ["client", "server"])
def test_unlink_github_then_delete_the_separated_account(page: Page, serve_app, tenant, mode):
    config = {"OFFER_DELETE_SEPARATED": "1", "DELETE_SEPARATED_MODE": mode}
    if mode == "server":
        config.update(AUTH0_M2M_CLIENT_ID="dev-m2m", AUTH0_M2M_CLIENT_SECRET="dev-m2m-secret")
    else:
        t.grant_every_scope(tenant)  # delete:current_user, withheld by default as Auth0 does
    with serve_app(**config) as app_url:
        log_in_and_unlink_github(page, app_url)
        page.get_by_role("link", name="Also delete the separate GitHub account").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(
            "Delete the separate GitHub account"
        )
        page.get_by_role("button", name="Delete the separate GitHub account").click()
        if mode == "client":  # prove it is yours: sign in to the separated account itself
            page.get_by_role("button", name="Continue as Ada Lovelace").click()
        expect(page.get_by_role("status")).to_contain_text(
            "The separate GitHub account was deleted"
        )
    assert t.user(tenant, t.ADA_GITHUB) is None
    assert t.identity_keys(tenant, t.ADA) == [t.ADA, t.ADA_GOOGLE, t.ADA_SAML]


def test_keep_it_and_cancel_at_auth0_delete_nothing(page: Page, serve_app, tenant):
    with serve_app(OFFER_DELETE_SEPARATED="1") as app_url:
        log_in_and_unlink_github(page, app_url)
        page.get_by_role("link", name="Also delete the separate GitHub account").click()
        page.get_by_role("link", name="Keep it").click()
        expect(page).to_have_url(settings_url(app_url))
        page.get_by_role("link", name="Also delete the separate GitHub account").click()
        page.get_by_role("button", name="Delete the separate GitHub account").click()
        page.get_by_role("button", name="Cancel").click()
        expect(page.get_by_role("status")).to_contain_text("Nothing was changed")
    assert t.user(tenant, t.ADA_GITHUB) is not None
