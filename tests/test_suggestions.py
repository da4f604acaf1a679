"""Link suggestions over real HTTP against the development tenant: discovery, proof, the merge
in both directions (the older account stays primary), refusals, metadata, the signal,
dismissals across sessions, and the M2M calls it costs."""

from __future__ import annotations

import time
from types import SimpleNamespace
from urllib.parse import quote

import pytest
import requests

from linked_accounts import accounts_merged
from linked_accounts.signin import reauth
from tests.support import tenant as t
from tests.support.app_session import app_session
from tests.support.forms import submit
from tests.support.spa import Spa
from tests.support.visitor import Visitor

SUGGEST = {
    "SUGGEST_LINKS": "1",
    "AUTH0_M2M_CLIENT_ID": "dev-m2m",
    "AUTH0_M2M_CLIENT_SECRET": "dev-m2m-secret",
}
M2M = "dev-m2m@clients"


@pytest.fixture
def make_app(make_app, tmp_path):
    """Each test's apps keep their per-user values (suggestions, dismissals) in a store of
    their own: the shared test instance folder would carry them from test to test."""

    def make(**overrides):
        return make_app(INSTANCE_PATH=str(tmp_path), **overrides)

    return make


@pytest.fixture
def app(make_app):
    return make_app(**SUGGEST)


@pytest.fixture
def visitor(app, serve):
    return Visitor(serve(app))


@pytest.fixture
def stale(make_app, serve):
    """A visitor whose login is never fresh enough for a change (REAUTH_MAX_AGE=0)."""
    return Visitor(serve(make_app(**SUGGEST, REAUTH_MAX_AGE="0")))


def confirm(visitor: Visitor, page: requests.Response, method: str) -> requests.Response:
    """Open a suggestion's confirmation page from the settings page."""
    href = page.text.split(f'aria-label="Link the {method} account (maya@example.com)"')[0]
    href = href.rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    confirmed = visitor.get(href)
    assert confirmed.status_code == 200, confirmed.text[:300]
    return confirmed


def session_user(visitor: Visitor) -> str:
    return Spa(visitor).call("GET", "/session").json()["user"]["user_id"]


def signing_in(visitor: Visitor, tenant: str, page: requests.Response, *accounts: str):
    """Press "Sign in and link" on `page`, then sign in at the tenant as each of `accounts`, in
    order, one login page each; return where the last lands, which asks for no further sign-in."""
    page = visitor.press(page, "Sign in and link")
    for name in accounts:
        assert page.url.startswith(tenant + "/authorize"), (name, page.url)
        page = visitor.press(page, f"Continue as {name}")
    assert not page.url.startswith(tenant), f"one more sign-in asked: {page.url}"
    return page


def test_the_older_account_is_suggested_to_the_newer_one_and_the_look_alike_never(visitor):
    page = visitor.login("maya-patel")
    assert "Is this also you?" in page.text
    assert 'aria-label="Link the Email and password account (maya@example.com)"' in page.text
    assert "Google" not in page.text.split("Is this also you?")[1].split("</section>")[0]
    listing = Spa(visitor).call("GET", "/suggestions").json()
    assert [s["user_id"] for s in listing["suggestions"]] == [t.MAYA]
    assert listing["suggestions"][0]["created_at"] == "2024-03-04T09:30:00.000Z"


def test_merge_from_the_newer_account_keeps_the_older_one_primary(visitor, tenant, merges):
    page = visitor.login("maya-patel")
    page = confirm(visitor, page, "Email and password")
    assert "You keep the Email and password account" in page.text
    assert "It was created first" in page.text
    assert "it is told about the merge" in page.text and "<strong>are lost</strong>" in page.text
    # Signed in just now: the login's own ID token is the link_with, so the proof sign-in of the
    # older account, at its own connection, is the only one.
    proof = visitor.press(page, "Sign in and link")
    assert "Username-Password-Authentication" in proof.text
    done = visitor.press(proof, "Continue as Maya Patel")
    assert done.status_code == 200, done.text[:300]
    assert "Your accounts are merged" in done.text
    assert t.identity_keys(tenant, t.MAYA) == [t.MAYA, t.MAYA_GITHUB]
    assert t.user(tenant, t.MAYA_GITHUB) is None
    assert session_user(visitor) == t.MAYA  # signed in as the primary now
    assert "Unlink GitHub" in done.text  # both sign-in methods on the page
    assert "Is this also you?" not in done.text
    assert merges == [(t.MAYA, t.MAYA_GITHUB)]


def test_merge_from_the_older_account_keeps_it_primary(visitor, tenant, merges):
    page = confirm(visitor, visitor.login("Maya Patel"), "GitHub")
    assert "<strong>You keep this profile</strong>" in page.text
    assert "It was created before the GitHub account" in page.text
    proof = visitor.press(page, "Sign in and link")  # signed in just now: no re-login first
    assert "with the <strong>github</strong> connection" in proof.text
    done = visitor.press(proof, "Continue as maya-patel")
    assert "GitHub (maya@example.com) is now linked" in done.text
    assert t.identity_keys(tenant, t.MAYA) == [t.MAYA, t.MAYA_GITHUB]
    assert session_user(visitor) == t.MAYA
    assert merges == [(t.MAYA, t.MAYA_GITHUB)]


def test_an_old_sign_in_signs_in_again_first_then_goes_on_to_the_proof(make_app, serve, tenant):
    visitor = Visitor(serve(make_app(**SUGGEST, REAUTH_MAX_AGE="0")))
    page = confirm(visitor, visitor.login("Maya Patel"), "GitHub")
    relogin = visitor.press(page, "Sign in and link")
    assert "Continue as Maya Patel" in relogin.text  # herself first: the usual fresh login
    proof = visitor.press(relogin, "Continue as Maya Patel")
    assert "with the <strong>github</strong> connection" in proof.text
    done = visitor.press(proof, "Continue as maya-patel")
    assert "GitHub (maya@example.com) is now linked" in done.text
    assert t.identity_keys(tenant, t.MAYA) == [t.MAYA, t.MAYA_GITHUB]


# (signed in as, the suggestion, the proof sign-in's account, what the page says when done)
DIRECTIONS = {
    "older signed in": ("Maya Patel", "GitHub", "maya-patel", "GitHub (maya@example.com) is now"),
    "newer signed in": ("maya-patel", "Email and password", "Maya Patel", "accounts are merged"),
}
ONE = "Next you sign in to the {method} account to prove it is yours."
TWICE = "Next you sign in twice: once more with {own}, to confirm it is you, then to the {method}"


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_a_merge_right_after_login_takes_only_the_proof_sign_in(visitor, tenant, merges, direction):
    who, method, other, done_text = DIRECTIONS[direction]
    page = confirm(visitor, visitor.login(who), method)
    assert ONE.format(method=method) in page.text and "sign in twice" not in page.text
    done = signing_in(visitor, tenant, page, other)  # two sign-ins in all, counting the login
    assert done_text in done.text
    assert t.identity_keys(tenant, t.MAYA) == [t.MAYA, t.MAYA_GITHUB]
    assert merges == [(t.MAYA, t.MAYA_GITHUB)]


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_a_merge_after_a_stale_login_says_it_takes_two_sign_ins_and_takes_them(
    stale, tenant, merges, direction
):
    who, method, other, done_text = DIRECTIONS[direction]
    own = {"Maya Patel": "Email and password", "maya-patel": "GitHub"}[who]
    page = confirm(stale, stale.login(who), method)
    assert TWICE.format(own=own, method=method) in page.text
    assert ONE.format(method=method) not in page.text
    done = signing_in(stale, tenant, page, who, other)  # herself again, then the other
    assert done_text in done.text
    assert t.identity_keys(tenant, t.MAYA) == [t.MAYA, t.MAYA_GITHUB]
    assert merges == [(t.MAYA, t.MAYA_GITHUB)]


def test_a_merge_into_the_older_account_needs_the_login_its_token_came_from_to_be_recent(
    visitor, tenant, merges, monkeypatch
):
    """Signed in with the newer account, the login's own ID token stands in for signing in
    again: when the proof comes back after that login stopped being recent (a proof left open,
    or tried again and again), nothing is linked, as for any change after a stale login."""
    page = confirm(visitor, visitor.login("maya-patel"), "Email and password")
    login_page = visitor.press(page, "Sign in and link")  # the proof: the only sign-in asked
    later = time.time() + 3600  # an hour on, when the proof comes back
    monkeypatch.setattr(reauth, "time", SimpleNamespace(time=lambda: later))
    done = visitor.press(login_page, "Continue as Maya Patel")
    assert "Your own sign-in is no longer recent enough, so it was not linked." in done.text
    assert t.identity_keys(tenant, t.MAYA_GITHUB) == [t.MAYA_GITHUB]
    assert t.identity_keys(tenant, t.MAYA) == [t.MAYA] and merges == []


def test_a_host_rule_decides_which_account_stays(make_app, serve, tenant, merges):
    app = make_app(**SUGGEST)
    # choose_primary is init_app's argument; set it on the running app's suggester for the test.
    from linked_accounts.suggestions import lookup as suggestions

    st = app.extensions[suggestions.EXTENSION]
    app.extensions[suggestions.EXTENSION] = suggestions.Suggester(
        st.settings, st.m2m, lambda signed_in, other: signed_in["user_id"]
    )
    visitor = Visitor(serve(app))
    page = confirm(visitor, visitor.login("maya-patel"), "Email and password")
    assert "<strong>You keep this profile</strong>" in page.text
    done = visitor.press(visitor.press(page, "Sign in and link"), "Continue as Maya Patel")
    assert "is now linked" in done.text
    assert t.identity_keys(tenant, t.MAYA_GITHUB) == [t.MAYA_GITHUB, t.MAYA]


def test_the_manual_link_fires_the_signal_too(make_app, serve, tenant):
    app = make_app(LINK_CONNECTIONS="github")
    seen = []

    def record(sender, primary_id, merged_id):
        seen.append((primary_id, merged_id))

    accounts_merged.connect(record, app)
    visitor = Visitor(serve(app))
    visitor.login("Ben Carter")
    visitor.link("Link GitHub", "Grace Hopper")
    assert seen == [(t.BEN, t.GRACE)]


def test_own_unverified_email_shows_no_suggestion(visitor):
    page = visitor.login("M. Patel")  # maya@example.com, unverified: proves nothing
    assert "Is this also you?" not in page.text
    assert Spa(visitor).call("GET", "/suggestions").json()["suggestions"] == []


@pytest.mark.parametrize(
    ("step", "choice", "text"),
    [
        ("proof", "Cancel", "cancelled"),
        ("proof", "Continue as Ben Carter", "different account"),
        ("self", "Cancel", "cancelled"),
    ],
)
def test_a_refused_or_cancelled_proof_changes_nothing(request, tenant, merges, step, choice, text):
    # Right after login the proof is the first sign-in; the first one of the signed-in account
    # itself comes only after a stale login.
    visitor = request.getfixturevalue("stale" if step == "self" else "visitor")
    page = confirm(visitor, visitor.login("maya-patel"), "Email and password")
    login_page = visitor.press(page, "Sign in and link")
    if step == "self":
        assert "with the <strong>github</strong> connection" in login_page.text
    else:
        assert "Username-Password-Authentication" in login_page.text
    done = visitor.press(login_page, choice)
    assert text in done.text
    assert "Nothing was changed" in done.text or "nothing was linked" in done.text
    assert t.identity_keys(tenant, t.MAYA) == [t.MAYA]
    assert t.identity_keys(tenant, t.MAYA_GITHUB) == [t.MAYA_GITHUB]
    assert session_user(visitor) == t.MAYA_GITHUB
    assert merges == []


def test_a_suggestion_not_offered_cannot_be_linked(visitor, tenant):
    visitor.login("maya-patel")
    page = visitor.get("/account/suggestions/link", params={"candidate": t.MAYA_LOOKALIKE})
    assert page.status_code == 404
    forged = visitor.press(visitor.get("/account/"), "Not now", candidate=t.BEN)
    assert forged.status_code == 404
    no_csrf = visitor.post("/account/suggestions/link", {"candidate": t.MAYA})
    assert no_csrf.status_code == 400
    assert t.identity_keys(tenant, t.MAYA) == [t.MAYA]


def test_metadata_of_the_merged_account_is_kept_the_primary_winning(make_app, serve, tenant):
    visitor = Visitor(serve(make_app(**SUGGEST, MERGE_METADATA="1")))
    page = confirm(visitor, visitor.login("maya-patel"), "Email and password")
    assert "are copied to the one you keep" in page.text
    done = signing_in(visitor, tenant, page, "Maya Patel")
    assert "Your accounts are merged" in done.text
    assert t.user(tenant, t.MAYA)["user_metadata"] == {
        "newsletter": "monthly",
        "theme": "light",  # the primary's own value wins
        "editor": "vim",  # only the merged account had it
    }
    assert "app_metadata" not in t.user(tenant, t.MAYA)


def test_a_failed_link_takes_the_copied_metadata_back(make_app, serve, tenant):
    visitor = Visitor(serve(make_app(**SUGGEST, MERGE_METADATA="1")))
    page = confirm(visitor, visitor.login("Maya Patel"), "GitHub")
    proof = visitor.press(page, "Sign in and link")
    t.fault(tenant, "link_identity", times=1, status=503, body={"statusCode": 503})
    done = visitor.press(proof, "Continue as maya-patel")
    assert done.status_code == 502
    assert t.user(tenant, t.MAYA)["user_metadata"] == {"newsletter": "monthly", "theme": "light"}
    assert t.identity_keys(tenant, t.MAYA) == [t.MAYA]


def test_a_dismissal_holds_in_another_session_until_shown_again(make_app, serve, session_store):
    app_url = serve(make_app(**SUGGEST, REDIS_URL=session_store))
    laptop, phone = Visitor(app_url), Visitor(app_url)
    page = laptop.press(laptop.login("Maya Patel"), "Not mine")
    assert "will not be suggested again" in page.text
    assert (
        "Is this also you?" in page.text
        and "1 account is hidden for good, as not yours." in page.text
    )
    assert 'aria-label="Link the GitHub' not in page.text
    page = phone.login("Maya Patel")
    assert 'aria-label="Link the GitHub' not in page.text
    assert "1 account is hidden for good, as not yours." in page.text
    page = phone.press(page, "Show dismissed suggestions again")
    assert 'aria-label="Link the GitHub account (maya@example.com)"' in page.text
    assert 'aria-label="Link the GitHub account (maya@example.com)"' in laptop.get("/account/").text


def test_not_now_hides_a_suggestion_for_a_while(visitor):
    page = visitor.press(visitor.login("Maya Patel"), "Not now")
    assert "will not be suggested for 30 days" in page.text
    listing = Spa(visitor).call("GET", "/suggestions").json()
    assert (listing["dismissed"], listing["not_mine"]) == (1, 0)


def test_the_json_listing_tells_not_mine_from_not_now(visitor):
    """A single-page app can say what the page says: how many are hidden for good, as not the
    person's (a security signal), apart from those hidden for a while."""
    visitor.press(visitor.login("Maya Patel"), "Not mine")
    listing = Spa(visitor).call("GET", "/suggestions").json()
    assert (listing["dismissed"], listing["not_mine"]) == (1, 1)


def test_one_lookup_per_user_per_period_whatever_the_sessions(make_app, serve, tenant):
    app_url = serve(make_app(**SUGGEST))
    first, second = Visitor(app_url), Visitor(app_url)
    first.login("Maya Patel")
    for _ in range(3):
        assert "Is this also you?" in first.get("/account/").text
    second.login("Maya Patel")
    Spa(second).call("GET", "/suggestions")
    stats = t.stats(tenant)
    assert stats["management_calls"][M2M] == 1  # one users-by-email for Maya, for everyone
    before = stats["token_requests"]
    Visitor(app_url).login("maya-patel")  # another user: one more lookup, the same M2M token
    stats = t.stats(tenant)
    assert stats["management_calls"][M2M] == 2
    assert stats["token_requests"] == before + 1  # only the sign-in's own token request


def test_auth0_down_hides_suggestions_but_not_the_page(visitor, tenant):
    t.fault(tenant, "users_by_email", times=1, status=503, body={"statusCode": 503})
    page = visitor.login("Maya Patel")
    assert page.status_code == 200
    assert "could not be looked up just now" in page.text
    assert "Email and password" in page.text  # the list itself is there


def test_suggestions_need_the_m2m_client_at_start_up(make_app):
    with pytest.raises(SystemExit) as stopped:
        make_app(SUGGEST_LINKS="1")
    assert "SUGGEST_LINKS needs AUTH0_M2M_CLIENT_ID and AUTH0_M2M_CLIENT_SECRET" in str(
        stopped.value
    )


def test_off_by_default(make_app, serve):
    visitor = Visitor(serve(make_app()))
    page = visitor.login("maya-patel")
    assert "Is this also you?" not in page.text
    listing = Spa(visitor).call("GET", "/suggestions").json()
    assert listing == {
        "enabled": False,
        "suggestions": [],
        "dismissed": 0,
        "not_mine": 0,
        "unavailable": False,
    }


def test_in_host_sign_in_mode_the_product_signs_the_person_in_as_the_primary(
    tenant, app_config, serve, tmp_path
):
    from examples.quickstart_host.app import create_app as create_quickstart
    from tests.test_host_signin import Customer

    config = {**app_config, "AUTH0_DOMAIN": tenant, "INSTANCE_PATH": str(tmp_path)}
    config.update(
        {f"LINKED_ACCOUNTS_{k}" if k == "SUGGEST_LINKS" else k: v for k, v in SUGGEST.items()}
    )
    customer = Customer(serve(create_quickstart(config)), tenant)
    customer.sign_in("maya-patel")
    page = customer.get("/settings/accounts/")
    assert 'aria-label="Link the Email and password account (maya@example.com)"' in page.text
    page = customer.get(f"/settings/accounts/suggestions/link?candidate={quote(t.MAYA)}")
    # The product's sign-in just now is fresh: the proof sign-in is the only one.
    proof = submit(customer.http, page, "Sign in and link")
    assert proof.url.startswith(tenant + "/authorize") and "Continue as Maya Patel" in proof.text
    done = submit(customer.http, proof, "Continue as Maya Patel")
    # The product's handler of accounts_merged signed the person out of the merged id; its
    # login came straight back from Auth0 as the primary, and the page shows both methods.
    assert done.status_code == 200, done.text[:300]
    assert "Unlink GitHub" in done.text
    assert "Your accounts are merged" in done.text
    assert t.identity_keys(tenant, t.MAYA) == [t.MAYA, t.MAYA_GITHUB]
    home = customer.get("/")
    assert "maya@example.com" in home.text or "Maya Patel" in home.text


# Each check of the merge's sign-ins, pinned by a test that fails when that check alone is removed
# (scripts/check_claims.py removes each in a scratch copy and runs these).


def test_the_first_sign_in_of_a_merge_as_another_account_links_nothing(stale, tenant, merges):
    visitor = stale  # a stale login: the signed-in account signs in again first
    page = confirm(visitor, visitor.login("maya-patel"), "Email and password")
    self_login = visitor.press(page, "Sign in and link")
    assert "with the <strong>github</strong> connection" in self_login.text
    # The sign-in whose ID token would be the link_with is someone else's.
    done = visitor.press(self_login, "Continue as Grace Hopper")
    assert "You signed in as a different account, so nothing was linked." in done.text
    assert "Username-Password-Authentication" not in done.text  # no proof sign-in follows
    assert t.identity_keys(tenant, t.MAYA) == [t.MAYA]
    assert t.identity_keys(tenant, t.GRACE) == [t.GRACE]
    assert session_user(visitor) == t.MAYA_GITHUB
    assert merges == []


OTHER_ACCOUNT = "/account/signin/other-account"


def test_a_proof_as_another_account_names_the_one_asked_for_and_tries_the_proof_again(
    visitor, tenant, merges
):
    page = confirm(visitor, visitor.login("maya-patel"), "Email and password")
    proof = visitor.press(page, "Sign in and link")
    wrong = visitor.press(proof, "Continue as Ben Carter")
    # A page of its own, not the callback's one-use address; it names the account asked for.
    assert wrong.url == visitor.base + OTHER_ACCOUNT
    assert wrong.status_code == 409
    assert "You signed in as a different account, so nothing was linked." in wrong.text
    assert "Try again, and sign in with Email and password as maya@example.com." in wrong.text
    again = visitor.get(OTHER_ACCOUNT)
    assert again.status_code == 409 and "with Email and password as maya@" in again.text
    assert t.identity_keys(tenant, t.MAYA) == [t.MAYA] and merges == []
    # The same leg again: the proof of the older account, with the same link_with (the login's
    # own ID token, carried server-side), which the merge then uses.
    retry = visitor.press(again, "Try again")
    assert retry.url.startswith(tenant + "/authorize"), retry.url
    assert "Username-Password-Authentication" in retry.text
    done = visitor.press(retry, "Continue as Maya Patel")
    assert "Your accounts are merged" in done.text
    assert t.identity_keys(tenant, t.MAYA) == [t.MAYA, t.MAYA_GITHUB]
    assert merges == [(t.MAYA, t.MAYA_GITHUB)]
    assert session_user(visitor) == t.MAYA
    assert visitor.get(OTHER_ACCOUNT).url == visitor.base + "/account/"  # tried once


def test_trying_again_with_a_token_auth0_refuses_renews_it_as_any_form_post_does(
    make_app, serve, tenant, merges
):
    """ "Try again" looks the suggestion up again with the person's own token: when Auth0
    refuses that token, the app asks Auth0 for a new one, as after any form. Auth0's session is
    the wrong account's now, so Auth0 answers with another person: the app keeps nothing of
    either and asks who is signing in."""
    app = make_app(**SUGGEST, IDENTITIES_CACHE_SECONDS="0")  # each look-up reads Auth0
    visitor = Visitor(serve(app))
    page = confirm(visitor, visitor.login("maya-patel"), "Email and password")
    wrong = visitor.press(visitor.press(page, "Sign in and link"), "Continue as Ben Carter")
    assert wrong.url == visitor.base + OTHER_ACCOUNT
    t.reject_token_once(tenant, "get_user")
    back = visitor.press(wrong, "Try again")
    hops = [r.url for r in back.history]
    assert any("/authorize" in url and "prompt=none" in url for url in hops), hops  # renewal
    assert back.url.startswith(tenant + "/authorize") and "Continue as" in back.text
    with app_session(app, visitor) as session:
        assert "linked_accounts" not in session  # nothing kept of Maya's token, nor of Ben
    assert t.identity_keys(tenant, t.MAYA) == [t.MAYA] and merges == []


def test_a_first_sign_in_as_another_account_names_the_own_and_tries_it_again(stale, tenant, merges):
    visitor = stale  # a stale login: the signed-in account signs in again first
    page = confirm(visitor, visitor.login("maya-patel"), "Email and password")
    wrong = visitor.press(visitor.press(page, "Sign in and link"), "Continue as Grace Hopper")
    assert wrong.url == visitor.base + OTHER_ACCOUNT and wrong.status_code == 409
    assert "You signed in as a different account, so nothing was linked." in wrong.text
    assert "Try again, and sign in with GitHub as maya@example.com." in wrong.text
    retry = visitor.press(wrong, "Try again")
    assert "with the <strong>github</strong> connection" in retry.text  # the same first leg
    proof = visitor.press(retry, "Continue as maya-patel")
    assert "Username-Password-Authentication" in proof.text  # and on to the proof
    done = visitor.press(proof, "Continue as Maya Patel")
    assert "Your accounts are merged" in done.text
    assert merges == [(t.MAYA, t.MAYA_GITHUB)]


def test_try_again_checks_the_plan_still_holds(make_app, serve, tenant, merges):
    # A stale login (the signed-in account signs in again first); the list read each time.
    app = make_app(**SUGGEST, REAUTH_MAX_AGE="0", IDENTITIES_CACHE_SECONDS="0")
    visitor = Visitor(serve(app))
    page = confirm(visitor, visitor.login("maya-patel"), "Email and password")
    wrong = visitor.press(visitor.press(page, "Sign in and link"), "Continue as Grace Hopper")
    assert wrong.url == visitor.base + OTHER_ACCOUNT
    # Meanwhile the signed-in account gets a link of its own: it can no longer merge into the
    # other, so the plan carried by the trip no longer holds.
    linked = requests.post(
        f"{tenant}/api/v2/users/{quote(t.MAYA_GITHUB)}/identities",
        json={"provider": "google-oauth2", "user_id": "300000000000000000003"},
        headers={"Authorization": f"Bearer {t.m2m_token(tenant)}"},
        timeout=10,
    )
    assert linked.status_code == 201, linked.text
    refused = visitor.press(visitor.get(OTHER_ACCOUNT), "Try again")
    assert not refused.url.startswith(tenant), "a sign-in was started"
    assert refused.url.split("?")[0] == visitor.base + "/account/refused"
    assert "The accounts changed meanwhile, so nothing was linked." in refused.text
    assert t.identity_keys(tenant, t.MAYA) == [t.MAYA]
    assert merges == []


def clock_behind(tenant: str) -> None:
    """The tenant's clock runs ten minutes behind: the auth_time of its next sign-in predates the
    trip, as when Auth0 reuses an earlier login instead of asking for a new one."""
    requests.post(f"{tenant}/__dev/clock", json={"offset": -600}, timeout=5).raise_for_status()


def test_a_first_sign_in_of_a_merge_from_before_the_trip_links_nothing(stale, tenant, merges):
    visitor = stale  # a stale login: the signed-in account signs in again first
    page = confirm(visitor, visitor.login("maya-patel"), "Email and password")
    self_login = visitor.press(page, "Sign in and link")
    clock_behind(tenant)
    done = visitor.press(self_login, "Continue as maya-patel")
    assert "Your sign-in was not confirmed again, so nothing was linked." in done.text
    assert "Username-Password-Authentication" not in done.text
    assert t.identity_keys(tenant, t.MAYA) == [t.MAYA]
    assert merges == []


def test_a_proof_sign_in_from_before_the_trip_links_nothing(visitor, tenant, merges):
    proof = visitor.press(
        confirm(visitor, visitor.login("Maya Patel"), "GitHub"), "Sign in and link"
    )
    assert "with the <strong>github</strong> connection" in proof.text
    clock_behind(tenant)
    done = visitor.press(proof, "Continue as maya-patel")
    assert "Your sign-in was not confirmed again, so nothing was linked." in done.text
    assert t.identity_keys(tenant, t.MAYA) == [t.MAYA]
    assert t.identity_keys(tenant, t.MAYA_GITHUB) == [t.MAYA_GITHUB]
    assert merges == []


def test_a_proof_sign_in_whose_email_is_no_longer_verified_links_nothing(make_app, serve, merges):
    # A tenant of this test's own, to change a user's profile as Auth0 would when the account's
    # email changes: the suggestion was found (and kept) while the email was still verified.
    from devtenant import create_app as create_tenant

    own_tenant = create_tenant()
    tenant = serve(own_tenant)
    app = make_app(**SUGGEST, AUTH0_DOMAIN=tenant)
    accounts_merged.connect(lambda sender, **ids: merges.append(ids), app, weak=False)
    visitor = Visitor(serve(app))
    proof = visitor.press(
        confirm(visitor, visitor.login("Maya Patel"), "GitHub"), "Sign in and link"
    )
    store = own_tenant.extensions["devtenant"].store
    with store.lock:
        store._find(t.MAYA_GITHUB)["email_verified"] = False
    done = visitor.press(proof, "Continue as maya-patel")
    assert "That account&#39;s email address is not verified, so it was not linked." in done.text
    assert t.identity_keys(tenant, t.MAYA) == [t.MAYA]
    assert t.identity_keys(tenant, t.MAYA_GITHUB) == [t.MAYA_GITHUB]
    assert merges == []


def test_in_host_sign_in_mode_the_suggestion_forms_refuse_a_post_without_their_token(
    tenant, app_config, serve, redis_url
):
    # A product mounting the page need not protect every POST itself (the quickstart does not):
    # the forms' own CSRF token is then the only guard.
    from examples.quickstart_host.app import create_app as create_quickstart
    from tests.test_host_signin import Customer

    # Redis, emptied for this test: the quickstart keeps its files in its own instance folder,
    # where an earlier test's suggestions for Maya (found after a merge: none) would be read.
    config = {**app_config, "AUTH0_DOMAIN": tenant, "REDIS_URL": redis_url}
    config.update(
        {f"LINKED_ACCOUNTS_{k}" if k == "SUGGEST_LINKS" else k: v for k, v in SUGGEST.items()}
    )
    app = create_quickstart(config)
    assert "csrf" not in app.extensions  # no global CSRFProtect: the forms are on their own
    customer = Customer(serve(app), tenant)
    customer.sign_in("Maya Patel")
    offered = 'aria-label="Link the GitHub account (maya@example.com)"'
    assert offered in customer.get("/settings/accounts/").text
    base = customer.base + "/settings/accounts/suggestions/"

    def cross_site(path: str, **fields: str) -> requests.Response:
        """A form on another site, posted with the person's cookie but no token of ours."""
        headers = {"Origin": "https://evil.example", "Referer": "https://evil.example/"}
        return customer.http.post(
            base + path, data=fields, headers=headers, allow_redirects=False, timeout=15
        )

    for fields in ({}, {"csrf_token": "forged"}):
        dismissed = cross_site("dismiss", candidate=t.MAYA_GITHUB, reason="not_mine", **fields)
        assert dismissed.status_code == 400
        assert offered in customer.get("/settings/accounts/").text  # still suggested
        linked = cross_site("link", candidate=t.MAYA_GITHUB, **fields)
        assert linked.status_code == 400  # no trip to Auth0 starts
    page = submit(customer.http, customer.get("/settings/accounts/"), "Not mine")
    assert "will not be suggested again" in page.text
    assert cross_site("restore").status_code == 400
    assert offered not in customer.get("/settings/accounts/").text  # still dismissed
    assert t.identity_keys(tenant, t.MAYA) == [t.MAYA]


def test_refresh_checks_the_suggestions_again_too(make_app, serve, tenant):
    """Refresh re-reads everything the page shows: an account deleted at Auth0 since the lookup
    is no longer suggested (the lookup is kept for a cache period otherwise)."""
    visitor = Visitor(serve(make_app(**SUGGEST, REFRESH_MIN_INTERVAL="0")))
    page = visitor.login("Maya Patel")
    assert 'aria-label="Link the GitHub account (maya@example.com)"' in page.text
    token = t.m2m_token(tenant)
    requests.delete(
        f"{tenant}/api/v2/users/{quote(t.MAYA_GITHUB, safe='')}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    ).raise_for_status()
    assert (
        'aria-label="Link the GitHub account (maya@example.com)"' in visitor.get("/account/").text
    )  # kept
    refreshed = visitor.press(visitor.get("/account/"), "Refresh")
    assert refreshed.status_code == 200
    assert 'aria-label="Link the GitHub account (maya@example.com)"' not in refreshed.text


def test_each_suggestion_says_which_account_is_older_as_the_confirmation_does(make_app, serve):
    older = Visitor(serve(make_app(**SUGGEST))).login("Maya Patel")
    assert "Newer than this profile: linking keeps this profile." in older.text
    newer = Visitor(serve(make_app(**SUGGEST))).login("maya-patel")
    assert "Older than this profile: linking keeps this account" in newer.text
    # The method is named as a person would, never "Link Email and password".
    assert ">Link this account</a>" in newer.text
    assert "Link Email and password" not in newer.text


def test_not_mine_says_what_it_may_mean_and_where_to_turn(make_app, serve):
    visitor = Visitor(serve(make_app(**SUGGEST, SUPPORT_URL="https://help.example.com/")))
    page = visitor.press(visitor.login("Maya Patel"), "Not now")
    assert "1 suggestion is hidden for now." in page.text
    assert "not yours" not in page.text and "help.example.com" not in page.text
    page = visitor.press(page, "Show dismissed suggestions again")
    page = visitor.press(page, "Not mine")
    assert "1 account is hidden for good, as not yours." in page.text
    assert "hidden for now" not in page.text
    assert "someone else signed up with your email address" in page.text
    assert '<a href="https://help.example.com/">tell this site\'s support</a>' in page.text
    # Without a support address, the same next step in words.
    fallback = Visitor(serve(make_app(**SUGGEST))).login("Maya Patel")
    assert "Please tell this site's support about it" in fallback.text
