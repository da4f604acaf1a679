"""Framing mode in Chromium: a portal on another origin frames the settings page and unlinks in it.

The portal here is another port of 127.0.0.1: another origin on the same site, as when
portal.example.com frames account.example.com. A portal on another *site* also gets the session
cookie (it is SameSite=None; Secure in framing mode) only in browsers that allow third-party
cookies, which headless Chromium does not: docs/embedding.md says so.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from werkzeug.wrappers import Response

from tests.e2e.pages import log_in
from tests.support import tenant as t
from tests.support.servers import serving

pytestmark = pytest.mark.browser


def portal_page(app_url: str):
    """A portal page that frames the settings page."""
    html = (
        "<!doctype html><html lang='en'><head><title>Portal</title></head><body>"
        f"<h1>Portal</h1><iframe title='Linked accounts' src='{app_url}/account/' "
        "width='900' height='700'></iframe></body></html>"
    )
    return Response(html, content_type="text/html")


def test_a_listed_portal_frames_the_page_and_unlinks_inside_it(page: Page, serve_app, tenant):
    framed = {}  # each origin names the other: serve the portal, then the app that lists it

    def portal(environ, start):
        return portal_page(framed["app"])(environ, start)

    with serving(portal) as portal_url, serve_app(FRAME_ANCESTORS=portal_url) as app_url:
        framed["app"] = app_url
        log_in(page, app_url)  # at top level: Auth0's login page refuses to run in a frame
        page.goto(portal_url + "/")
        frame = page.frame_locator("iframe[title='Linked accounts']")
        frame.get_by_role("link", name="Unlink GitHub (ada@users.noreply.github.com)").click()
        frame.get_by_role("button", name="Unlink GitHub").click()
        expect(frame.get_by_role("status")).to_contain_text("was unlinked")
    assert t.identity_keys(tenant, t.ADA) == [t.ADA, t.ADA_GOOGLE, t.ADA_SAML]


def test_an_unlisted_portal_cannot_frame_it(page: Page, app_url):
    with serving(lambda environ, start: portal_page(app_url)(environ, start)) as portal_url:
        log_in(page, app_url)
        page.goto(portal_url + "/")
        frame = page.frame_locator("iframe[title='Linked accounts']")
        expect(frame.get_by_role("heading", name="Linked accounts")).to_have_count(0)
        expect(page.get_by_role("heading", name="Portal")).to_be_visible()
