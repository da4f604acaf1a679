"""Accessibility: no axe violations on any page in either colour scheme; names and announcements."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.e2e.pages import log_in, visit_every_page

pytestmark = pytest.mark.browser

PAGES = 8


@pytest.fixture(scope="session")
def axe() -> Axe:
    return Axe()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_axe_violations_on_any_page(
    page: Page, app_url: str, tenant: str, axe: Axe, scheme: str, screenshot_dir
):
    page.emulate_media(color_scheme=scheme)
    reports: dict[str, str] = {}
    seen = []
    for name in visit_every_page(page, app_url, tenant):
        seen.append(name)
        results = axe.run(page)
        if results.violations_count:
            reports[name] = results.generate_report()
        if scheme == "dark":
            slug = re.sub(r"\W+", "-", name.lower())
            page.screenshot(path=screenshot_dir / f"dark-{slug}.png", full_page=True)
    assert len(seen) == PAGES
    assert not reports, "\n\n".join(f"== {name} ({scheme})\n{r}" for name, r in reports.items())


def test_status_messages_are_announced_in_a_polite_live_region(page: Page, app_url: str):
    log_in(page, app_url)
    status = page.get_by_role("status")
    expect(status).to_have_count(1)
    expect(status).to_have_attribute("aria-live", "polite")
    expect(status).to_have_text("")
    page.get_by_role("button", name="Refresh list").click()
    expect(page.get_by_role("status")).to_have_text("Your linked accounts are up to date.")


def test_every_control_names_the_account_it_acts_on(page: Page, app_url: str):
    log_in(page, app_url)
    # No bare "Unlink": a screen reader user hears which account each control is for.
    expect(page.get_by_role("link", name="Unlink", exact=True)).to_have_count(0)
    accounts = page.get_by_role("list", name="Linked accounts").get_by_role("listitem")
    for provider, detail in [
        ("Google", "ada.lovelace@gmail.com"),
        ("GitHub", "ada@users.noreply.github.com"),
        ("Single sign-on (acme-saml)", "ada@acme.test"),
    ]:
        control = accounts.filter(has_text=detail).get_by_role("link")
        expect(control).to_have_accessible_name(f"Unlink {provider} ({detail})")

    page.get_by_role("link", name="Unlink Single sign-on (acme-saml) (ada@acme.test)").click()
    buttons = page.get_by_role("main").get_by_role("button")
    expect(buttons).to_have_count(1)
    expect(buttons).to_have_accessible_name("Unlink Single sign-on (acme-saml)")
