"""A fresh login before any change: nothing is written before it, and the action resumes after."""

from __future__ import annotations

import time

import pytest
import requests

from linked_accounts.signin import account
from tests.support import tenant as t
from tests.support.forms import submit
from tests.support.servers import serving
from tests.support.stored_session import COOKIE, edit_stored
from tests.support.visitor import Visitor

ADA_ALL = [t.ADA, t.ADA_GOOGLE, t.ADA_GITHUB, t.ADA_SAML]


@pytest.fixture
def visitor(make_app, serve):
    # REAUTH_MAX_AGE=0: every change needs a login made for it.
    return Visitor(serve(make_app(REAUTH_MAX_AGE="0", LINK_CONNECTIONS="github")))


def test_unlink_asks_for_a_fresh_login_first_and_writes_nothing_before_it(visitor, tenant):
    visitor.login()
    calls = t.stats(tenant)["management_calls_total"]
    login_page = visitor.press(visitor.confirm_page(t.ADA_GITHUB), "Unlink")
    assert login_page.url.startswith(tenant + "/authorize")
    assert "Continue as Ada Lovelace" in login_page.text
    query = requests.utils.urlparse(login_page.url).query
    assert "prompt=login" in query and "max_age=0" in query and "login_hint=ada" in query
    assert t.stats(tenant)["management_calls_total"] == calls
    assert t.identity_keys(tenant, t.ADA) == ADA_ALL

    page = visitor.press(login_page, "Continue as Ada Lovelace")
    assert page.url.split("?")[0] == visitor.base + "/account/"
    assert "GitHub (ada@users.noreply.github.com) was unlinked" in page.text
    assert t.identity_keys(tenant, t.ADA) == [t.ADA, t.ADA_GOOGLE, t.ADA_SAML]


def test_link_asks_for_a_fresh_login_then_goes_on_to_the_other_account(visitor, tenant):
    visitor.login("Ben Carter")
    reauth_page = visitor.press_link("Link GitHub")
    assert "prompt=login" in reauth_page.url and "audience=" in reauth_page.url
    link_page = visitor.press(reauth_page, "Continue as Ben Carter")
    assert "connection=github" in link_page.url
    page = visitor.press(link_page, "Continue as Grace Hopper")
    assert "GitHub (grace@example.com) is now linked" in page.text
    assert t.identity_keys(tenant, t.BEN) == [t.BEN, t.GRACE]


def test_re_authenticating_as_someone_else_changes_nothing(visitor, tenant):
    visitor.login()
    login_page = visitor.press(visitor.confirm_page(t.ADA_GITHUB), "Unlink")
    page = visitor.press(login_page, "Continue as Ben Carter")
    assert "different account" in page.text and "nothing was changed" in page.text
    assert "ada@example.com" in page.text  # still signed in as Ada
    assert t.identity_keys(tenant, t.ADA) == ADA_ALL
    assert t.identity_keys(tenant, t.BEN) == [t.BEN]


def test_a_stale_auth_time_is_refused(visitor, tenant):
    visitor.login()
    login_page = visitor.press(visitor.confirm_page(t.ADA_GITHUB), "Unlink")
    # The tenant's clock runs ten minutes behind: its auth_time predates our request.
    requests.post(f"{tenant}/__dev/clock", json={"offset": -600}, timeout=5).raise_for_status()
    page = visitor.press(login_page, "Continue as Ada Lovelace")
    assert "Your sign-in was not confirmed again" in page.text
    assert t.identity_keys(tenant, t.ADA) == ADA_ALL


def test_cancelling_the_fresh_login_changes_nothing(visitor, tenant):
    visitor.login()
    login_page = visitor.press(visitor.confirm_page(t.ADA_SAML), "Unlink")
    page = visitor.press(login_page, "Cancel")
    assert "Nothing was changed" in page.text
    assert t.identity_keys(tenant, t.ADA) == ADA_ALL


def test_a_fresh_login_is_not_asked_within_reauth_max_age(make_app, tenant):
    with serving(make_app(REAUTH_MAX_AGE="300")) as url:
        visitor = Visitor(url)
        visitor.login()
        page = visitor.unlink(t.ADA_GITHUB)
        assert page.url.split("?")[0] == url + "/account/"
        assert "was unlinked" in page.text


def test_only_finishing_a_re_login_makes_the_proof_of_a_fresh_login():
    from linked_accounts.signin.reauth import FreshLogin

    with pytest.raises(TypeError, match="only reauth.finish"):
        FreshLogin(t.ADA, 1.0)


def test_a_stale_login_stays_stale_whatever_a_caller_passes_as_proof(make_app):
    from linked_accounts.signin import reauth
    from linked_accounts.signin.account import Account
    from linked_accounts.signin.reauth import FreshLogin

    stale = Account(t.ADA, "Ada", None, "token", 2e9, 3600.0, auth_time=1.0)
    proof = FreshLogin(t.BEN, 2e9, reauth._MINT)  # a genuine proof, of someone else's login
    with make_app().app_context():
        assert not reauth.is_fresh(stale, True)  # type: ignore[arg-type]
        assert not reauth.is_fresh(stale, proof)
        assert reauth.is_fresh(stale, FreshLogin(t.ADA, 2e9, reauth._MINT))


def test_a_link_is_refused_when_the_primary_login_is_no_longer_fresh(app, base, tenant):
    ben = Visitor(base)
    ben.login("Ben Carter")
    login_page = ben.press_link("Link GitHub")

    def stale(data):
        data[account.KEY] = {**data[account.KEY], "auth_time": time.time() - 3 * 3600}

    edit_stored(app, ben.http.cookies[COOKIE], stale)
    page = submit(ben.http, login_page, "Continue as Grace Hopper")
    assert "no longer recent enough" in page.text
    assert t.identity_keys(tenant, t.BEN) == [t.BEN]


@pytest.mark.parametrize(
    ("max_age", "words", "sign_ins"),
    [
        ("300", "Next you sign in to the other account to prove it is yours.", ["Grace Hopper"]),
        (
            "0",
            "Next you sign in twice: once more with Email and password, to confirm it is you, "
            "then to the other account, to prove it is yours.",
            ["Ben Carter", "Grace Hopper"],
        ),
    ],
    ids=["fresh", "stale"],
)
def test_the_link_confirmation_says_how_many_sign_ins_follow_and_so_many_do(
    make_app, serve, tenant, max_age, words, sign_ins
):
    visitor = Visitor(serve(make_app(REAUTH_MAX_AGE=max_age, LINK_CONNECTIONS="github")))
    visitor.login("Ben Carter")
    page = visitor.press(visitor.get("/account/"), "Link GitHub")
    assert words in page.text
    assert ("sign in twice" in page.text) == (len(sign_ins) == 2)
    page = visitor.press(page, "Sign in and link")
    for name in sign_ins:  # one login page each, then no other
        assert page.url.startswith(tenant + "/authorize"), page.url
        page = visitor.press(page, f"Continue as {name}")
    assert page.url.split("?")[0] == visitor.base + "/account/"
    assert "GitHub (grace@example.com) is now linked" in page.text
