"""The development tenant behaves like Auth0 for other clients than ours: a product written as
Auth0's Flask quickstart (no PKCE) signs in; our own client still sends PKCE."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import requests

from tests.support.forms import submit
from tests.support.tenant_quickstart import create_app as create_quickstart


def test_a_product_written_like_auth0s_flask_quickstart_signs_in(tenant, serve):
    product = serve(create_quickstart(tenant, "dev-client", "dev-client-secret"))
    browser = requests.Session()
    login_page = browser.get(f"{product}/login", timeout=10)
    query = parse_qs(urlsplit(login_page.url).query)
    assert "code_challenge" not in query  # the quickstart sends no PKCE
    home = submit(browser, login_page, "Continue as Ada Lovelace")
    assert home.status_code == 200 and home.text == "Hello Ada Lovelace"


def test_our_own_client_keeps_sending_pkce(make_app, serve):
    app = serve(make_app())
    trip = requests.get(f"{app}/account/login", allow_redirects=False, timeout=10)
    assert trip.status_code == 302
    query = parse_qs(urlsplit(trip.headers["Location"]).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43  # an S256 challenge, never plain
