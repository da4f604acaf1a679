"""The tenant's login page in a real Chromium: axe finds nothing, 375 px works, buttons work.

The browser comes from pytest-playwright (see conftest.py): Debian's Chromium, never skipped in CI.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

from tests.support.tenant_login import CALLBACK, authorize_params

pytestmark = pytest.mark.browser


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A 375 px wide page that records where the browser was sent back to."""
    context = browser.new_context(viewport={"width": 375, "height": 740})
    page = context.new_page()
    # The app's callback is not running: answer it in the browser and keep the URL.
    page.route(f"{CALLBACK}**", lambda route: route.fulfill(status=200, body="callback"))
    yield page
    context.close()


def authorize_url(tenant: str, **extra: str) -> str:
    """An /authorize URL for the default client."""
    return (
        f"{tenant}/authorize?{urlencode(authorize_params(tenant, state='browser-state', **extra))}"
    )


def test_login_page_has_no_axe_violations_and_fits_375px(tenant, phone: Page):
    phone.goto(authorize_url(tenant))
    assert phone.locator("html").get_attribute("lang") == "en"
    assert phone.get_by_role("heading", level=1).is_visible()
    assert phone.get_by_text("Development tenant — not Auth0").is_visible()
    results = Axe().run(phone)
    assert results.violations_count == 0, results.generate_report()
    overflow = phone.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert overflow is False
    button = phone.get_by_role("button", name="Continue as Ada Lovelace", exact=True)
    box = button.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375


def test_clicking_continue_and_cancel_in_a_browser(tenant, phone: Page):
    phone.goto(authorize_url(tenant, connection="github"))
    assert phone.get_by_role("button", name="Continue as Grace Hopper", exact=True).is_visible()
    phone.get_by_role("button", name="Continue as Grace Hopper", exact=True).click()
    phone.wait_for_url(f"{CALLBACK}**")
    params = parse_qs(urlsplit(phone.url).query)
    assert params["state"] == ["browser-state"] and "code" in params
    phone.goto(authorize_url(tenant, prompt="login"))
    phone.get_by_role("button", name="Cancel", exact=True).click()
    phone.wait_for_url(f"{CALLBACK}**")
    params = parse_qs(urlsplit(phone.url).query)
    assert params["error"] == ["access_denied"]
    assert params["error_description"] == ["User cancelled the login"]
