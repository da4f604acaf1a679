"""Every address the pages end on, reloaded in Chromium: it shows the same page with its message,
at the same plain address (no callback code or state, no form post to resend), and a one-shot
message (logged out) is not repeated."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import log_in, settings_url, unlink_control
from tests.support import tenant as t

pytestmark = pytest.mark.browser

SIGN_IN_FAILED = r"/account/signin/failed\?done=[^&#]+$"


def reload_keeps(page: Page, url: str) -> None:
    """Reload; the address stays exactly `url`, with no "resend the form?" on the way."""
    response = page.reload()
    assert response is not None and response.request.method == "GET"
    assert page.url == url


def test_the_link_confirmation_reloads(page: Page, serve_app):
    with serve_app(LINK_CONNECTIONS="github") as app_url:
        log_in(page, app_url, "Ben Carter")
        page.get_by_role("button", name="Link GitHub").click()
        expect(page).to_have_url(app_url + "/account/link?connection=github")
        reload_keeps(page, app_url + "/account/link?connection=github")
        expect(page.get_by_role("heading", level=1)).to_have_text("Link GitHub?")
        expect(page.get_by_role("button", name="Sign in and link")).to_be_visible()


def test_a_cancelled_sign_in_ends_on_a_page_that_reloads(page: Page, app_url: str):
    page.goto(app_url + "/account/login")
    page.get_by_role("button", name="Cancel").click()
    expect(page).to_have_url(re.compile(re.escape(app_url) + SIGN_IN_FAILED))
    assert "code=" not in page.url and "state=" not in page.url
    reload_keeps(page, page.url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign-in did not complete")
    expect(page.get_by_role("alert")).to_contain_text("Signing in was cancelled.")


def test_a_failed_refresh_ends_on_the_list_with_why_and_reloads(page: Page, serve_app, tenant):
    with serve_app(REFRESH_MIN_INTERVAL="0") as app_url:
        log_in(page, app_url)
        t.fault(tenant, "get_user", times=1, status=503, body={"statusCode": 503})
        page.get_by_role("button", name="Refresh list").click()
        # The list's own address (the page's script drops the shown outcome from it), saying why.
        expect(page).to_have_url(app_url + "/account/")
        expect(page.locator(".la-message--error")).to_have_count(1)
        expect(unlink_control(page, "GitHub")).to_be_visible()
        reload_keeps(page, app_url + "/account/")
        expect(unlink_control(page, "GitHub")).to_be_visible()
        expect(page.locator(".la-message--error")).to_have_count(0)  # said once


def test_logging_out_says_so_once_on_the_plain_front_page(page: Page, app_url: str):
    log_in(page, app_url)
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(app_url + "/")
    expect(page.get_by_role("status")).to_have_text("You are logged out.")
    reload_keeps(page, app_url + "/")
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("")  # said once, not on every visit


def test_signing_in_again_as_someone_else_names_the_account_and_tries_again(
    page: Page, serve_app, tenant
):
    with serve_app(REAUTH_MAX_AGE="0") as app_url:
        log_in(page, app_url)
        unlink_control(page, "GitHub").click()
        page.get_by_role("button", name="Unlink GitHub").click()
        page.get_by_role("button", name="Continue as Ben Carter").click()
        expect(page).to_have_url(app_url + "/account/signin/other-account")
        reload_keeps(page, app_url + "/account/signin/other-account")
        expect(page.get_by_role("alert")).to_contain_text("sign in as ada@example.com")
        page.get_by_role("button", name="Try again").click()
        page.get_by_role("button", name="Continue as Ada Lovelace").click()
        expect(page).to_have_url(settings_url(app_url))
        expect(page.get_by_role("status")).to_contain_text("was unlinked")
        assert t.identity_keys(tenant, t.ADA) == [t.ADA, t.ADA_GOOGLE, t.ADA_SAML]


def test_a_merge_proof_as_someone_else_names_the_account_reloads_and_tries_again(
    page: Page, serve_app, tenant, tmp_path
):
    suggest = {
        "SUGGEST_LINKS": "1",
        "AUTH0_M2M_CLIENT_ID": "dev-m2m",
        "AUTH0_M2M_CLIENT_SECRET": "dev-m2m-secret",
    }
    with serve_app(**suggest, INSTANCE_PATH=str(tmp_path)) as app_url:
        log_in(page, app_url, "maya-patel")
        page.get_by_role(
            "link", name="Link the Email and password account (maya@example.com)"
        ).click()
        page.get_by_role("button", name="Sign in and link").click()
        page.get_by_role("button", name="Continue as Ben Carter").click()
        expect(page).to_have_url(app_url + "/account/signin/other-account")
        reload_keeps(page, app_url + "/account/signin/other-account")
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("so nothing was linked")
        expect(alert).to_contain_text("sign in with Email and password as maya@example.com")
        assert t.identity_keys(tenant, t.MAYA) == [t.MAYA]
        page.get_by_role("button", name="Try again").click()
        page.get_by_role("button", name="Continue as Maya Patel").click()
        expect(page).to_have_url(settings_url(app_url))
        expect(page.get_by_role("status")).to_contain_text("Your accounts are merged")
        assert t.identity_keys(tenant, t.MAYA) == [t.MAYA, t.MAYA_GITHUB]
