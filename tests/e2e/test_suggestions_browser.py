"""Link suggestions clicked through in Chromium: Maya's GitHub account finds her older password
account, merges into it, and the page then shows both; dismissals hold in another browser."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.e2e.pages import log_in
from tests.support import tenant as t

pytestmark = pytest.mark.browser

SUGGEST = {
    "SUGGEST_LINKS": "1",
    "AUTH0_M2M_CLIENT_ID": "dev-m2m",
    "AUTH0_M2M_CLIENT_SECRET": "dev-m2m-secret",
}
PASSWORD = "Link the Email and password account (maya@example.com)"
GITHUB = "Link the GitHub account (maya@example.com)"


def test_the_newer_account_merges_into_the_older_one(page: Page, serve_app, tenant, tmp_path):
    with serve_app(**SUGGEST, INSTANCE_PATH=str(tmp_path)) as app_url:
        log_in(page, app_url, "maya-patel")
        section = page.get_by_role("region", name="Is this also you?")
        expect(section.get_by_role("link", name=PASSWORD)).to_be_visible()
        expect(section).not_to_contain_text("Google")  # the unverified look-alike
        assert Axe().run(page).violations_count == 0
        section.get_by_role("link", name=PASSWORD).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Link the Email and password account (maya@example.com)?"
        )
        expect(page.get_by_text("You keep the Email and password account")).to_be_visible()
        assert Axe().run(page).violations_count == 0
        page.get_by_role("button", name="Sign in and link").click()
        # Signed in just now: the older account's proof sign-in is the only one.
        page.get_by_role("button", name="Continue as Maya Patel").click()
        expect(page.get_by_role("status")).to_contain_text("Your accounts are merged")
        accounts = page.get_by_role("list", name="Linked accounts")
        expect(accounts.get_by_text("Email and password")).to_be_visible()
        expect(page.get_by_role("link", name="Unlink GitHub (maya@example.com)")).to_be_visible()
        expect(page.get_by_role("region", name="Is this also you?")).to_have_count(0)
        assert t.identity_keys(tenant, t.MAYA) == [t.MAYA, t.MAYA_GITHUB]


def test_not_mine_holds_in_another_browser_until_shown_again(
    page: Page, browser: Browser, serve_app, tenant, tmp_path
):
    with serve_app(**SUGGEST, INSTANCE_PATH=str(tmp_path)) as app_url:
        log_in(page, app_url, "Maya Patel")
        page.get_by_role("button", name="Not mine: GitHub (maya@example.com)").click()
        expect(page.get_by_role("status")).to_contain_text("will not be suggested again")
        expect(page.get_by_role("link", name=GITHUB)).to_have_count(0)

        phone = browser.new_context().new_page()
        log_in(phone, app_url, "Maya Patel")
        expect(phone.get_by_text("1 account is hidden for good, as not yours.")).to_be_visible()
        expect(phone.get_by_role("link", name=GITHUB)).to_have_count(0)
        phone.get_by_role("button", name="Show dismissed suggestions again").click()
        expect(phone.get_by_role("link", name=GITHUB)).to_be_visible()
        phone.context.close()

        page.reload()
        page.get_by_role("link", name=GITHUB).click()
        expect(page.get_by_text("You keep this profile")).to_be_visible()
        page.get_by_role("button", name="Sign in and link").click()
        page.get_by_role("button", name="Continue as maya-patel").click()
        expect(page.get_by_role("status")).to_contain_text(
            "GitHub (maya@example.com) is now linked"
        )
        assert t.identity_keys(tenant, t.MAYA) == [t.MAYA, t.MAYA_GITHUB]
