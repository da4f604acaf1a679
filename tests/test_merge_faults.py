"""The merge's link is the one link: every Auth0 fault on it, in both directions, ends with the
accounts exactly as they were or exactly merged, the copied settings kept only when the link was
made, the product told once, and the person signed in to an account that exists.

Directions: signed in with the older account (it stays), or with the newer one (the older one
stays and the person ends signed in to it). Faults on `POST /identities`, after both sign-ins:
answers lost after Auth0 linked (timed out, dropped, malformed), refusals (409, 429, 500), a
timeout where Auth0 never linked, and a lost answer that cannot be checked yet.
"""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from tests.support import tenant as t
from tests.support.spa import Spa
from tests.support.visitor import Visitor

READ_TIMEOUT = 1.5  # conftest's AUTH0_READ_TIMEOUT
SUGGEST = {
    "SUGGEST_LINKS": "1",
    "AUTH0_M2M_CLIENT_ID": "dev-m2m",
    "AUTH0_M2M_CLIENT_SECRET": "dev-m2m-secret",
    "MERGE_METADATA": "1",
}
MAYA_OWN = {"newsletter": "monthly", "theme": "light"}
MERGED = {**MAYA_OWN, "editor": "vim"}  # the primary's values win; the other's are added

# (sign in as, the suggestion's button, the proof sign-in's button, what the page says when done)
DIRECTIONS = {
    "signed in with the older account": (
        "Maya Patel",
        "GitHub",
        "Continue as maya-patel",
        "GitHub (maya@example.com) is now linked",
    ),
    "signed in with the newer account": (
        "maya-patel",
        "Email and password",
        "Continue as Maya Patel",
        "Your accounts are merged",
    ),
}
SIGNED_IN = {"Maya Patel": t.MAYA, "maya-patel": t.MAYA_GITHUB}

LOST = {
    "timed out": {"after": True, "delay": READ_TIMEOUT + 1.0},
    "dropped": {"after": True, "drop": True},
    "malformed": {"after": True, "status": 201, "malformed": True},
}
REFUSED = {
    "409": ({"status": 409, "body": {"statusCode": 409, "error": "Conflict",
                                     "message": "Specified identity already exists."}}, 409),
    "429": ({"status": 429, "headers": {"x-ratelimit-remaining": "0"},
             "body": {"statusCode": 429, "error": "Too Many Requests", "message": "slow down",
                      "errorCode": "too_many_requests"}}, 429),
    "500": ({"status": 500, "body": {"statusCode": 500, "error": "Internal Server Error",
                                     "message": "boom"}}, 502),
}  # fmt: skip


@pytest.fixture
def make_app(make_app, tmp_path):
    def make(**overrides):
        return make_app(INSTANCE_PATH=str(tmp_path), **{**SUGGEST, **overrides})

    return make


def to_the_proof(visitor: Visitor, direction: str):
    """Sign in, confirm the suggestion, and go to the proof sign-in's page (the last step
    before the link; right after the login, the only sign-in in either direction)."""
    who, method, proof_button, _ = DIRECTIONS[direction]
    page = visitor.login(who)
    href = page.text.split(f'aria-label="Link the {method} account (maya@example.com)"')[0]
    href = href.rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    page = visitor.press(visitor.get(href), "Sign in and link")
    assert proof_button in page.text, page.text[:300]
    return page


def session_user(visitor: Visitor) -> str:
    return Spa(visitor).call("GET", "/session").json()["user"]["user_id"]


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("fault", LOST)
def test_a_lost_answer_after_auth0_linked_finishes_the_merge(
    make_app, serve, tenant, merges, direction, fault
):
    visitor = Visitor(serve(make_app()))
    proof = to_the_proof(visitor, direction)
    t.fault(tenant, "link_identity", times=1, **LOST[fault])
    done = visitor.press(proof, DIRECTIONS[direction][2])
    assert done.status_code == 200, done.text[:500]
    assert DIRECTIONS[direction][3] in done.text
    assert t.identity_keys(tenant, t.MAYA) == [t.MAYA, t.MAYA_GITHUB]
    assert t.user(tenant, t.MAYA)["user_metadata"] == MERGED  # the copy stays: it was linked
    assert merges == [(t.MAYA, t.MAYA_GITHUB)]  # told once
    assert session_user(visitor) == t.MAYA  # an account that exists: the primary
    assert visitor.get("/account/").status_code == 200


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("fault", REFUSED)
def test_a_refused_link_changes_nothing_and_takes_the_copy_back(
    make_app, serve, tenant, merges, direction, fault
):
    visitor = Visitor(serve(make_app()))
    proof = to_the_proof(visitor, direction)
    spec, status = REFUSED[fault]
    if fault == "429":
        spec = {**spec, "headers": {**spec["headers"], "x-ratelimit-reset": str(int(time.time()))}}
    t.fault(tenant, "link_identity", times=1, **spec)
    done = visitor.press(proof, DIRECTIONS[direction][2])
    assert done.status_code == status, done.text[:500]
    assert "Traceback" not in done.text
    assert t.identity_keys(tenant, t.MAYA) == [t.MAYA]
    assert t.identity_keys(tenant, t.MAYA_GITHUB) == [t.MAYA_GITHUB]
    assert t.user(tenant, t.MAYA)["user_metadata"] == MAYA_OWN
    assert merges == []
    signed_in = SIGNED_IN[DIRECTIONS[direction][0]]
    assert session_user(visitor) == signed_in
    assert visitor.get("/account/").status_code == 200


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_a_timeout_where_auth0_never_linked_says_so_and_takes_the_copy_back(
    make_app, serve, tenant, merges, direction
):
    visitor = Visitor(serve(make_app()))
    proof = to_the_proof(visitor, direction)
    t.fault(tenant, "link_identity", times=1, delay=READ_TIMEOUT + 1.0, drop=True)
    done = visitor.press(proof, DIRECTIONS[direction][2])
    assert done.status_code == 504
    assert "your linked accounts show that nothing was changed" in done.text
    assert t.identity_keys(tenant, t.MAYA) == [t.MAYA]
    assert t.user(tenant, t.MAYA)["user_metadata"] == MAYA_OWN
    assert merges == []
    assert session_user(visitor) == SIGNED_IN[DIRECTIONS[direction][0]]


def test_a_lost_answer_that_cannot_be_checked_says_what_to_look_for(
    make_app, serve, tenant, merges
):
    """Linked at Auth0, the answer lost, and the list cannot be read again just now: "not sure",
    with what to check; the next view reads the list again. (Without the metadata copy: the
    development tenant's fault would hit the copy's own reads first.)"""
    visitor = Visitor(serve(make_app(MERGE_METADATA="0")))
    proof = to_the_proof(visitor, "signed in with the older account")
    t.fault(tenant, "link_identity", times=1, after=True, delay=READ_TIMEOUT + 1.0)
    reset = str(int(time.time()) + 2)
    t.fault(tenant, "get_user", times=1, status=429, headers={"x-ratelimit-reset": reset})
    done = visitor.press(proof, "Continue as maya-patel")
    assert done.status_code == 504
    assert "could not be checked yet" in done.text
    assert "if GitHub is listed there, it was linked" in done.text
    assert t.identity_keys(tenant, t.MAYA) == [t.MAYA, t.MAYA_GITHUB]
    t.clear_faults(tenant)
    time.sleep(2)  # the rate limit's reset, which the client honours
    assert "Unlink GitHub" in visitor.get("/account/").text  # the next view reads again


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_a_failed_lookup_after_the_sign_ins_says_the_lookup_failed(
    make_app, serve, tenant, merges, direction
):
    """Each leg checks the suggestion again; when Auth0 cannot be asked, the page says so (not
    "no longer suggested"), and nothing is linked."""
    visitor = Visitor(serve(make_app(IDENTITIES_CACHE_SECONDS="0")))
    proof = to_the_proof(visitor, direction)
    t.fault(tenant, "users_by_email", times=2, status=503, body={"statusCode": 503})
    done = visitor.press(proof, DIRECTIONS[direction][2])
    assert done.status_code == 503, done.text[:500]
    assert "could not be looked up just now, so nothing was changed" in done.text
    assert "No longer suggested" not in done.text
    assert t.identity_keys(tenant, t.MAYA) == [t.MAYA]
    assert merges == []


def test_the_hosts_before_merge_runs_first_and_can_stop_the_merge(
    make_app, serve, tenant, merges, monkeypatch
):
    app = make_app()
    calls: list[tuple[str, str, list[str]]] = []

    def before_merge(primary_id: str, merged_id: str) -> None:
        calls.append((primary_id, merged_id, t.identity_keys(tenant, primary_id)))
        raise RuntimeError("the product's own store is down")

    from linked_accounts.state import EXTENSION

    st = app.extensions[EXTENSION]
    monkeypatch.setitem(app.extensions, EXTENSION, replace(st, before_merge=before_merge))
    visitor = Visitor(serve(app))
    proof = to_the_proof(visitor, "signed in with the older account")
    done = visitor.press(proof, "Continue as maya-patel")
    assert calls == [(t.MAYA, t.MAYA_GITHUB, [t.MAYA])]  # before the link, with both ids
    assert done.status_code == 503
    assert "could not get ready to merge the accounts, so nothing was linked" in done.text
    assert t.identity_keys(tenant, t.MAYA) == [t.MAYA]
    assert t.user(tenant, t.MAYA)["user_metadata"] == MAYA_OWN  # nothing copied either
    assert merges == []


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_app_metadata_is_merged_when_asked_the_primary_winning(
    make_app, serve, tenant, merges, direction
):
    t.set_app_metadata(tenant, t.MAYA, {"plan": "pro", "roles": ["owner"]})
    t.set_app_metadata(tenant, t.MAYA_GITHUB, {"plan": "free", "beta": True})
    visitor = Visitor(serve(make_app(MERGE_APP_METADATA="1")))
    proof = to_the_proof(visitor, direction)
    done = visitor.press(proof, DIRECTIONS[direction][2])
    assert DIRECTIONS[direction][3] in done.text
    assert t.user(tenant, t.MAYA)["app_metadata"] == {
        "plan": "pro",  # the primary's own value wins
        "roles": ["owner"],
        "beta": True,  # only the merged account had it
    }


def test_a_refused_link_takes_the_copied_app_metadata_back(make_app, serve, tenant, merges):
    t.set_app_metadata(tenant, t.MAYA, {"plan": "pro"})
    t.set_app_metadata(tenant, t.MAYA_GITHUB, {"beta": True})
    visitor = Visitor(serve(make_app(MERGE_APP_METADATA="1")))
    proof = to_the_proof(visitor, "signed in with the newer account")
    t.fault(tenant, "link_identity", times=1, **REFUSED["500"][0])
    assert (
        visitor.press(proof, DIRECTIONS["signed in with the newer account"][2]).status_code == 502
    )
    assert t.user(tenant, t.MAYA)["app_metadata"] == {"plan": "pro"}


@pytest.mark.parametrize(("merge_app_metadata", "words"), [
    ("0", "(such as its plan or roles) <strong>is lost</strong>"),
    ("1", "(such as its plan or roles) is copied to the one you keep"),
])  # fmt: skip
def test_the_confirmation_says_what_becomes_of_what_the_site_kept(
    make_app, serve, merge_app_metadata, words
):
    visitor = Visitor(serve(make_app(MERGE_APP_METADATA=merge_app_metadata)))
    page = visitor.login("Maya Patel")
    href = page.text.split('aria-label="Link the GitHub account (maya@example.com)"')[0]
    href = href.rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    assert words in visitor.get(href).text


def test_a_withheld_metadata_scope_is_said_before_any_sign_in(make_app, serve, tenant):
    """MERGE_METADATA writes with the person's own token: when Auth0 withheld the scope, the
    merge says so at once, not after two sign-ins."""
    t.withhold_scopes(tenant, ["update:current_user_metadata"])
    try:
        visitor = Visitor(serve(make_app()))
        page = visitor.login("Maya Patel")
        href = page.text.split('aria-label="Link the GitHub account (maya@example.com)"')[0]
        href = href.rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
        answer = visitor.press(visitor.get(href), "Sign in and link")
    finally:
        t.withhold_scopes(tenant, [])
    assert answer.status_code == 403, answer.text[:300]
    assert "Continue as" not in answer.text  # no trip to Auth0 was started
    assert t.identity_keys(tenant, t.MAYA) == [t.MAYA]


def test_a_copy_that_fails_halfway_takes_back_what_it_copied(make_app, serve, tenant, merges):
    """The user_metadata copy is made, then the app_metadata copy is refused: nothing is linked,
    and the user_metadata keys copied are taken back."""
    t.set_app_metadata(tenant, t.MAYA_GITHUB, {"beta": True})
    visitor = Visitor(serve(make_app(MERGE_APP_METADATA="1")))
    proof = to_the_proof(visitor, "signed in with the older account")
    # The first PATCH (user_metadata) goes through; the second (app_metadata) is refused.
    t.fault(tenant, "update_user", times=1, skip=1, status=500, body={"statusCode": 500})
    done = visitor.press(proof, "Continue as maya-patel")
    assert done.status_code == 502, done.text[:300]
    assert t.identity_keys(tenant, t.MAYA) == [t.MAYA]
    assert t.user(tenant, t.MAYA)["user_metadata"] == MAYA_OWN
    assert merges == []
