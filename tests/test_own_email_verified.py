"""Linking checks the signed-in person's own email too (Auth0's unverified-email takeover)."""

from __future__ import annotations

import pytest

from linked_accounts.signin import account
from tests.support import tenant as t
from tests.support.app_session import app_session
from tests.support.visitor import Visitor


@pytest.fixture
def visitor(make_app, serve):
    return Visitor(serve(make_app(LINK_CONNECTIONS="github")))


def test_eve_unverified_cannot_link_graces_github(visitor, tenant):
    visitor.login("Eve Unverified")
    page = visitor.press_link("Link GitHub")
    assert page.status_code == 400, page.text[:300]
    assert "Your own email address (eve@example.com) is not verified" in page.text
    assert "Verify it first" in page.text
    assert "Continue as" not in page.text  # refused before any trip to Auth0
    assert t.identity_keys(tenant, t.EVE) == [t.EVE]
    assert t.user(tenant, t.GRACE) is not None


def test_the_check_can_be_turned_off(make_app, serve, tenant):
    visitor = Visitor(
        serve(make_app(LINK_CONNECTIONS="github", LINK_REQUIRE_VERIFIED_EMAIL="false"))
    )
    visitor.login("Eve Unverified")
    page = visitor.link("Link GitHub", "Grace Hopper")
    assert "is now linked" in page.text
    assert t.identity_keys(tenant, t.EVE) == [t.EVE, t.GRACE]


def test_a_verified_user_still_links(visitor, tenant):
    visitor.login("Ben Carter")
    page = visitor.link("Link GitHub", "Grace Hopper")
    assert "is now linked" in page.text


@pytest.mark.parametrize(("name", "linked"), [("Eve Unverified", False), ("Ben Carter", True)])
def test_a_session_kept_without_the_claim_asks_auth0(make_app, serve, tenant, name, linked):
    """A session stored before email_verified was kept: Auth0's answer decides, not a guess."""
    app = make_app(LINK_CONNECTIONS="github")
    visitor = Visitor(serve(app))
    visitor.login(name)
    with app_session(app, visitor) as session:
        data = dict(session[account.KEY])
        del data["email_verified"]
        session[account.KEY] = data
    page = visitor.press_link("Link GitHub")
    if linked:
        page = visitor.press(page, "Continue as Grace Hopper")
        assert "is now linked" in page.text
    else:
        assert page.status_code == 400
        assert "is not verified" in page.text
    user = t.identity_keys(tenant, t.BEN if linked else t.EVE)
    assert (t.GRACE in user) is linked
