"""A product built like Auth0's Flask quickstart (examples/quickstart_host) with the page mounted
in host sign-in mode: in Chromium, a person signs in once, to the product, and never again."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from examples.quickstart_host.app import create_app as create_quickstart
from tests.support import tenant as t

pytestmark = pytest.mark.browser

SETTINGS = "/settings/accounts/"


@pytest.fixture
def shop(tenant, app_config, serve):
    return serve(create_quickstart({**app_config, "AUTH0_DOMAIN": tenant}))


class PagesShown:
    """Every document the browser displayed (answered 200), in order."""

    def __init__(self, page: Page) -> None:
        self.urls: list[str] = []
        page.on("response", self._response)

    def _response(self, response) -> None:
        if response.request.resource_type == "document" and response.status == 200:
            self.urls.append(response.url)


def sign_in(page: Page, shop: str, name: str) -> None:
    page.goto(shop + "/")
    page.get_by_role("link", name="Log in").click()
    page.get_by_role("button", name=f"Continue as {name}").click()
    expect(page).to_have_url(shop + "/")
    expect(page.get_by_role("link", name="Account settings")).to_be_visible()


def test_sign_in_once_then_see_and_unlink_in_account_settings(page: Page, shop, tenant):
    sign_in(page, shop, "Ada Lovelace")
    shown = PagesShown(page)
    page.get_by_role("link", name="Account settings").click()
    expect(page).to_have_url(shop + SETTINGS)
    expect(page.get_by_role("heading", level=1)).to_have_text("Linked accounts")
    assert shown.urls == [shop + SETTINGS]  # no sign-in page, no click, in between
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)  # the shop's own only

    page.get_by_role("link", name=re.compile(r"^Unlink GitHub")).click()
    page.get_by_role("button", name="Unlink GitHub").click()
    expect(page.get_by_role("status")).to_contain_text("was unlinked")
    assert t.identity_keys(tenant, t.ADA) == [t.ADA, t.ADA_GOOGLE, t.ADA_SAML]


def test_after_signing_out_and_in_as_ben_the_settings_are_bens(page: Page, shop):
    sign_in(page, shop, "Ada Lovelace")
    page.get_by_role("link", name="Account settings").click()
    expect(page.get_by_role("link", name=re.compile(r"^Unlink GitHub"))).to_be_visible()
    page.get_by_role("link", name="Log out").click()
    expect(page).to_have_url(shop + "/")
    sign_in(page, shop, "Ben Carter")
    page.get_by_role("link", name="Account settings").click()
    expect(page).to_have_url(shop + SETTINGS)
    expect(page.locator("main")).to_contain_text("ben@example.com")
    expect(page.locator("main")).not_to_contain_text("Ada")
    expect(page.get_by_role("link", name=re.compile(r"^Unlink"))).to_have_count(0)


def test_signed_out_the_settings_lead_to_the_shops_login_and_back(page: Page, shop):
    page.goto(shop + SETTINGS)
    # The shop's /login sent the browser on to Auth0, with the settings as where to go next.
    page.get_by_role("button", name="Continue as Ada Lovelace").click()
    expect(page).to_have_url(shop + SETTINGS)
    expect(page.get_by_role("link", name=re.compile(r"^Unlink GitHub"))).to_be_visible()
    expect(page.get_by_role("link", name="Account settings")).to_be_visible()  # signed in


def test_when_auth0s_session_has_ended_auth0s_login_leads_back(page: Page, shop, tenant):
    sign_in(page, shop, "Ada Lovelace")
    page.context.clear_cookies(name="devtenant_sso")  # Auth0 forgot the browser; the shop not
    page.get_by_role("link", name="Account settings").click()
    page.get_by_role("button", name="Continue as Ada Lovelace").click()
    expect(page).to_have_url(shop + SETTINGS)
    expect(page.get_by_role("link", name=re.compile(r"^Unlink GitHub"))).to_be_visible()
