"""Fits a phone, stays on our origins, and works with JavaScript turned off."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Request, expect

from tests.e2e.pages import log_in, settings_url, unlink_control, visit_every_page
from tests.support import tenant as t

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def test_no_page_scrolls_sideways_at_375_px(new_context, app_url: str, tenant: str, screenshot_dir):
    page = new_context(viewport=PHONE).new_page()
    widths = {}
    for name in visit_every_page(page, app_url, tenant):
        widths[name] = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        if name in ("settings", "confirmation"):
            page.screenshot(path=screenshot_dir / f"phone-{name}.png", full_page=True)
    assert len(widths) == 8
    too_wide = {name: w for name, w in widths.items() if w[0] > w[1]}
    assert not too_wide, f"horizontal scrolling (scrollWidth, clientWidth): {too_wide}"
    assert all(client == PHONE["width"] for _, client in widths.values())


def test_no_request_leaves_the_app_and_the_tenant(page: Page, app_url: str, tenant: str):
    requests: list[str] = []

    def record(request: Request) -> None:
        requests.append(request.url)

    page.on("request", record)
    for _ in visit_every_page(page, app_url, tenant):
        pass
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()

    ours = {origin(app_url), origin(tenant)}
    strangers = [url for url in requests if origin(url) not in ours]
    assert not strangers, f"requests to other origins: {strangers}"
    # The recording saw the whole visit: pages, styles and icons from both origins.
    assert {origin(url) for url in requests} == ours
    assert any(url.endswith("/linked-accounts.css") for url in requests)
    assert any(re.search(r"/icons/github\.svg$", url) for url in requests)


def test_unlinking_works_without_javascript(new_context, app_url: str, tenant: str):
    context = new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto("data:text/html,<title>before</title><script>document.title = 'ran'</script>")
    expect(page).to_have_title("before")  # scripts really are off in this context
    log_in(page, app_url)
    unlink_control(page, "Single sign-on (acme-saml)").click()
    page.get_by_role("button", name="Unlink Single sign-on (acme-saml)").click()
    expect(page).to_have_url(settings_url(app_url))
    expect(page.get_by_role("status")).to_contain_text(
        "Single sign-on (acme-saml) (ada@acme.test) was unlinked"
    )
    assert t.identity_keys(tenant, t.ADA) == [t.ADA, t.ADA_GOOGLE, t.ADA_GITHUB]
