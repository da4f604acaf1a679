"""Auth0's confirmation for loopback callbacks (since 28 April 2026) in host sign-in mode: the
silent sign-in (`prompt=none`) to the page's token fails there, and the person goes through one
page of the tenant and lands on the settings, never in a loop. Checked against the development
tenant's model of the rule only (its `loopback_confirmation` setting)."""

from __future__ import annotations

from urllib.parse import urlsplit

import requests

from tests.support.forms import submit
from tests.support.visitor import unlink_buttons
from tests.test_host_signin import SETTINGS, customer, product  # noqa: F401 - fixtures


def test_the_customer_goes_through_one_page_then_the_settings(customer, tenant):  # noqa: F811
    customer.sign_in("Ada Lovelace")  # the product's own sign-in shows the login page anyway
    requests.post(
        f"{tenant}/__dev/config", json={"loopback_confirmation": 1}, timeout=5
    ).raise_for_status()
    page = customer.get(SETTINGS)
    # The silent try came back with an error; the second trip shows the tenant's page.
    hops = [urlsplit(r.url).path for r in [*page.history, page]]
    assert hops == [SETTINGS, SETTINGS + "login", "/authorize", SETTINGS + "callback", "/authorize"]
    assert "Continue signing in?" in page.text and "Ada Lovelace" in page.text
    back = submit(customer.http, page, "Continue")
    assert back.url == customer.base + SETTINGS
    assert "Unlink GitHub (ada@users.noreply.github.com)" in unlink_buttons(back.text)
    again = customer.get(SETTINGS)
    assert again.url == customer.base + SETTINGS and not again.history  # once only
