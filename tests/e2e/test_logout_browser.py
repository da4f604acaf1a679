"""Logging out in a real Chromium: back on our page with no page of the tenant in between, on
the tenant's canonical host and on its custom domain."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import log_in, unlink_control
from tests.support import tenant as t

pytestmark = pytest.mark.browser


def log_out_watching_pages(page: Page, app_url: str, tenant_origins: tuple[str, ...]) -> list[str]:
    """Press Log out; return every tenant page the browser rendered (redirects excluded)."""
    shown: list[str] = []

    def on_response(response) -> None:
        document = response.request.resource_type == "document"
        if document and response.status < 300 and response.url.startswith(tenant_origins):
            shown.append(response.url)

    page.on("response", on_response)
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile("^" + re.escape(app_url + "/") + r"(\?|$)"))
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    page.remove_listener("response", on_response)
    return shown


def test_logout_lands_back_home_without_a_tenant_page(page: Page, app_url: str, tenant: str):
    log_in(page, app_url)
    assert log_out_watching_pages(page, app_url, (tenant,)) == []
    # Auth0's session ended too: the next visit shows the login page, not a silent sign-in.
    page.goto(app_url + "/account/")
    expect(page.get_by_role("button", name="Continue as Ada Lovelace")).to_be_visible()


def test_custom_domain_login_and_logout(page: Page, serve_app, tenant: str):
    custom = tenant.replace("//127.0.0.1:", "//localhost:")
    with serve_app(AUTH0_DOMAIN=custom, AUTH0_MANAGEMENT_DOMAIN=tenant) as url:
        page.goto(url + "/")
        page.get_by_role("link", name="Log in").click()
        expect(page).to_have_url(re.compile("^" + re.escape(custom + "/")))
        page.get_by_role("button", name="Continue as Ada Lovelace").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Linked accounts")
        expect(page.get_by_text("GitHub").first).to_be_visible()
        assert log_out_watching_pages(page, url, (custom, tenant)) == []
        page.goto(url + "/account/")
        expect(page).to_have_url(re.compile("^" + re.escape(custom + "/")))
        expect(page.get_by_role("button", name="Continue as Ada Lovelace")).to_be_visible()


def test_after_linking_logout_lands_home_without_a_tenant_page(page: Page, serve_app, tenant: str):
    # Linking signs the browser in to the other account at Auth0, which replaces Auth0's session
    # and its `sid`: a logout_hint naming the session of the first login would make Auth0 ask
    # "Do you want to log out?".
    with serve_app(LINK_CONNECTIONS="github") as url:
        log_in(page, url, "Ben Carter")
        page.get_by_role("button", name="Link GitHub").click()
        page.get_by_role("button", name="Continue as Grace Hopper").click()
        expect(page.get_by_role("status")).to_contain_text("is now linked")
        assert log_out_watching_pages(page, url, (tenant,)) == []


def test_after_deleting_a_separated_account_logout_lands_home_without_a_tenant_page(
    page: Page, serve_app, tenant: str
):
    t.grant_every_scope(tenant)  # client mode: delete:current_user, withheld by default
    with serve_app(OFFER_DELETE_SEPARATED="1", DELETE_SEPARATED_MODE="client") as url:
        log_in(page, url)
        unlink_control(page, "GitHub").click()
        page.get_by_role("button", name="Unlink GitHub").click()
        page.get_by_role("link", name="Also delete the separate GitHub account").click()
        page.get_by_role("button", name="Delete the separate GitHub account").click()
        page.get_by_role("button", name="Continue as Ada Lovelace").click()
        expect(page.get_by_role("status")).to_contain_text(
            "The separate GitHub account was deleted"
        )
        assert log_out_watching_pages(page, url, (tenant,)) == []
