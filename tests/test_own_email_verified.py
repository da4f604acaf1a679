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


SUGGEST = {
    "SUGGEST_LINKS": "1",
    "AUTH0_M2M_CLIENT_ID": "dev-m2m",
    "AUTH0_M2M_CLIENT_SECRET": "dev-m2m-secret",
}


def test_an_unknown_claim_costs_one_read_per_period_however_many_views(
    make_app, serve, tenant, tmp_path
):
    """Without the claim, Auth0's answer is kept per user like the list: fifteen views, the
    suggestions listing and a confirmation cost one read of the user, not one each."""
    app = make_app(**SUGGEST, INSTANCE_PATH=str(tmp_path))
    visitor = Visitor(serve(app))
    visitor.login("Maya Patel")
    with app_session(app, visitor) as session:
        data = dict(session[account.KEY])
        del data["email_verified"]
        session[account.KEY] = data
    before = t.stats(tenant)["management_calls"].get(t.MAYA, 0)
    for _ in range(15):
        assert "Is this also you?" in visitor.get("/account/").text
    assert visitor.get("/account/api/suggestions").status_code == 200
    confirm = visitor.get("/account/suggestions/link", params={"candidate": t.MAYA_GITHUB})
    assert confirm.status_code == 200, confirm.text[:300]
    assert t.stats(tenant)["management_calls"].get(t.MAYA, 0) - before <= 1


def test_refresh_posts_at_once_are_one_read(make_app, serve, tenant):
    """Fresh reads are single-flighted too: concurrent Refresh posts cannot pass the interval."""
    from concurrent.futures import ThreadPoolExecutor

    app = make_app(REFRESH_MIN_INTERVAL="0")
    visitor = Visitor(serve(app))
    visitor.login("Ada Lovelace")
    page = visitor.get("/account/")
    before = t.stats(tenant)["management_calls"].get(t.ADA, 0)
    t.fault(tenant, "get_user", delay=1.0)  # every read takes a second: the posts overlap
    try:
        with ThreadPoolExecutor(5) as pool:
            answers = list(pool.map(lambda _: visitor.press(page, "Refresh"), range(5)))
    finally:
        t.clear_faults(tenant)
    assert all(a.status_code == 200 for a in answers), [a.status_code for a in answers]
    assert t.stats(tenant)["management_calls"].get(t.ADA, 0) - before == 1
