"""Every address the pages end on can be reloaded and shared: a confirmation is a GET page, a
sign-in that failed or came back as the wrong account ends on a page of its own (not at the
callback's one-use address), a refresh that failed goes back to the list saying why, and logging
out lands on the plain front page, which says so once."""

from __future__ import annotations

from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

from linked_accounts import outcomes
from linked_accounts.purposes import Trip
from tests.support import tenant as t
from tests.support.forms import submit
from tests.support.visitor import Visitor

ADA_ALL = [t.ADA, t.ADA_GOOGLE, t.ADA_GITHUB, t.ADA_SAML]


@pytest.fixture
def fresh_visitor(make_app, serve):
    """Every change needs a login made for it (REAUTH_MAX_AGE=0)."""
    return Visitor(serve(make_app(REAUTH_MAX_AGE="0")))


def path_and_query(url: str) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(url)
    return parts.path, parse_qs(parts.query)


def test_the_link_confirmation_is_a_page_of_its_own_that_can_be_reloaded(base, tenant):
    ben = Visitor(base)
    ben.login("Ben Carter")
    page = ben.press(ben.get("/account/"), "Link GitHub")
    assert page.history[-1].status_code == 303  # the POST answered with the page's address
    assert page.url == base + "/account/link?connection=github"
    assert page.status_code == 200 and "Link GitHub?" in page.text
    again = ben.get("/account/link?connection=github")
    assert again.status_code == 200 and "Link GitHub?" in again.text
    assert "Sign in and link" in again.text  # its button posts, with a CSRF token
    assert t.identity_keys(tenant, t.BEN) == [t.BEN]


def test_the_link_confirmation_takes_only_a_connection_offered_here(base):
    ben = Visitor(base)
    ben.login("Ben Carter")
    page = ben.get("/account/link?connection=samlp-evil")
    assert page.status_code == 400
    assert "Linking that kind of account is not offered here." in page.text
    any_account = ben.get("/account/link")  # Auth0's own chooser
    assert any_account.status_code == 200 and "Link another account?" in any_account.text


def test_the_link_confirmation_asks_a_visitor_to_log_in_and_comes_back_to_it(base):
    response = Visitor(base).get("/account/link?connection=github", allow_redirects=False)
    assert response.status_code == 302
    path, query = path_and_query(response.headers["Location"])
    assert path == "/account/login" and query["next"] == ["/account/link?connection=github"]


def test_a_failed_sign_in_ends_on_a_page_of_its_own_which_can_be_reloaded(visitor, tenant):
    login_page = visitor.get("/account/login")
    page = submit(visitor.http, login_page, "Cancel")
    path, query = path_and_query(page.url)
    assert path == "/account/signin/failed" and set(query) == {outcomes.PARAM}
    assert page.status_code == 400
    assert "Signing in was cancelled." in page.text
    again = visitor.get(page.url.removeprefix(visitor.base))
    assert again.status_code == 400 and "Signing in was cancelled." in again.text
    # Sealed for this browser: the same address shows someone else only the plain refusal.
    shared = Visitor(visitor.base).get(page.url.removeprefix(visitor.base))
    assert shared.status_code == 400 and "Sign-in did not complete" in shared.text
    assert "cancelled" not in shared.text


def test_a_failed_refresh_goes_back_to_the_list_saying_why(make_app, serve, tenant):
    ada = Visitor(serve(make_app(REFRESH_MIN_INTERVAL="0")))
    ada.login()
    t.fault(tenant, "get_user", times=1, status=503, body={"statusCode": 503})
    page = ada.press(ada.get("/account/"), "Refresh list")
    assert page.history[-1].status_code == 303
    path, query = path_and_query(page.url)
    assert path == "/account/" and set(query) == {outcomes.PARAM}
    assert page.status_code == 200
    assert 'class="la-message la-message--error"' in page.text
    assert "Unlink GitHub" in page.text  # the list, as last read
    again = ada.get(page.url.removeprefix(ada.base))
    assert again.status_code == 200 and 'la-message--error"' in again.text


@pytest.mark.parametrize(
    ("auth0", "body", "status"),
    [
        (429, {"statusCode": 429, "error": "Too Many Requests", "message": "Slow down"}, 429),
        (503, {"statusCode": 503}, 502),  # Auth0 down: a bad gateway, said so
        (409, {"statusCode": 409, "error": "Conflict", "message": "In the way"}, 409),
    ],
)
def test_a_refused_unlink_ends_on_a_page_of_its_own_not_at_the_forms_address(
    base, tenant, auth0, body, status
):
    """Shown at the POST's address, a reload would send the form again (the browser asks to
    resend it): the refusal ends on a page a reload shows again, with its status."""
    ada = Visitor(base)
    ada.login()
    confirm = ada.confirm_page(t.ADA_GITHUB)
    t.fault(tenant, "delete_identity", times=1, status=auth0, body=body)
    page = ada.press(confirm, "Unlink")
    assert page.history[-1].status_code == 303  # the POST answered with the page's address
    path, query = path_and_query(page.url)
    assert path == "/account/refused" and set(query) == {outcomes.PARAM}
    assert page.status_code == status
    again = ada.get(page.url.removeprefix(ada.base))
    assert again.status_code == status and again.text == page.text
    if status == 429:
        assert again.headers["Retry-After"] == page.headers["Retry-After"]
    assert t.identity_keys(tenant, t.ADA) == ADA_ALL  # nothing changed, and a reload changes none
    stranger = Visitor(base).get(page.url.removeprefix(ada.base), allow_redirects=False)
    assert stranger.status_code == 302  # sealed for Ada's session: shown to no other browser


def test_logging_out_lands_on_the_plain_front_page_which_says_so_once(visitor, tenant):
    visitor.login()
    page = visitor.press(visitor.get("/account/"), "Log out")
    assert page.url == visitor.base + "/"  # no `state`, nor anything else
    assert page.text.count("You are logged out.") == 1
    assert ">Log in<" in page.text
    again = visitor.get("/")
    assert again.url == visitor.base + "/" and "You are logged out." not in again.text


def test_signing_in_again_as_another_account_names_the_one_asked_for_and_tries_again(
    fresh_visitor, tenant
):
    visitor = fresh_visitor
    visitor.login()
    login_page = visitor.press(visitor.confirm_page(t.ADA_GITHUB), "Unlink")
    page = visitor.press(login_page, "Continue as Ben Carter")
    assert page.url == visitor.base + "/account/signin/other-account"
    assert page.status_code == 409
    assert "You signed in as a different account, so nothing was changed." in page.text
    assert "Try again, and sign in as ada@example.com." in page.text
    again = visitor.get("/account/signin/other-account")
    assert again.status_code == 409 and "sign in as ada@example.com" in again.text
    assert t.identity_keys(tenant, t.ADA) == ADA_ALL
    # "Try again" starts the same sign-in, which then carries out the same unlink.
    retry = visitor.press(again, "Try again")
    assert "prompt=login" in retry.url and "Continue as Ada Lovelace" in retry.text
    done = visitor.press(retry, "Continue as Ada Lovelace")
    assert "GitHub (ada@users.noreply.github.com) was unlinked" in done.text
    assert t.identity_keys(tenant, t.ADA) == [t.ADA, t.ADA_GOOGLE, t.ADA_SAML]
    # Tried once: the page has nothing more to say, and no trip to start again.
    assert visitor.get("/account/signin/other-account").url == visitor.base + "/account/"


def test_try_again_needs_the_csrf_token_and_starts_only_what_was_kept(fresh_visitor, tenant):
    visitor = fresh_visitor
    visitor.login()
    login_page = visitor.press(visitor.confirm_page(t.ADA_GITHUB), "Unlink")
    visitor.press(login_page, "Continue as Ben Carter")
    forged = visitor.post("/account/signin/again", {}, allow_redirects=False)
    assert forged.status_code == 400
    # Nothing was kept for another visitor, whatever they post.
    other = Visitor(visitor.base)
    other.login("Ben Carter")
    response = other.press(other.get("/account/"), "Refresh list")  # a page with a token
    token = other.csrf_token()
    nothing = other.post("/account/signin/again", {"csrf_token": token})
    assert response.status_code == 200
    assert nothing.url.split("?")[0] == other.base + "/account/"
    assert "Continue as" not in nothing.text


# Every trip to Auth0 comes back to the one callback, whose address works once and holds the
# code and state: whatever its handler decides (done, refused, signed in as someone else), the
# browser ends on an address of its own that can be reloaded. One or more ways each purpose ends,
# each through the pages a person uses.
SUGGEST = {
    "SUGGEST_LINKS": "1",
    "AUTH0_M2M_CLIENT_ID": "dev-m2m",
    "AUTH0_M2M_CLIENT_SECRET": "dev-m2m-secret",
}


def login_cancelled(make_app, serve, tenant, tmp_path):
    visitor = Visitor(serve(make_app()))
    return visitor, submit(visitor.http, visitor.get("/account/login"), "Cancel")


def login_done(make_app, serve, tenant, tmp_path):
    visitor = Visitor(serve(make_app()))
    return visitor, visitor.login()


def renewed(make_app, serve, tenant, tmp_path):
    visitor = Visitor(serve(make_app(IDENTITIES_CACHE_SECONDS="0")))
    visitor.login()
    t.reject_token_once(tenant)  # the token is renewed silently, and the page read again
    return visitor, visitor.get("/account/")


def reauth_as_another_account(make_app, serve, tenant, tmp_path):
    visitor = Visitor(serve(make_app(REAUTH_MAX_AGE="0")))
    visitor.login()
    login_page = visitor.press(visitor.confirm_page(t.ADA_GITHUB), "Unlink")
    return visitor, visitor.press(login_page, "Continue as Ben Carter")


def reauth_then_refused(make_app, serve, tenant, tmp_path):
    visitor = Visitor(serve(make_app(REAUTH_MAX_AGE="0")))
    visitor.login()
    login_page = visitor.press(visitor.confirm_page(t.ADA_GITHUB), "Unlink")
    t.fault(tenant, "delete_identity", times=1, status=503, body={"statusCode": 503})
    return visitor, visitor.press(login_page, "Continue as Ada Lovelace")


def link_refused(make_app, serve, tenant, tmp_path):
    visitor = Visitor(serve(make_app(LINK_CONNECTIONS="github")))
    visitor.login()
    return visitor, visitor.link("Link GitHub", "Ada Lovelace")  # her own account already


def delete_as_another_account(make_app, serve, tenant, tmp_path):
    t.grant_every_scope(tenant)  # the client-side deletion needs delete:current_user
    visitor = Visitor(serve(make_app(OFFER_DELETE_SEPARATED="1")))
    visitor.login()
    page = visitor.unlink(t.ADA_GITHUB)
    offer = "Also delete the separate GitHub account"
    href = page.text.split(offer)[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    login_page = visitor.press(visitor.get(href), "Delete the separate GitHub account")
    return visitor, visitor.press(login_page, "Continue as Grace Hopper")


def _merge_proof(make_app, serve, tmp_path, **config):
    visitor = Visitor(serve(make_app(INSTANCE_PATH=str(tmp_path), **SUGGEST, **config)))
    visitor.login("maya-patel")
    page = visitor.get("/account/suggestions/link", params={"candidate": t.MAYA})
    return visitor, visitor.press(page, "Sign in and link")


def merge_as_another_account(make_app, serve, tenant, tmp_path):
    visitor, proof = _merge_proof(make_app, serve, tmp_path)
    return visitor, visitor.press(proof, "Continue as Ben Carter")


def merge_refused(make_app, serve, tenant, tmp_path):
    visitor, proof = _merge_proof(make_app, serve, tmp_path)
    t.fault(tenant, "link_identity", times=1, status=500, body={"statusCode": 500})
    return visitor, visitor.press(proof, "Continue as Maya Patel")


def _door(make_app, serve, tenant, tmp_path, choice):
    from tests.test_at_login import MAYA_NEW, MAYA_OLD, SECRET, action_token, open_door

    visitor = Visitor(serve(make_app(AT_LOGIN_SECRET=SECRET, INSTANCE_PATH=str(tmp_path))))
    page = open_door(visitor, action_token(tenant, MAYA_NEW, [MAYA_OLD]))
    return visitor, visitor.press(visitor.press(page, "Sign in and link"), choice)


def at_login_as_another_account(make_app, serve, tenant, tmp_path):
    return _door(make_app, serve, tenant, tmp_path, "Continue as Ben Carter")


def at_login_answered(make_app, serve, tenant, tmp_path):
    return _door(make_app, serve, tenant, tmp_path, "Continue as Maya Patel")


# (purpose, how it ends, the path it ends on, its status)
ENDINGS = [
    (Trip.LOGIN, login_cancelled, "/account/signin/failed", 400),
    (Trip.LOGIN, login_done, "/account/", 200),
    (Trip.RENEW, renewed, "/account/", 200),
    (Trip.REAUTH, reauth_as_another_account, "/account/signin/other-account", 409),
    (Trip.REAUTH, reauth_then_refused, "/account/refused", 502),
    (Trip.LINK, link_refused, "/account/refused", 400),
    (Trip.DELETE_SEPARATED, delete_as_another_account, "/account/signin/other-account", 409),
    (Trip.MERGE, merge_as_another_account, "/account/signin/other-account", 409),
    (Trip.MERGE, merge_refused, "/account/refused", 502),
    (Trip.AT_LOGIN, at_login_as_another_account, "/account/at-login", 400),
    (Trip.AT_LOGIN, at_login_answered, "/account/at-login/continue", 200),
]


def test_every_trip_purpose_is_walked():
    assert {purpose for purpose, *_ in ENDINGS} == set(Trip)


@pytest.mark.parametrize(
    ("purpose", "ending", "path", "status"),
    ENDINGS,
    ids=[f"{purpose.value}-{ending.__name__}" for purpose, ending, *_ in ENDINGS],
)
def test_every_trip_ends_on_an_address_that_can_be_reloaded(
    make_app, serve, tenant, tmp_path, purpose, ending, path, status
):
    visitor, page = ending(make_app, serve, tenant, tmp_path)
    came_back = [r.url for r in page.history if urlsplit(r.url).path == "/account/callback"]
    assert came_back, "the trip never came back"
    ended, query = path_and_query(page.url)
    assert (ended, page.status_code) == (path, status), page.text[:300]
    assert not {"code", "state"} & set(query), page.url
    again = visitor.get(page.url.removeprefix(visitor.base))
    assert (again.url, again.status_code) == (page.url, status)


def test_a_change_refused_after_its_sign_in_ends_on_a_page_of_its_own(
    make_app, serve, tenant, tmp_path
):
    visitor, page = link_refused(make_app, serve, tenant, tmp_path)
    path, query = path_and_query(page.url)
    assert path == "/account/refused" and set(query) == {outcomes.PARAM}
    assert "<h1>Not linked</h1>" in page.text  # the refusal's own title and words
    assert "That is the account you are signed in with, so there is nothing to link." in page.text
    assert "Back to linked accounts" in page.text
    # Sealed for this browser: the same address tells someone else nothing.
    shared = Visitor(visitor.base).get(page.url.removeprefix(visitor.base))
    assert "nothing to link" not in shared.text
    assert t.identity_keys(tenant, t.ADA) == ADA_ALL


def test_a_callback_opened_without_a_session_stores_none(base):
    """A made-up or replayed callback in a browser with no session (another site's link, a
    flood): the page says signing in was not completed, and no session is stored for it."""
    answer = requests.get(
        base + "/account/callback",
        params={"state": "x", "code": "y"},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 303 and "Set-Cookie" not in answer.headers
    assert urlsplit(answer.headers["Location"]).path == "/account/signin/failed"
    page = requests.get(
        urljoin(base, answer.headers["Location"]), allow_redirects=False, timeout=10
    )
    assert page.status_code == 400 and "Set-Cookie" not in page.headers
    assert "Signing in was not completed." in page.text
