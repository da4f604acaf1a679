"""The signed-in account in the server-side session: a sign-in replaces the session, a renewal
keeps the real login's auth_time, a refused token counts as expired, and a host's guest answers
only for the host's user."""

from __future__ import annotations

from dataclasses import replace

import pytest
from flask import Flask, session

from linked_accounts import LinkedAccounts, current_account
from linked_accounts.signin import account
from tests.support import tenant as t
from tests.test_extension import OFFLINE_TENANT, host


def make_app(tmp_path, **options) -> Flask:
    """A host with no tenant to reach: these tests never leave the process."""
    app = host(OFFLINE_TENANT, tmp_path, SESSION_COOKIE_SECURE=True)
    LinkedAccounts(app, **options)
    return app


TOKEN = {"access_token": "at", "expires_in": 3600, "scope": "openid read:current_user"}


def claims(sub: str = t.ADA, **extra) -> dict:
    return {"sub": sub, "name": "Ada", "email": "ada@example.com", "auth_time": 1000, **extra}


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path)


def test_signing_in_replaces_the_session(app):
    with app.test_request_context("/"):
        session["left-over"] = "from before"
        acct = account.sign_in(TOKEN, claims(sid="sid-1"))
        assert "left-over" not in session
        assert (acct.user_id, acct.sid, acct.auth_time) == (t.ADA, "sid-1", 1000)
        assert acct.granted("read:current_user") and not acct.granted("update:users")
        assert current_account() == acct


def test_a_silent_renewal_keeps_the_real_logins_auth_time(app):
    with app.test_request_context("/"):
        account.sign_in(TOKEN, claims())
        renewed = account.renew_token({**TOKEN, "access_token": "at-2"}, {"sub": t.ADA})
        assert (renewed.access_token, renewed.auth_time) == ("at-2", 1000)


def test_only_the_sid_of_a_later_id_token_is_kept(app):
    with app.test_request_context("/"):
        account.keep_auth0_session({"sid": "nobody-signed-in"})
        assert account.current() is None  # nothing to keep it for: no account is made
        acct = account.sign_in(TOKEN, claims(sid="sid-1"))
        account.keep_auth0_session({"sid": 42})  # not a session id: ignored
        account.keep_auth0_session({**claims(t.GRACE, sid="sid-2"), "access_token": "other"})
        assert account.current() == replace(acct, sid="sid-2")


def test_a_token_auth0_refused_counts_as_expired(app):
    with app.test_request_context("/"):
        assert not account.sign_in(TOKEN, claims()).token_expired
        account.expire_token()
        assert account.current().token_expired


def test_as_a_hosts_guest_it_answers_only_for_the_hosts_user(tmp_path):
    host_user = {"sub": t.ADA}
    app = make_app(tmp_path, current_user=lambda: host_user["sub"], login_url="/login")
    with app.test_request_context("/"):
        session["host's own"] = "kept"
        account.sign_in(TOKEN, claims())
        assert session["host's own"] == "kept"  # a guest never clears the host's session
        assert current_account().user_id == t.ADA
        host_user["sub"] = t.BEN
        assert current_account() is None
