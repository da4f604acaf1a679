"""The tenant's login page in a real Chromium: axe finds nothing, 375 px works, buttons work.

The browser comes from pytest-playwright (see conftest.py): Debian's Chromium, never skipped in CI.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.support.servers import serving
from tests.support.tenant_api import ADA, MAYA, auth, claims, http, identity_url
from tests.support.tenant_login import CALLBACK, authorize_params, login, pkce_pair

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


def no_axe_violations(page: Page) -> None:
    """axe finds nothing on the page, in the light and the dark scheme."""
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        results = Axe().run(page)
        assert results.violations_count == 0, (scheme, results.generate_report())


def answer_callback(environ, start_response):
    """The application's callback, answering any sign-in that comes back (a real server: a
    routed URL is not reliably intercepted once a redirect leads to it)."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"callback"]


def test_the_asked_for_account_is_marked_focused_and_signed_in_with_enter(tenant, phone: Page):
    verifier, challenge = pkce_pair()
    with serving(answer_callback) as app:
        callback = f"{app}/callback"
        phone.goto(
            authorize_url(
                tenant,
                redirect_uri=callback,
                connection="Username-Password-Authentication",
                login_hint="maya@example.com",
                code_challenge=challenge,
            )
        )
        asked = phone.get_by_role("button", name="Continue as Maya Patel", exact=True)
        expect(phone.get_by_role("listitem").first).to_contain_text("Asked for by dev-client")
        expect(phone.get_by_text("Asked for by dev-client")).to_have_count(1)
        expect(phone.get_by_text("Asked for by dev-client")).to_be_visible()
        expect(asked).to_have_accessible_description(re.compile(r"^Asked for by dev-client"))
        expect(asked).to_be_focused()
        no_axe_violations(phone)
        phone.keyboard.press("Enter")
        phone.wait_for_url(f"{callback}?**")
    code = parse_qs(urlsplit(phone.url).query)["code"][0]
    token = http.post(
        f"{tenant}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": callback,
            "code_verifier": verifier,
            "client_id": "dev-client",
            "client_secret": "dev-client-secret",
        },
    )
    assert claims(token.json()["id_token"])["sub"] == MAYA


def test_after_an_unlink_each_account_button_has_a_name_of_its_own(tenant, phone: Page):
    ada = login(tenant, "Ada Lovelace")["access_token"]
    unlink = http.delete(
        identity_url(tenant, ADA, "google-oauth2", "109876543210987654321"), headers=auth(ada)
    )
    assert unlink.status_code == 200, unlink.text
    phone.goto(authorize_url(tenant))
    buttons = phone.get_by_role("button", name="Continue as Ada Lovelace")
    expect(buttons).to_have_count(2)
    expect(buttons.nth(0)).to_have_accessible_name(
        "Continue as Ada Lovelace with password (ada@example.com)"
    )
    expect(buttons.nth(1)).to_have_accessible_name(
        "Continue as Ada Lovelace with Google (ada.lovelace@gmail.com)"
    )
    names = [b.text_content().strip() for b in phone.locator("button[name=account]").all()]
    assert len(set(names)) == len(names) > 2
    no_axe_violations(phone)
