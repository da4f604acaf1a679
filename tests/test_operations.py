"""What a user can do, without HTML, JSON or HTTP: `operations` against an in-memory Management
API (tests/support/fake_management.py). The same rules over real HTTP against the development
tenant are in test_app_flow, test_unlink_refusals, test_linking and test_delete_separated."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from linked_accounts import (
    LinkedAccounts,
    identity_linked,
    identity_unlinked,
    operations,
    separated,
)
from linked_accounts.auth0 import management as m
from linked_accounts.purposes import Resumable
from linked_accounts.refusals import AlreadyUnlinked, Refusal, SessionRefreshRequired
from linked_accounts.signin import reauth
from linked_accounts.signin.account import Account
from tests.support import tenant as t
from tests.support.fake_management import (
    FakeClientCredentials,
    FakeManagement,
    identity,
    token_of,
)
from tests.test_extension import OFFLINE_TENANT, host

USERS = {
    t.ADA: [
        identity(t.ADA, "Username-Password-Authentication"),
        identity(t.ADA_GOOGLE, email="ada.lovelace@gmail.com"),
        identity(t.ADA_GITHUB, email="ada@users.noreply.github.com"),
        identity(t.ADA_SAML, "acme-saml", email="ada@acme.test"),
    ],
    t.GRACE: [identity(t.GRACE, email="grace@example.com")],
}
ADA_ALL = [t.ADA, t.ADA_GOOGLE, t.ADA_GITHUB, t.ADA_SAML]


@pytest.fixture
def app(tmp_path):
    app = host(
        OFFLINE_TENANT,
        tmp_path,
        AUTH0_M2M_CLIENT_ID="m2m",
        AUTH0_M2M_CLIENT_SECRET="m2m-secret",
        SESSION_COOKIE_SECURE=True,
        LINKED_ACCOUNTS_OFFER_DELETE_SEPARATED=True,
        LINKED_ACCOUNTS_DELETE_SEPARATED_MODE="server",
        LINKED_ACCOUNTS_LINK_CONNECTIONS="github",
        LINKED_ACCOUNTS_CONNECTIONS={"acme-saml": {"name": "Acme SSO"}},
    )
    LinkedAccounts(app)
    return app


@pytest.fixture
def auth0(app):
    """The fake Management API, in place of the real client, and a request to act in."""
    fake = FakeManagement(USERS)
    st = app.extensions["linked_accounts"]
    app.extensions["linked_accounts"] = replace(st, management=fake, m2m=FakeClientCredentials())
    with app.test_request_context("/account/"):
        yield fake


def ada(*, recent: bool = True, scope: str | None = None) -> Account:
    auth_time = time.time() - (10 if recent else 3600)
    return Account(
        t.ADA, "Ada Lovelace", "ada@example.com", token_of(t.ADA), time.time() + 3600, 3600.0,
        auth_time, scope=scope, email_verified=True,  # as Ada's ID token says
    )  # fmt: skip


def keys(items) -> list[str]:
    return [i.key for i in items]


def test_the_list_is_read_once_then_served_from_the_users_cache(auth0):
    assert keys(operations.identities(ada())) == ADA_ALL
    assert keys(operations.identities(ada())) == ADA_ALL
    assert auth0.calls == [("get_user", t.ADA)]


def test_the_list_read_from_auth0_is_the_one_the_next_views_are_served(app):
    pictured = identity(t.ADA_GITHUB, email="ada@users.noreply.github.com", picture="https://x")
    fake = FakeManagement({t.ADA: [identity(t.ADA, "Username-Password-Authentication"), pictured]})
    st = app.extensions["linked_accounts"]
    app.extensions["linked_accounts"] = replace(st, management=fake)
    with app.test_request_context("/account/"):
        first = operations.identities(ada())
    with app.test_request_context("/account/"):  # a later view: from the user's cache
        assert operations.identities(ada()) is first  # one list remembered, not one per form
    assert fake.calls == [("get_user", t.ADA)]


def test_the_primary_gets_the_profiles_email_and_name(auth0):
    primary = operations.identities(ada())[0]
    assert (
        primary.is_primary and primary.email == "ada@example.com" and primary.name == "Ada Lovelace"
    )


def test_unlink_deletes_the_users_own_secondary_and_says_what_remains(auth0, app):
    heard = []
    identity_unlinked.connect(lambda sender, **kw: heard.append(kw), app, weak=False)
    result = operations.unlink(ada(), t.ADA_GITHUB)
    assert result.identity.key == t.ADA_GITHUB
    assert keys(result.remaining) == [t.ADA, t.ADA_GOOGLE, t.ADA_SAML]
    assert keys(operations.identities(ada())) == [t.ADA, t.ADA_GOOGLE, t.ADA_SAML]  # cached
    assert ("get_user", t.ADA) not in auth0.calls[1:]  # redrawn from DELETE's answer
    assert [s.key for s in separated.offers()] == [t.ADA_GITHUB]
    assert heard and heard[0]["user_id"] == t.ADA and heard[0]["identity"].key == t.ADA_GITHUB


def test_the_primary_is_refused_before_any_change(auth0):
    with pytest.raises(Refusal) as refused:
        operations.unlink(ada(), t.ADA)
    assert refused.value.code == "primary_identity"
    assert [c for c, _ in auth0.calls] == ["get_user"]


def test_an_identity_the_user_does_not_have_is_already_unlinked_without_a_delete(auth0):
    with pytest.raises(AlreadyUnlinked):
        operations.unlink(ada(), t.GRACE)
    assert "unlink" not in [c for c, _ in auth0.calls]


def test_a_400_for_an_identity_gone_meanwhile_is_told_after_re_reading(auth0):
    operations.identities(ada())
    auth0.users[t.ADA] = auth0.users[t.ADA][:2]  # another tab unlinked GitHub and SAML
    auth0.fail_next("unlink", m.BadRequest("not linked", status=400))
    with pytest.raises(AlreadyUnlinked) as refused:
        operations.unlink(ada(), t.ADA_SAML)
    assert refused.value.message == "Acme SSO was already unlinked."  # the host's name
    assert [c for c, _ in auth0.calls] == ["get_user", "unlink", "get_user"]


def test_a_timed_out_unlink_reads_the_list_again_and_says_nothing_was_changed(auth0):
    operations.identities(ada())
    auth0.fail_next("unlink", m.Timeout("read timed out"))
    with pytest.raises(Refusal) as refused:
        operations.unlink(ada(), t.ADA_GITHUB)
    assert (refused.value.code, refused.value.status) == ("auth0_timeout", 504)
    assert "show that nothing was changed" in refused.value.message
    assert [c for c, _ in auth0.calls] == ["get_user", "unlink", "get_user"]
    operations.identities(ada())  # the list read after the timeout is the cache now
    assert [c for c, _ in auth0.calls] == ["get_user", "unlink", "get_user"]


def test_when_the_list_cannot_be_read_after_a_timeout_the_answer_says_what_to_check(auth0):
    operations.identities(ada())
    auth0.fail_next("unlink", m.Timeout("read timed out"))
    auth0.fail_next("get_user", m.RateLimited("slow down"))
    with pytest.raises(Refusal) as refused:
        operations.unlink(ada(), t.ADA_GITHUB)
    assert refused.value.code == "auth0_timeout"
    assert "could not be checked yet" in refused.value.message
    assert "if GitHub is no longer listed there, it was unlinked" in refused.value.message
    operations.identities(ada())  # the old list is forgotten: the next view reads again
    assert [c for c, _ in auth0.calls] == ["get_user", "unlink", "get_user", "get_user"]


def test_a_stale_login_is_refused_naming_the_action_to_resume_and_nothing_is_deleted(auth0):
    with pytest.raises(SessionRefreshRequired) as refused:
        operations.unlink(ada(recent=False), t.ADA_GITHUB)
    assert (refused.value.resume, refused.value.resume_with) == (
        Resumable.UNLINK,
        {"identity": t.ADA_GITHUB},
    )
    assert "unlink" not in [c for c, _ in auth0.calls]


def test_the_proof_of_a_fresh_login_lets_the_resumed_unlink_through(auth0):
    proof = reauth.FreshLogin(t.ADA, time.time(), reauth._MINT)
    assert keys(operations.unlink(ada(recent=False), t.ADA_GITHUB, proof).remaining) == [
        t.ADA,
        t.ADA_GOOGLE,
        t.ADA_SAML,
    ]


def test_a_scope_auth0_did_not_grant_is_refused_before_calling_it(auth0):
    with pytest.raises(Refusal) as refused:
        operations.unlink(ada(scope="openid read:current_user"), t.ADA_GITHUB)
    assert refused.value.code == "scope_not_granted"
    assert "not set up to make this change" in refused.value.message
    assert "unlink" not in [c for c, _ in auth0.calls]


def test_a_connection_not_offered_cannot_be_linked(auth0):
    with pytest.raises(Refusal) as refused:
        operations.start_link(ada(), "facebook")
    assert refused.value.code == "connection_not_offered"


def linked_claims(sub: str, **extra) -> dict:
    return {"sub": sub, "auth_time": time.time(), "email_verified": True, **extra}


def test_finishing_a_link_posts_the_other_accounts_token_and_names_it(auth0, app):
    heard = []
    identity_linked.connect(lambda sender, **kw: heard.append(kw), app, weak=False)
    trip = {"started_at": time.time() - 5}
    claims = linked_claims(t.GRACE, email="grace@example.com")
    linked = operations.finish_link(ada(), {"id_token": t.GRACE}, claims, trip)
    assert (linked.name, linked.detail) == ("GitHub", "grace@example.com")
    assert keys(linked.remaining) == [*ADA_ALL, t.GRACE]
    assert heard[0]["identity"].key == t.GRACE


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        (linked_claims(t.ADA), "the account you are signed in with"),
        (linked_claims(t.ADA_GITHUB), "already linked to your profile"),
        (linked_claims(t.GRACE, auth_time=1.0), "not asked to sign in to that account"),
        (
            linked_claims(t.GRACE, email_verified=False, email="g@x.test"),
            "(g@x.test) is not verified",
        ),
    ],
)
def test_a_link_is_refused_with_its_reason_and_nothing_posted(auth0, claims, reason):
    with pytest.raises(Refusal) as refused:
        operations.finish_link(ada(), {"id_token": claims["sub"]}, claims, {"started_at": 100.0})
    assert refused.value.code == "not_linkable" and reason in refused.value.message
    assert "link" not in [c for c, _ in auth0.calls]


def test_the_separated_account_is_deleted_with_the_m2m_token_after_unlinking(auth0):
    operations.unlink(ada(), t.ADA_GITHUB)
    assert auth0.users[t.ADA_GITHUB]  # the unlink made it a user of its own
    deleted = operations.delete_separated(ada(), t.ADA_GITHUB)
    assert deleted.name == "GitHub"
    assert t.ADA_GITHUB not in auth0.users
    assert separated.offers() == []


def test_only_an_account_this_session_separated_may_be_deleted(auth0):
    with pytest.raises(Refusal) as refused:
        operations.delete_separated(ada(), t.GRACE)
    assert refused.value.code == "not_offered"
    assert "delete_user" not in [c for c, _ in auth0.calls]


def test_a_separated_account_with_sign_ins_of_its_own_is_not_deleted(auth0):
    operations.unlink(ada(), t.ADA_GITHUB)
    auth0.users[t.ADA_GITHUB].append(identity(t.EVE))  # linked to something meanwhile
    with pytest.raises(Refusal) as refused:
        operations.delete_separated(ada(), t.ADA_GITHUB)
    assert refused.value.code == "not_deleted"
    assert t.ADA_GITHUB in auth0.users


def test_a_separated_entry_of_another_shape_is_not_offered(auth0):
    from flask import session

    session[separated.KEY] = {t.ADA_GITHUB: {"provider": "github", "at": time.time()}}
    assert separated.offers() == []
    with pytest.raises(Refusal) as refused:
        operations.delete_separated(ada(), t.ADA_GITHUB)
    assert refused.value.code == "not_offered"
