"""A tenant with a custom domain: people sign in at it, the audience names the canonical domain,
and every Management API call (and the M2M token request) goes to the custom domain.

The development tenant answers at `localhost` as its custom domain and at `127.0.0.1` as its
canonical one; a token is accepted only at the host that issued it, as at Auth0.
"""

from __future__ import annotations

import logging

import pytest

from linked_accounts import ConfigError, load_settings
from tests.support import tenant as t
from tests.support.forms import submit
from tests.support.visitor import Visitor

OFFER = "Also delete the separate GitHub account"


def custom(tenant: str) -> str:
    """The tenant's custom-domain URL."""
    return tenant.replace("//127.0.0.1:", "//localhost:")


@pytest.fixture
def custom_visitor(make_app, serve, tenant):
    app = make_app(AUTH0_DOMAIN=custom(tenant), AUTH0_MANAGEMENT_DOMAIN=tenant)
    return Visitor(serve(app)), app


def test_login_list_and_unlink_through_the_custom_domain(custom_visitor, tenant):
    visitor, app = custom_visitor
    settings = app.extensions["linked_accounts"].settings
    assert settings.audience == f"{tenant}/api/v2/"
    assert app.extensions["linked_accounts"].management.base_url == custom(tenant)
    front = visitor.get("/")
    login = visitor.http.get(visitor.base + "/account/login", timeout=10)
    assert login.url.startswith(custom(tenant) + "/authorize"), front.url
    page = submit(visitor.http, login, "Continue as Ada Lovelace")
    assert page.url.split("?")[0] == visitor.base + "/account/"
    assert "GitHub" in page.text  # listed: the custom-domain token was accepted
    page = visitor.unlink(t.ADA_GITHUB)
    assert "was unlinked" in page.text
    assert t.identity_keys(tenant, t.ADA) == [t.ADA, t.ADA_GOOGLE, t.ADA_SAML]


def test_the_m2m_token_is_asked_for_and_used_at_the_custom_domain(make_app, serve, tenant):
    app = make_app(
        AUTH0_DOMAIN=custom(tenant),
        AUTH0_MANAGEMENT_DOMAIN=tenant,
        OFFER_DELETE_SEPARATED="1",
        DELETE_SEPARATED_MODE="server",
        AUTH0_M2M_CLIENT_ID="dev-m2m",
        AUTH0_M2M_CLIENT_SECRET="dev-m2m-secret",
    )
    assert app.extensions["linked_accounts"].m2m.token_url == f"{custom(tenant)}/oauth/token"
    visitor = Visitor(serve(app))
    login = visitor.http.get(visitor.base + "/account/login", timeout=10)
    submit(visitor.http, login, "Continue as Ada Lovelace")
    page = visitor.unlink(t.ADA_GITHUB)
    href = page.text.split(OFFER)[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    confirm = visitor.get(href)
    done = visitor.press(confirm, "Delete the separate GitHub account")
    assert "The separate GitHub account was deleted" in done.text
    assert t.user(tenant, t.ADA_GITHUB) is None


def test_a_custom_domain_without_the_canonical_one_is_explained_in_the_log(
    make_app, serve, tenant, caplog
):
    """The audience then names the custom domain, which Auth0 answers "Service not found": the
    user reads that the site's sign-in is not set up, the administrator (log) what to set."""
    caplog.set_level(logging.ERROR, logger="linked_accounts.signin.trips")
    visitor = Visitor(serve(make_app(AUTH0_DOMAIN=custom(tenant))))
    login = visitor.http.get(visitor.base + "/account/login", timeout=10)
    assert login.status_code == 400
    assert "sign-in is not set up correctly" in login.text
    assert "AUTH0_MANAGEMENT_DOMAIN" not in login.text
    assert "AUTH0_MANAGEMENT_DOMAIN" in caplog.text
    assert f"{custom(tenant)}/api/v2/" in caplog.text
    assert "cancelled" not in login.text


def test_swapped_domains_are_explained_in_the_log(make_app, serve, tenant, caplog):
    caplog.set_level(logging.ERROR, logger="linked_accounts.signin.trips")
    visitor = Visitor(serve(make_app(AUTH0_DOMAIN=tenant, AUTH0_MANAGEMENT_DOMAIN=custom(tenant))))
    login = visitor.http.get(visitor.base + "/account/login", timeout=10)
    assert login.status_code == 400 and "sign-in is not set up correctly" in login.text
    assert "AUTH0_MANAGEMENT_DOMAIN" in caplog.text


VALID = {"AUTH0_CLIENT_ID": "id", "AUTH0_CLIENT_SECRET": "secret"}


def test_swapped_auth0_domains_stop_start_up():
    with pytest.raises(ConfigError) as caught:
        load_settings(
            {
                **VALID,
                "AUTH0_DOMAIN": "example.eu.auth0.com",
                "AUTH0_MANAGEMENT_DOMAIN": "login.example.com",
            }
        )
    assert "look swapped" in caught.value.problems[0]


def test_the_audience_given_as_the_management_domain_stops_start_up_with_the_fix():
    with pytest.raises(ConfigError) as caught:
        load_settings(
            {
                **VALID,
                "AUTH0_DOMAIN": "login.example.com",
                "AUTH0_MANAGEMENT_DOMAIN": "https://example.eu.auth0.com/api/v2/",
            }
        )
    assert caught.value.problems == [
        "AUTH0_MANAGEMENT_DOMAIN: give the domain only (e.g. example.eu.auth0.com), "
        "not the API's URL"
    ]
