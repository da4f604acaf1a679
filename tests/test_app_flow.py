"""The whole app against the development tenant over real HTTP: login, list, unlink, logout."""

from __future__ import annotations

import requests

from tests.support import tenant as t
from tests.support.forms import submit
from tests.support.visitor import unlink_buttons

ADA_ALL = [t.ADA, t.ADA_GOOGLE, t.ADA_GITHUB, t.ADA_SAML]


def test_front_page_offers_log_in_and_settings_need_login(visitor):
    front = visitor.get("/")
    assert ">Log in<" in front.text
    settings = visitor.get("/account/", allow_redirects=False)
    assert settings.status_code == 302
    assert "/account/login" in settings.headers["Location"]


def test_login_lands_on_settings_listing_every_identity(visitor):
    page = visitor.login("Ada Lovelace")
    for text in ("Email and password", "Google", "GitHub", "acme-saml", "Primary"):
        assert text in page.text
    # The primary has no unlink control; each secondary has one naming its provider.
    assert unlink_buttons(page.text) == [
        "Unlink Google (ada.lovelace@gmail.com)",
        "Unlink GitHub (ada@users.noreply.github.com)",
        "Unlink Single sign-on (acme-saml) (ada@acme.test)",
    ]


def test_confirmation_page_tells_what_unlinking_does(visitor, tenant):
    visitor.login()
    page = visitor.confirm_page(t.ADA_GITHUB)
    assert page.status_code == 200
    assert "separate account" in page.text
    assert "no data" in page.text
    assert "sign in with this GitHub account" in page.text
    assert "delete" in page.text
    assert "Unlink GitHub</button>" in page.text and ">Cancel<" in page.text
    assert t.identity_keys(tenant, t.ADA) == ADA_ALL  # nothing changed yet


def test_unlink_github_and_saml_through_the_confirmation_page(visitor, tenant):
    visitor.login()
    calls_before = t.stats(tenant)["management_calls_total"]
    page = visitor.unlink(t.ADA_GITHUB)
    assert page.url.split("?")[0].endswith("/account/")
    assert "GitHub (ada@users.noreply.github.com) was unlinked" in page.text
    assert "Unlink GitHub" not in page.text
    # Redrawn from the DELETE's answer: one call, no second GET.
    assert t.stats(tenant)["management_calls_total"] == calls_before + 1

    page = visitor.unlink(t.ADA_SAML)
    assert "Single sign-on (acme-saml) (ada@acme.test) was unlinked" in page.text
    assert t.identity_keys(tenant, t.ADA) == [t.ADA, t.ADA_GOOGLE]
    # Each unlinked identity is now a separate user with no metadata.
    separated = t.user(tenant, t.ADA_GITHUB)
    assert separated is not None
    assert not separated.get("user_metadata") and not separated.get("app_metadata")
    assert t.user(tenant, t.ADA_SAML) is not None


def test_user_without_links_sees_only_the_primary(visitor):
    page = visitor.login("Ben Carter")
    assert unlink_buttons(page.text) == []
    assert "No other accounts are linked" in page.text


def test_cancel_leaves_everything_linked(visitor, tenant):
    visitor.login()
    confirm = visitor.confirm_page(t.ADA_GOOGLE)
    assert 'href="/account/">Cancel</a>' in confirm.text
    back = visitor.get("/account/")  # where Cancel leads
    assert len(unlink_buttons(back.text)) == 3
    assert t.identity_keys(tenant, t.ADA) == ADA_ALL


def test_settings_views_are_cached_and_refresh_rereads(visitor, tenant):
    visitor.login()
    before = t.stats(tenant)["management_calls_total"]
    for _ in range(5):
        assert visitor.get("/account/").status_code == 200
    assert t.stats(tenant)["management_calls_total"] == before
    page = submit(visitor.http, visitor.get("/account/"), "Refresh list")
    assert "up to date" in page.text


def test_logout_ends_the_session_at_the_app_and_the_tenant(visitor, tenant):
    visitor.login()
    old_cookie = visitor.http.cookies.get("session", domain="127.0.0.1")
    page = submit(visitor.http, visitor.get("/account/"), "Log out")
    assert page.url.split("?")[0] == visitor.base + "/"
    assert ">Log in<" in page.text
    again = visitor.get("/account/", allow_redirects=False)
    assert again.status_code == 302 and "/account/login" in again.headers["Location"]
    # Replaying the old session cookie gets nothing: the server-side session is gone.
    replay = requests.get(
        visitor.base + "/account/",
        cookies={"session": old_cookie},
        allow_redirects=False,
        timeout=5,
    )
    assert replay.status_code == 302


def test_a_login_link_from_another_site_does_not_sign_the_user_out(visitor):
    visitor.login()
    cookie = visitor.http.cookies.get("session")
    # What <img src="https://our.site/account/login"> on another site would make the browser do.
    response = visitor.get("/account/login", allow_redirects=False)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/"
    assert visitor.http.cookies.get("session") == cookie
    assert "Unlink GitHub" in visitor.get("/account/").text
