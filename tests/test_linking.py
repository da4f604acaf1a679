"""Linking another account, from each entry point, and every refusal (nothing changes)."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support import tenant as t
from tests.support.visitor import Visitor


@pytest.fixture
def visitor(make_app, serve):
    return Visitor(serve(make_app(LINK_CONNECTIONS="github,google-oauth2")))


def test_settings_offers_each_configured_connection_and_the_chooser(visitor):
    page = visitor.login("Ben Carter")
    assert "Link GitHub</button>" in page.text
    assert "Link Google</button>" in page.text
    assert "Link another account</button>" in page.text


def test_link_github_to_a_profile_without_links_then_unlink_it(visitor, tenant):
    visitor.login("Ben Carter")
    page = visitor.link("Link GitHub", "Grace Hopper")
    assert page.url.split("?")[0] == visitor.base + "/account/"
    assert "GitHub (grace@example.com) is now linked" in page.text
    assert t.identity_keys(tenant, t.BEN) == [t.BEN, t.GRACE]
    assert t.user(tenant, t.GRACE) is None  # no longer a separate user
    assert "Unlink GitHub" in page.text

    page = visitor.unlink(t.GRACE)
    assert "was unlinked" in page.text
    assert t.identity_keys(tenant, t.BEN) == [t.BEN]
    assert t.user(tenant, t.GRACE) is not None


def test_link_through_the_chooser_at_auth0(visitor, tenant):
    visitor.login("Ben Carter")
    page = visitor.link("Link another account", "Linus Google")
    assert "Google (linus@example.com) is now linked" in page.text
    assert t.identity_keys(tenant, t.BEN) == [t.BEN, t.LINUS]


def test_the_secondary_login_does_not_replace_the_primary_session(visitor, tenant):
    visitor.login("Ben Carter")
    visitor.link("Link GitHub", "Grace Hopper")
    page = visitor.get("/account/")
    assert "ben@example.com" in page.text
    assert "grace@example.com" in page.text  # shown as the linked GitHub, not as the user


@pytest.mark.parametrize(
    ("button", "account", "status", "text"),
    [
        ("Link Google", "Eve Unverified", 400, "is not verified"),
        ("Link another account", "Ben Carter", 400, "the account you are signed in with"),
        # Ada's GitHub signs in as Ada, whose profile has links of its own: Auth0 answers 409.
        ("Link GitHub", "Ada Lovelace", 409, "already linked to a profile"),
    ],
)
def test_refused_links_change_nothing(visitor, tenant, button, account, status, text):
    visitor.login("Ben Carter")
    before = {u: t.identity_keys(tenant, u) for u in (t.BEN, t.ADA, t.EVE)}
    page = visitor.link(button, account)
    assert page.status_code == status, page.text[:300]
    assert text in page.text
    assert {u: t.identity_keys(tenant, u) for u in (t.BEN, t.ADA, t.EVE)} == before


def test_cancelling_at_auth0_changes_nothing(visitor, tenant):
    visitor.login("Ben Carter")
    login_page = visitor.press_link("Link GitHub")
    page = visitor.press(login_page, "Cancel")
    assert page.url.split("?")[0] == visitor.base + "/account/"
    assert "cancelled" in page.text and "Nothing was changed" in page.text
    assert t.identity_keys(tenant, t.BEN) == [t.BEN]
    assert t.user(tenant, t.GRACE) is not None


def test_an_error_on_the_redirect_changes_nothing_and_keeps_the_user_signed_in(visitor, tenant):
    visitor.login("Ben Carter")
    started = visitor.press_link("Link GitHub")
    query = parse_qs(urlsplit(started.url).query)
    back = visitor.get(
        "/account/callback",
        params={"state": query["state"][0], "error": "server_error", "error_description": "x"},
    )
    assert back.url.split("?")[0] == visitor.base + "/account/"
    assert "Nothing was changed" in back.text
    assert t.identity_keys(tenant, t.BEN) == [t.BEN]


def test_a_rejected_link_with_token_is_refused_in_plain_words_and_logged(visitor, tenant, caplog):
    caplog.set_level(logging.WARNING, logger="linked_accounts.refusals")
    visitor.login("Ben Carter")
    t.fault(
        tenant,
        "link_identity",
        times=1,
        status=400,
        body={
            "statusCode": 400,
            "error": "Bad Request",
            "message": "JWT (link_with) must have the same aud as the access token's azp",
        },
    )
    page = visitor.link("Link GitHub", "Grace Hopper")
    assert page.status_code == 400
    # Auth0's reason is for the administrator (the log); the user reads plain words.
    assert "This change was refused, so nothing was changed." in page.text
    assert "JWT (link_with)" not in page.text
    assert "JWT (link_with) must have the same aud" in caplog.text
    assert t.identity_keys(tenant, t.BEN) == [t.BEN]


def test_a_connection_not_offered_is_refused_without_going_to_auth0(visitor):
    visitor.login("Ben Carter")
    page = visitor.press(visitor.get("/account/"), "Link GitHub", connection="facebook")
    assert page.status_code == 400
    assert "not offered" in page.text


def test_a_confirmation_says_what_linking_does_before_anything_happens(visitor, tenant):
    visitor.login("Ben Carter")
    page = visitor.press(visitor.get("/account/"), "Link GitHub")
    assert page.status_code == 200
    assert "Link GitHub?" in page.text
    assert (
        "<strong>You keep this profile</strong> (Email and password, ben@example.com)" in page.text
    )
    assert "<strong>stops being a separate account</strong>" in page.text
    assert "<strong>are lost</strong>" in page.text and "<strong>is lost</strong>" in page.text
    assert "contact this site's support" in page.text
    assert "Continue as" not in page.text  # not at Auth0 yet
    back = visitor.get("/account/")
    assert back.status_code == 200 and t.identity_keys(tenant, t.BEN) == [t.BEN]


def test_linking_without_csrf_is_refused(visitor):
    visitor.login("Ben Carter")
    response = visitor.post("/account/link", {"connection": "github"}, allow_redirects=False)
    assert response.status_code == 400
