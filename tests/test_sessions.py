"""Server-side sessions: small, created only when something must be kept, never evicting a
signed-in user, named `__Host-` when Secure, with an absolute lifetime, and never written back by a
request that outlived a logout or a new session id (files and Redis)."""

from __future__ import annotations

import time

import flask
import pytest
import requests

from linked_accounts.signin import account
from linked_accounts.storage import keys
from linked_accounts.storage.rules import STARTED, in_transit_only
from tests.support import tenant as t
from tests.support.forms import forms
from tests.support.stored_session import (
    COOKIE,
    PREFIX,
    cookie_expires,
    edit_stored,
    signed_in,
    stored,
)
from tests.support.visitor import Visitor


def sessions_on_disk(app):
    import os

    for folder in ("sessions", "sessions-pending"):
        for name in os.listdir(os.path.join(app.instance_path, folder)):
            if not name.startswith("__wz_cache"):
                yield name


@pytest.mark.parametrize("path", ["/", "/account/", "/account/api/session", "/account/unlink"])
def test_pages_viewed_without_signing_in_store_no_session(app, base, path):
    before = len(list(sessions_on_disk(app)))
    response = requests.get(base + path, allow_redirects=False, timeout=10)
    assert response.status_code in (200, 302)
    assert "Set-Cookie" not in response.headers
    assert len(list(sessions_on_disk(app))) == before


def test_a_flood_of_cookieless_logins_never_evicts_a_signed_in_session(make_app, serve):
    # As if past the pending store's limit (10,000 by default).
    base = serve(make_app(LINKED_ACCOUNTS_PENDING_SESSIONS=20))
    ada = Visitor(base)
    ada.login()
    for _ in range(60):
        requests.get(f"{base}/account/login", allow_redirects=False, timeout=10)
    assert signed_in(ada)


def test_a_secure_session_cookie_is_named_with_the_host_prefix(make_app):
    response = (
        make_app(SESSION_COOKIE_SECURE=True)
        .test_client()
        .get("/account/login", base_url="https://app.test")
    )
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-session=")
    attributes = [a.strip().lower() for a in cookie.split(";")]
    assert "secure" in attributes and "path=/" in attributes
    assert not any(a.startswith("domain=") for a in attributes)


def test_the_name_stays_configurable_and_plain_http_keeps_the_plain_name(make_app):
    named = make_app(SESSION_COOKIE_SECURE=True, SESSION_COOKIE_NAME="__Host-acme")
    cookie = named.test_client().get("/account/login", base_url="https://app.test")
    assert cookie.headers["Set-Cookie"].startswith("__Host-acme=")
    plain = make_app().test_client().get("/account/login")
    assert plain.headers["Set-Cookie"].startswith("session=")


def test_activity_does_not_extend_a_session_past_its_lifetime(app, base, monkeypatch):
    ada = Visitor(base)
    ada.login()
    sid = ada.http.cookies[COOKIE]

    def nearly_over(data):
        data[STARTED] = time.time() - 8 * 3600 + 60

    edit_stored(app, sid, nearly_over)
    # A request that changes the session (the identity list is re-read and cached).
    form = next(f for f in forms(ada.get("/account/").text) if "csrf_token" in f.fields)
    response = ada.post("/account/refresh", {"csrf_token": form.fields["csrf_token"]})
    assert response.status_code == 200
    rewritten = [r for r in (*response.history, response) if cookie_expires(r)]
    for hop in rewritten:  # a sliding session would move the cookie 8 hours on
        assert cookie_expires(hop) <= time.time() + 61
    # The store's TTL was not renewed either: two minutes on, the store has let it go.
    with monkeypatch.context() as later:
        later.setattr("cachelib.file.time", lambda: time.time() + 120)
        assert stored(app, sid) is None
    assert stored(app, sid) is not None

    def over(data):
        data[STARTED] = time.time() - 8 * 3600 - 1

    edit_stored(app, sid, over)
    assert not signed_in(ada)
    assert stored(app, sid) is None


def test_the_lifetime_is_configurable(make_app, serve):
    app = make_app(SESSION_MAX_AGE="600")
    ada = Visitor(serve(app))
    landing = ada.login()
    expires = [cookie_expires(r) for r in (*landing.history, landing) if cookie_expires(r)]
    assert expires and 0 < expires[-1] - time.time() <= 600


def test_a_request_in_flight_during_logout_does_not_write_the_session_back(app, base):
    ada = Visitor(base)
    ada.login()
    sid = ada.http.cookies[COOKIE]
    with app.test_request_context("/account/", headers={"Cookie": f"{COOKIE}={sid}"}):
        in_flight = app.session_interface.open_session(app, flask.request)
        assert in_flight.get(account.KEY)
        ada.press(ada.get("/account/"), "Log out")  # meanwhile, in another tab
        assert stored(app, sid) is None
        in_flight[keys.IDENTITIES] = {"items": [], "at": time.time()}
        response = app.response_class()
        app.session_interface.save_session(app, in_flight, response)
    assert stored(app, sid) is None
    assert "Set-Cookie" not in response.headers


def test_a_request_in_flight_during_a_session_id_rotation_keeps_the_new_id(app, base):
    ada = Visitor(base)
    ada.login()
    old = ada.http.cookies[COOKIE]
    headers = {"Cookie": f"{COOKIE}={old}"}
    with app.test_request_context("/account/", headers=headers):
        in_flight = app.session_interface.open_session(app, flask.request)
    with app.test_request_context("/account/", headers=headers):  # meanwhile, a re-login
        rotating = app.session_interface.open_session(app, flask.request)
        app.session_interface.regenerate(rotating)
        app.session_interface.save_session(app, rotating, app.response_class())
    with app.test_request_context("/account/", headers=headers):
        in_flight[keys.IDENTITIES] = {"items": [], "at": time.time()}
        response = app.response_class()
        app.session_interface.save_session(app, in_flight, response)
    assert stored(app, old) is None
    assert stored(app, rotating.sid)[account.KEY]["user_id"] == t.ADA
    assert "Set-Cookie" not in response.headers  # the browser keeps the new id


def test_with_redis_the_lifetime_is_absolute_and_a_logout_stays_a_logout(
    make_app, serve, redis_url
):
    app = make_app(REDIS_URL=redis_url)
    ada = Visitor(serve(app))
    ada.login()
    sid = ada.http.cookies[COOKIE]
    client = app.config["SESSION_REDIS"]
    assert 0 < client.ttl(PREFIX + sid) <= 8 * 3600

    def nearly_over(data):
        data[STARTED] = time.time() - 8 * 3600 + 60

    edit_stored(app, sid, nearly_over)
    ada.press(ada.get("/account/"), "Refresh")  # rewrites the session
    assert 0 < client.ttl(PREFIX + sid) <= 61  # not slid forward

    with app.test_request_context("/account/", headers={"Cookie": f"{COOKIE}={sid}"}):
        in_flight = app.session_interface.open_session(app, flask.request)
        ada.press(ada.get("/account/"), "Log out")
        in_flight[keys.IDENTITIES] = {"items": [], "at": time.time()}
        response = app.response_class()
        app.session_interface.save_session(app, in_flight, response)
    assert client.exists(PREFIX + sid) == 0
    assert "Set-Cookie" not in response.headers


def test_only_authlibs_entries_for_the_sessions_own_trips_count_as_in_transit():
    """Which keys make a session one "on its way to Auth0" (kept 10 minutes) is told by exact
    key: Authlib's entry of a trip the session holds, never any key that merely starts alike."""
    trip = {"abc": {"purpose": "login", "started_at": time.time()}}
    on_its_way = {keys.PENDING_TRIPS: trip, keys.authlib_state("abc"): {"data": {}}}
    assert in_transit_only(on_its_way)
    look_alike = {keys.PENDING_TRIPS: trip, keys.authlib_state("other"): {"data": {}}}
    assert not in_transit_only(look_alike)  # not a trip of this session: someone's data
    assert not in_transit_only({keys.authlib_state("abc"): {"data": {}}})  # no trip at all
