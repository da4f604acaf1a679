"""A person on the settings page, in a real Chromium: log in, look, unlink, cancel, log out."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import log_in, settings_url, unlink_control
from tests.support import tenant as t

pytestmark = pytest.mark.browser

ADA_ALL = [t.ADA, t.ADA_GOOGLE, t.ADA_GITHUB, t.ADA_SAML]


def test_logging_in_shows_every_linked_account_and_marks_the_primary(
    page: Page, app_url: str, screenshot_dir
):
    log_in(page, app_url)
    accounts = page.get_by_role("list", name="Linked accounts").get_by_role("listitem")
    expect(accounts).to_have_count(4)
    primary = accounts.filter(has_text="Email and password")
    expect(primary.get_by_text("Primary", exact=True)).to_be_visible()
    expect(primary.get_by_role("link")).to_have_count(0)  # nothing to unlink on the primary
    for provider, detail in [
        ("Google", "ada.lovelace@gmail.com"),
        ("GitHub", "ada@users.noreply.github.com"),
        ("Single sign-on (acme-saml)", "ada@acme.test"),
    ]:
        item = accounts.filter(has_text=detail)
        expect(item.get_by_role("img")).to_have_count(0)  # icons are decorative (alt="")
        expect(item.get_by_role("link", name=f"Unlink {provider} ({detail})")).to_be_visible()
    # The provider icons are served by us and really load.
    icons = page.locator(".la-icon")
    expect(icons).to_have_count(4)
    for i in range(4):
        assert icons.nth(i).evaluate("img => img.complete && img.naturalWidth > 0")
    page.screenshot(path=screenshot_dir / "settings.png", full_page=True)


def test_unlinking_github_through_the_confirmation_page(
    page: Page, app_url: str, tenant: str, screenshot_dir
):
    log_in(page, app_url)
    unlink_control(page, "GitHub").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Unlink GitHub (ada@users.noreply.github.com)?"
    )
    expect(page.get_by_text("separate account", exact=False).first).to_be_visible()
    page.screenshot(path=screenshot_dir / "confirm.png", full_page=True)
    assert t.identity_keys(tenant, t.ADA) == ADA_ALL  # the confirmation page changes nothing

    page.get_by_role("button", name="Unlink GitHub").click()
    expect(page).to_have_url(settings_url(app_url))
    expect(page.get_by_role("status")).to_contain_text(
        "GitHub (ada@users.noreply.github.com) was unlinked"
    )
    expect(unlink_control(page, "GitHub")).to_have_count(0)
    expect(unlink_control(page, "Google")).to_be_visible()
    assert t.identity_keys(tenant, t.ADA) == [t.ADA, t.ADA_GOOGLE, t.ADA_SAML]
    page.screenshot(path=screenshot_dir / "settings-after-unlink.png", full_page=True)


def test_cancelling_an_unlink_leaves_everything_linked(page: Page, app_url: str, tenant: str):
    log_in(page, app_url)
    unlink_control(page, "Google").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Unlink Google")
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(settings_url(app_url))
    for provider in ("Google", "GitHub", "Single sign-on (acme-saml)"):
        expect(unlink_control(page, provider)).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("")
    assert t.identity_keys(tenant, t.ADA) == ADA_ALL


def test_a_failing_auth0_shows_a_clear_message_and_the_page_recovers(
    page: Page, serve_app, tenant: str, screenshot_dir
):
    # No identities cache: every view of the settings page must ask Auth0.
    with serve_app(IDENTITIES_CACHE_SECONDS=0) as app_url:
        log_in(page, app_url)
        t.fault(tenant, "get_user", status=503, body={"error": "Service Unavailable"})

        response = page.reload()
        assert response is not None
        assert response.status == 502, page.locator("main").inner_text()
        expect(page.get_by_role("heading", level=1)).to_have_text("Something went wrong")
        expect(page.get_by_role("alert")).to_contain_text("Nothing was changed")
        expect(page.get_by_text("Traceback")).to_have_count(0)
        page.screenshot(path=screenshot_dir / "error-auth0.png", full_page=True)

        t.clear_faults(tenant)
        page.get_by_role("link", name="Back to linked accounts").click()
        expect(page).to_have_url(settings_url(app_url))
        expect(
            page.get_by_role("list", name="Linked accounts").get_by_role("listitem")
        ).to_have_count(4)


def test_logging_out_means_the_settings_page_asks_for_login_again(
    page: Page, app_url: str, tenant: str
):
    log_in(page, app_url)
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile("^" + re.escape(app_url + "/") + r"(\?|$)"))
    expect(page.get_by_role("link", name="Log in")).to_be_visible()

    page.goto(app_url + "/account/")
    # Both sessions ended: the tenant shows its login page again instead of signing in silently.
    expect(page).to_have_url(re.compile("^" + re.escape(tenant + "/")))
    expect(page.get_by_role("button", name="Continue as Ada Lovelace")).to_be_visible()
