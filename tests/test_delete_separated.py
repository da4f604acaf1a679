"""Deleting the account an unlink split off: both ways, every guard, cancelling, and faults."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from linked_accounts import separated_deleted
from tests.support import tenant as t
from tests.support.tenant_api import auth, http, m2m_token, user_url
from tests.support.visitor import Visitor

OFFER = "Also delete the separate GitHub account"
DELETE = "Delete the separate GitHub account"


@pytest.fixture
def make_visitor(make_app, serve, tenant):
    t.grant_every_scope(tenant)  # the client-side deletion needs delete:current_user

    def make(**config):
        app = make_app(OFFER_DELETE_SEPARATED="1", **config)
        return Visitor(serve(app)), app

    return make


@pytest.fixture
def visitor(make_visitor):
    return make_visitor()[0]


def separate_github(visitor: Visitor):
    visitor.login()
    page = visitor.unlink(t.ADA_GITHUB)
    assert OFFER in page.text
    return page


def open_offer(visitor: Visitor, page):
    href = page.text.split(OFFER)[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    return visitor.http.get(visitor.base + href if href.startswith("/") else href, timeout=10)


def test_the_offer_is_opt_in(make_app, serve, tenant):
    visitor = Visitor(serve(make_app()))
    visitor.login()
    page = visitor.unlink(t.ADA_GITHUB)
    assert "was unlinked" in page.text
    assert OFFER not in page.text


def test_confirmation_says_what_is_deleted_and_what_is_not(visitor, tenant):
    confirm = open_offer(visitor, separate_github(visitor))
    assert confirm.status_code == 200
    assert "the separate account that GitHub became" in confirm.text
    assert "its sign-in with GitHub" in confirm.text
    assert "does <strong>not</strong> delete your profile, its data" in confirm.text
    assert f"{DELETE}</button>" in confirm.text and ">Keep it<" in confirm.text


def test_client_side_deletion_signs_in_as_the_separated_account_and_deletes_it(
    make_visitor, tenant
):
    visitor, app = make_visitor()
    deleted = []

    def on_deleted(sender, **kw):
        deleted.append(kw["identity"].key)

    separated_deleted.connect(on_deleted, app)
    confirm = open_offer(visitor, separate_github(visitor))
    login_page = visitor.press(confirm, DELETE)
    query = parse_qs(urlsplit(login_page.url).query)
    assert query["connection"] == ["github"]
    assert query["prompt"] == ["login"] and query["max_age"] == ["0"]
    assert "delete:current_user" in query["scope"][0]
    page = visitor.press(login_page, "Continue as Ada Lovelace")
    assert page.url.split("?")[0] == visitor.base + "/account/"
    assert "The separate GitHub account was deleted" in page.text
    assert OFFER not in page.text
    assert t.user(tenant, t.ADA_GITHUB) is None
    assert t.identity_keys(tenant, t.ADA) == [t.ADA, t.ADA_GOOGLE, t.ADA_SAML]
    assert t.user(tenant, t.ADA)["user_metadata"] == {"theme": "dark"}  # primary untouched
    assert deleted == [t.ADA_GITHUB]


def test_server_side_deletion_uses_the_m2m_client(make_visitor, tenant):
    visitor, _ = make_visitor(
        DELETE_SEPARATED_MODE="server",
        AUTH0_M2M_CLIENT_ID="dev-m2m",
        AUTH0_M2M_CLIENT_SECRET="dev-m2m-secret",
    )
    confirm = open_offer(visitor, separate_github(visitor))
    assert "sign in to it once more" not in confirm.text
    page = visitor.press(confirm, DELETE)
    assert page.url.split("?")[0] == visitor.base + "/account/"
    assert "The separate GitHub account was deleted" in page.text
    assert t.user(tenant, t.ADA_GITHUB) is None
    assert t.identity_keys(tenant, t.ADA) == [t.ADA, t.ADA_GOOGLE, t.ADA_SAML]


def test_server_mode_without_m2m_credentials_stops_start_up(make_app):
    with pytest.raises(SystemExit, match="AUTH0_M2M_CLIENT_ID"):
        make_app(OFFER_DELETE_SEPARATED="1", DELETE_SEPARATED_MODE="server")


@pytest.mark.parametrize("mode", ["client", "server"])
@pytest.mark.parametrize(
    "forged",
    [t.ADA, t.BEN, "github|7654321", t.ADA_GOOGLE, "github|1234567|x", ""],
)
def test_only_an_account_this_session_separated_can_be_deleted(make_visitor, tenant, mode, forged):
    visitor, _ = make_visitor(
        DELETE_SEPARATED_MODE=mode,
        AUTH0_M2M_CLIENT_ID="dev-m2m",
        AUTH0_M2M_CLIENT_SECRET="dev-m2m-secret",
    )
    confirm = open_offer(visitor, separate_github(visitor))
    calls = t.stats(tenant)["management_calls_total"]
    before = t.users(tenant)
    page = visitor.press(confirm, DELETE, user=forged)
    assert page.status_code == 400
    assert "Nothing was" in page.text
    assert t.users(tenant) == before
    assert t.stats(tenant)["management_calls_total"] == calls


def test_another_session_cannot_delete_what_this_one_separated(make_visitor, tenant):
    visitor, _ = make_visitor()
    separate_github(visitor)
    other = Visitor(visitor.base)
    other.login("Ada Lovelace")
    page = other.get("/account/separated/delete", params={"user": t.ADA_GITHUB})
    assert page.status_code == 400
    assert t.user(tenant, t.ADA_GITHUB) is not None


def test_the_offer_expires(make_visitor, tenant):
    visitor, _ = make_visitor(DELETE_SEPARATED_WINDOW="0")
    visitor.login()
    page = visitor.unlink(t.ADA_GITHUB)
    assert OFFER not in page.text
    assert (
        visitor.get("/account/separated/delete", params={"user": t.ADA_GITHUB}).status_code == 400
    )


def test_signing_in_to_another_account_deletes_nothing_and_names_the_separate_one(visitor, tenant):
    login_page = visitor.press(open_offer(visitor, separate_github(visitor)), DELETE)
    page = visitor.press(login_page, "Continue as Grace Hopper")
    # A page of its own (not the callback's one-use address), which can be reloaded.
    assert page.url == visitor.base + "/account/signin/other-account"
    assert page.status_code == 409
    assert "not the separate GitHub account, so nothing was deleted." in page.text
    assert "Try again, and sign in with GitHub as ada@users.noreply.github.com." in page.text
    assert "Back to linked accounts" in page.text
    assert t.user(tenant, t.ADA_GITHUB) is not None
    assert t.user(tenant, t.GRACE) is not None
    again = visitor.get("/account/signin/other-account")
    assert again.status_code == 409 and "separate GitHub account" in again.text
    # "Try again" starts the deletion's sign-in again: the separate account's connection.
    retry = visitor.press(again, "Try again")
    assert retry.url.startswith(tenant + "/authorize"), retry.url
    assert "with the <strong>github</strong> connection" in retry.text
    done = visitor.press(retry, "Continue as Ada Lovelace")
    assert "The separate GitHub account was deleted" in done.text
    assert t.user(tenant, t.ADA_GITHUB) is None
    assert t.user(tenant, t.GRACE) is not None


def test_an_account_with_identities_of_its_own_is_not_deleted(visitor, tenant):
    confirm = open_offer(visitor, separate_github(visitor))
    # Meanwhile, someone links another identity into the separated account.
    linked = http.post(
        user_url(tenant, t.ADA_GITHUB) + "/identities",
        json={"provider": "google-oauth2", "user_id": "300000000000000000003"},
        headers=auth(m2m_token(tenant)),
    )
    assert linked.status_code == 201, linked.text
    page = visitor.press(visitor.press(confirm, DELETE), "Continue as Ada Lovelace")
    assert page.status_code == 400
    assert "other sign-in methods linked" in page.text
    assert len(t.user(tenant, t.ADA_GITHUB)["identities"]) == 2


def test_keep_it_and_cancel_at_auth0_delete_nothing(visitor, tenant):
    page = separate_github(visitor)
    confirm = open_offer(visitor, page)
    assert 'href="/account/">Keep it</a>' in confirm.text
    assert OFFER in visitor.get("/account/").text  # still offered after keeping it
    page = visitor.press(visitor.press(confirm, DELETE), "Cancel")
    assert "Nothing was changed" in page.text
    assert t.user(tenant, t.ADA_GITHUB) is not None


@pytest.mark.parametrize("status", [500, 503, 429])
def test_a_fault_on_the_delete_leaves_the_separated_user(visitor, tenant, status):
    login_page = visitor.press(open_offer(visitor, separate_github(visitor)), DELETE)
    t.fault(tenant, "delete_user", status=status, times=1)
    page = visitor.press(login_page, "Continue as Ada Lovelace")
    assert page.status_code in (429, 502)
    assert "Traceback" not in page.text
    assert t.user(tenant, t.ADA_GITHUB) is not None
    assert OFFER in visitor.get("/account/").text  # can be tried again


def test_a_fresh_login_of_the_primary_comes_first(make_visitor, tenant):
    visitor, _ = make_visitor(REAUTH_MAX_AGE="0")
    visitor.login()
    login_page = visitor.press(visitor.confirm_page(t.ADA_GITHUB), "Unlink")
    page = visitor.press(login_page, "Continue as Ada Lovelace")  # re-authenticate, unlink
    confirm = open_offer(visitor, page)
    reauth_page = visitor.press(confirm, DELETE)
    assert "connection=" not in reauth_page.url  # the primary first
    delete_page = visitor.press(reauth_page, "Continue as Ada Lovelace")
    assert "connection=github" in delete_page.url
    page = visitor.press(delete_page, "Continue as Ada Lovelace")
    assert "was deleted" in page.text
    assert t.user(tenant, t.ADA_GITHUB) is None


def test_the_unlink_confirmation_says_deletion_will_be_offered(visitor, tenant):
    visitor.login()
    page = visitor.confirm_page(t.ADA_GITHUB)
    assert "this page offers to delete the separate account too" in page.text
    assert "ask for the separate account to be deleted" not in page.text
