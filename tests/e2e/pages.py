"""What the browser tests do on the app's pages, named for the user's intent."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlencode

from playwright.sync_api import Locator, Page, expect

from tests.support import tenant as t


def settings_url(app_url: str, prefix: str = "/account/") -> re.Pattern[str]:
    """The settings page's URL, bare or with the outcome of a form post (`?done=...`)."""
    return re.compile(re.escape(app_url + prefix) + r"(\?done=[^&#]+)?$")


def log_in(page: Page, app_url: str, name: str = "Ada Lovelace", prefix: str = "/account/") -> None:
    """Log in from the front page through the tenant's login page; end on the settings page
    (mounted at `prefix`: the example host has its own)."""
    page.goto(app_url + "/")
    page.get_by_role("link", name="Log in").click()
    page.get_by_role("button", name=f"Continue as {name}").click()
    expect(page).to_have_url(settings_url(app_url, prefix))
    expect(page.get_by_role("heading", level=1)).to_have_text("Linked accounts")


def unlink_control(page: Page, provider: str) -> Locator:
    """The settings page's Unlink control for the account signed in with `provider`."""
    return page.get_by_role("link", name=re.compile(rf"^Unlink {re.escape(provider)}(?!\w)"))


def visit_every_page(page: Page, app_url: str, tenant: str) -> Iterator[str]:
    """Walk through each page a person can meet, yielding its name while the browser shows it.

    Logged out: the front page, the sign-in-failed page and the tenant's login page; logged in
    as Ada: settings, the confirmation page, the primary refusal, a Management API failure and
    the settings page announcing a change.
    """
    page.goto(app_url + "/")
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    yield "front page"

    response = page.goto(app_url + "/account/callback?state=bogus&code=x")
    assert response is not None and response.status == 400
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign-in did not complete")
    yield "sign-in failed"

    page.goto(app_url + "/account/login")
    expect(page.get_by_role("button", name="Continue as Ada Lovelace")).to_be_visible()
    yield "tenant login"

    page.get_by_role("button", name="Continue as Ada Lovelace").click()
    expect(page).to_have_url(settings_url(app_url))
    yield "settings"

    page.goto(app_url + "/account/unlink?" + urlencode({"identity": t.ADA_GITHUB}))
    expect(page.get_by_role("button", name="Unlink GitHub")).to_be_visible()
    yield "confirmation"

    response = page.goto(app_url + "/account/unlink?" + urlencode({"identity": t.ADA}))
    assert response is not None and response.status == 400
    expect(page.get_by_role("heading", level=1)).to_have_text("This is your primary account")
    yield "primary refusal"

    page.goto(app_url + "/account/unlink?" + urlencode({"identity": t.ADA_GITHUB}))
    t.fault(tenant, "delete_identity", status=503, times=1)
    page.get_by_role("button", name="Unlink GitHub").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was changed")
    yield "Management API failure"

    page.goto(app_url + "/account/unlink?" + urlencode({"identity": t.ADA_GITHUB}))
    page.get_by_role("button", name="Unlink GitHub").click()
    expect(page.get_by_role("status")).to_contain_text("was unlinked")
    yield "settings with a message"
