"""Every page of the development tenant follows the reader's colour scheme, with no axe
violation in light or dark."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
import requests
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

from tests.support.tenant_login import CALLBACK, authorize_params

pytestmark = pytest.mark.browser

# The background of the page body in each scheme (tenant.css).
BACKGROUND = {"light": "rgb(243, 243, 243)", "dark": "rgb(18, 18, 18)"}


@pytest.fixture
def signed_in(browser: Browser, tenant: str) -> Iterator[Page]:
    """A page of a browser that has signed in to the tenant as Ada (its SSO session)."""
    context = browser.new_context()
    page = context.new_page()
    page.route(f"{CALLBACK}**", lambda route: route.fulfill(status=200, body="callback"))
    page.goto(authorize_url(tenant))
    page.get_by_role("button", name="Continue as Ada Lovelace", exact=True).click()
    page.wait_for_url(f"{CALLBACK}**")
    yield page
    context.close()


def authorize_url(tenant: str, **extra: str) -> str:
    return f"{tenant}/authorize?{urlencode(authorize_params(tenant, **extra))}"


def tenant_pages(tenant: str) -> dict[str, str]:
    """The tenant's pages by their heading, in an order where each can follow the one before."""
    return {
        "Sign in": authorize_url(tenant, prompt="login"),
        "Continue signing in?": authorize_url(tenant),
        "Do you want to log out?": f"{tenant}/oidc/logout",
        "Request rejected": f"{tenant}/authorize?client_id=nobody",
        "Signed out": f"{tenant}/v2/logout",
    }


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_tenant_page_follows_the_colour_scheme_without_axe_violations(
    signed_in: Page, tenant: str, scheme: str
):
    requests.post(
        f"{tenant}/__dev/config", json={"loopback_confirmation": 1}, timeout=5
    ).raise_for_status()
    signed_in.emulate_media(color_scheme=scheme)
    for name, url in tenant_pages(tenant).items():
        signed_in.goto(url)
        assert signed_in.get_by_role("heading", level=1).inner_text() == name
        background = signed_in.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == BACKGROUND[scheme], name
        results = Axe().run(signed_in)
        assert results.violations_count == 0, f"{name} ({scheme}): {results.generate_report()}"
