"""The example product (examples/product_host) mounts the page in its own layout, under its own
prefix and brand, and a person completes an unlink and a link there in Chromium."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from examples.product_host.app import create_app as create_example
from tests.e2e import pages
from tests.support import tenant as t

pytestmark = pytest.mark.browser

PREFIX = "/settings/sign-in/"


@pytest.fixture
def example(tenant, app_config, serve):
    config = {**app_config, "AUTH0_DOMAIN": tenant, "LINKED_ACCOUNTS_LINK_CONNECTIONS": "github"}
    return serve(create_example(config))


def log_in(page: Page, example: str, name: str) -> None:
    pages.log_in(page, example, name, prefix=PREFIX)


def test_the_page_wears_the_products_layout_brand_and_names(page: Page, example, tenant):
    log_in(page, example, "Ada Lovelace")
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("Sign-in methods")
    expect(page).to_have_title(re.compile(r"Acme Notes$"))
    # The enterprise connection shows the product's own name and icon.
    expect(page.get_by_role("link", name="Unlink Acme SSO (ada@acme.test)")).to_be_visible()
    icons = page.locator("img.la-icon").evaluate_all("els => els.map(e => e.getAttribute('src'))")
    assert "/static/acme-sso.svg" in icons
    badge = page.locator(".la-badge").evaluate("e => getComputedStyle(e).backgroundColor")
    assert badge == "rgb(15, 118, 110)"  # Acme's --la-brand, not the extension's default
    assert Axe().run(page).violations_count == 0


def test_unlink_in_the_example_host(page: Page, example, tenant):
    log_in(page, example, "Ada Lovelace")
    page.get_by_role("link", name="Unlink Acme SSO (ada@acme.test)").click()
    expect(page).to_have_url(re.compile(re.escape(example + PREFIX + "unlink?")))
    page.get_by_role("button", name="Unlink Acme SSO").click()
    expect(page.get_by_role("status")).to_contain_text("Acme SSO (ada@acme.test) was unlinked")
    assert t.identity_keys(tenant, t.ADA) == [t.ADA, t.ADA_GOOGLE, t.ADA_GITHUB]


def test_link_in_the_example_host(page: Page, example, tenant):
    log_in(page, example, "Ben Carter")
    page.get_by_role("button", name="Link GitHub").click()
    page.get_by_role("button", name="Sign in and link").click()
    page.get_by_role("button", name="Continue as Grace Hopper").click()
    expect(page).to_have_url(pages.settings_url(example, PREFIX))
    expect(page.get_by_role("status")).to_contain_text("GitHub (grace@example.com) is now linked")
    assert t.identity_keys(tenant, t.BEN) == [t.BEN, "github|7654321"]


def test_in_arabic_the_page_mirrors_inside_the_products_english_layout(
    new_context, example, tenant
):
    """The product's layout says `<html lang="en">` (as most do): the extension's content says
    its own language and direction, so it mirrors while the product's header does not."""
    page = new_context(locale="ar-EG").new_page()
    page.goto(example + "/")
    page.get_by_role("link", name="Log in").click()
    page.get_by_role("button", name="Continue as Ada Lovelace").click()
    expect(page).to_have_url(pages.settings_url(example, PREFIX))
    expect(page.get_by_role("heading", level=1)).to_have_text("الحسابات المرتبطة")
    assert page.locator("html").get_attribute("lang") == "en"  # the product's, left as it is
    content = page.locator("div.la")
    assert (content.get_attribute("lang"), content.get_attribute("dir")) == ("ar", "rtl")
    row = page.locator(".la-item").nth(1)  # a linked account: its icon, its name, its Unlink
    icon, name, unlink = (row.locator(s).bounding_box() for s in (".la-icon", ".la-item-name", "a"))
    assert icon["x"] > name["x"] > unlink["x"]  # right to left
    nav = page.get_by_role("navigation", name="Main").bounding_box()
    assert nav["x"] < page.viewport_size["width"] / 2  # the product's own header: unchanged
    assert Axe().run(page).violations_count == 0
