"""Display names and icons: the host's names for its connections hold on every page, in every
message, in the JSON API and in the security email."""

from __future__ import annotations

import re

import pytest

from tests.support import tenant as t
from tests.support.forms import submit
from tests.support.servers import serving
from tests.support.visitor import Visitor
from tests.test_notices import body, smtp  # noqa: F401  (the local SMTP server fixture)

ACME = {"acme-saml": {"name": "Acme SSO", "icon": "/static/acme-sso.svg"}}


@pytest.mark.parametrize(
    ("provider", "connection", "expected"),
    [
        ("google-oauth2", "google-oauth2", "Google"),
        ("github", "github", "GitHub"),
        ("auth0", "Username-Password-Authentication", "Email and password"),
        # Enterprise connections: the admin's label, inside words a person knows.
        ("samlp", "acme-saml", "Single sign-on (acme-saml)"),
        ("oidc", "partner-login", "Single sign-on (partner-login)"),
        ("custom-social", "my-social", "my-social"),
    ],
)
def test_display_names(make_app, provider, connection, expected):
    from linked_accounts.names import display_name

    with make_app().test_request_context():
        assert display_name(provider, connection) == expected


def test_the_hosts_names_and_icons_win_over_the_providers(make_app):
    from linked_accounts.names import display_name, icon_url

    with make_app(LINKED_ACCOUNTS_CONNECTIONS=ACME).test_request_context():
        assert display_name("samlp", "acme-saml") == "Acme SSO"
        assert icon_url("samlp", "acme-saml") == "/static/acme-sso.svg"
        assert icon_url("github", "github").endswith("/la-static/icons/github.svg")


def test_the_hosts_name_holds_on_every_page_message_and_email(make_app, tenant, smtp):  # noqa: F811
    inbox, url = smtp
    app = make_app(
        LINKED_ACCOUNTS_CONNECTIONS=ACME,
        LINK_CONNECTIONS="acme-saml",
        OFFER_DELETE_SEPARATED="1",
        LINK_REQUIRE_VERIFIED_EMAIL="0",  # the SAML login does not say its email is verified
        SMTP_URL=url,
    )
    with serving(app) as base:
        visitor = Visitor(base)
        settings = visitor.login("Ada Lovelace")
        assert "Link Acme SSO</button>" in settings.text
        confirm = visitor.confirm_page(t.ADA_SAML)
        assert "Unlink Acme SSO" in confirm.text and "acme-saml" not in _visible(confirm.text)

        page = submit(visitor.http, confirm, "Unlink")
        assert "Acme SSO (ada@acme.test) was unlinked" in page.text
        assert "Also delete the separate Acme SSO account" in page.text
        offer = visitor.get("/account/separated/delete", params={"user": t.ADA_SAML})
        assert "Acme SSO" in offer.text and "acme-saml" not in _visible(offer.text)
        listing = visitor.get("/account/api/identities").json()["identities"]
        assert "Acme SSO" not in [i["display_name"] for i in listing]  # unlinked: gone

        page = visitor.link("Link Acme SSO", "Ada Lovelace")
        assert "Acme SSO (ada@acme.test) is now linked" in page.text, re.sub(
            r"<[^>]*>", " ", page.text
        )
        listing = visitor.get("/account/api/identities").json()["identities"]
        assert [i["display_name"] for i in listing if i["key"] == t.ADA_SAML] == ["Acme SSO"]
        app.extensions["linked_accounts"].notifier.flush()
    subjects = [msg["Subject"] for _, msg in inbox.wait_for(2)]
    assert subjects == [
        "Acme SSO was unlinked on your account",
        "Acme SSO was linked on your account",
    ]
    assert all("Acme SSO (ada@acme.test)" in body(msg) for _, msg in inbox.messages)


def _visible(html: str) -> str:
    """The page's text without attribute values (ids may name the connection)."""
    return re.sub(r"<[^>]*>", " ", html)


M2M = {"AUTH0_M2M_CLIENT_ID": "dev-m2m", "AUTH0_M2M_CLIENT_SECRET": "dev-m2m-secret"}


def test_the_tenants_display_name_comes_before_the_connections_own(make_app, tenant):
    from linked_accounts.names import display_name

    app = make_app(CONNECTION_DISPLAY_NAMES="1", **M2M)
    with app.test_request_context():
        # The administrator named acme-saml at Auth0; the others' display name is their name.
        assert display_name("samlp", "acme-saml") == "Acme Corp"
        assert display_name("github", "github") == "GitHub"
        assert display_name("auth0", "Username-Password-Authentication") == "Email and password"
    with app.test_request_context():
        assert display_name("samlp", "acme-saml") == "Acme Corp"
    # Read once for every view and person (M2M calls, counted at the tenant), not per name.
    assert t.stats(tenant)["management_calls"] == {"dev-m2m@clients": 1}
    with make_app(
        CONNECTION_DISPLAY_NAMES="1", LINKED_ACCOUNTS_CONNECTIONS=ACME, **M2M
    ).test_request_context():
        assert display_name("samlp", "acme-saml") == "Acme SSO"  # the host's name wins


def test_the_tenants_display_name_is_on_the_page(make_app, serve, tenant):
    visitor = Visitor(serve(make_app(CONNECTION_DISPLAY_NAMES="1", **M2M)))
    page = visitor.login("Ada Lovelace")
    assert 'aria-label="Unlink Acme Corp (ada@acme.test)"' in page.text
    assert "Single sign-on" not in page.text


def test_without_the_tenants_names_the_connection_is_named_as_before(make_app, serve, tenant):
    t.fault(tenant, "connections", status=403)  # e.g. the M2M client lacks read:connections
    visitor = Visitor(serve(make_app(CONNECTION_DISPLAY_NAMES="1", **M2M)))
    page = visitor.login("Ada Lovelace")
    assert page.status_code == 200
    assert 'aria-label="Unlink Single sign-on (acme-saml) (ada@acme.test)"' in page.text
