"""Floods of cookieless requests: a session nobody is signed in to lives a trip's lifetime in
every store, and the file store keeps such sessions apart and bounded, at a fixed cost a write."""

from __future__ import annotations

import os
import time

import pytest
import redis
import requests

from examples.quickstart_host.app import create_app as create_quickstart
from linked_accounts.storage.keys import TRIP_LIFETIME
from tests.support.app_session import stored_session
from tests.support.visitor import Visitor

COOKIE = "session"


def cookieless(url: str, n: int) -> list[str]:
    """GET `url` `n` times, each without a cookie; return the session ids handed out."""
    sids = []
    for _ in range(n):
        response = requests.get(url, allow_redirects=False, timeout=10)
        assert response.status_code == 302
        sids.append(response.cookies[COOKIE])
    return sids


def assert_kept_at_most(app, store: str, sids: list[str], seconds: float) -> None:
    """Each session is stored now, and gone from the store `seconds` later (its TTL)."""
    assert all(stored_session(app, sid) for sid in sids)
    if store:
        client = redis.Redis.from_url(store)
        ttls = [client.ttl("linked-accounts:" + sid) for sid in sids]
        client.close()
        assert all(0 < ttl <= seconds for ttl in ttls), ttls
        return
    with pytest.MonkeyPatch.context() as later:
        later.setattr("cachelib.file.time", lambda: time.time() + seconds + 1)
        assert not any(stored_session(app, sid) for sid in sids)


def assert_kept_longer(app, store: str, sid: str, seconds: float) -> None:
    if store:
        client = redis.Redis.from_url(store)
        assert client.ttl("linked-accounts:" + sid) > seconds
        client.close()
        return
    with pytest.MonkeyPatch.context() as later:
        later.setattr("cachelib.file.time", lambda: time.time() + seconds + 1)
        assert stored_session(app, sid)


def test_cookieless_logins_leave_sessions_that_last_a_trip_not_a_day(
    make_app, serve, session_store
):
    app = make_app(REDIS_URL=session_store)
    base = serve(app)
    sids = cookieless(f"{base}/account/login", 20)
    assert_kept_at_most(app, session_store, sids, TRIP_LIFETIME)
    ada = Visitor(base)
    ada.login()  # control: a signed-in session keeps its whole lifetime
    assert_kept_longer(app, session_store, ada.http.cookies[COOKIE], TRIP_LIFETIME)


def test_the_hosts_cookieless_logins_last_a_trip_and_its_sign_ins_a_session(
    tenant, app_config, serve, session_store
):
    from tests.test_host_signin import Customer

    app = create_quickstart({**app_config, "AUTH0_DOMAIN": tenant, "REDIS_URL": session_store})
    base = serve(app)
    sids = cookieless(f"{base}/login", 20)  # the product's own login, on its way to Auth0
    assert_kept_at_most(app, session_store, sids, TRIP_LIFETIME)
    customer = Customer(base, tenant)
    customer.sign_in("Ada Lovelace")
    assert_kept_longer(app, session_store, customer.http.cookies[COOKIE], TRIP_LIFETIME)


def test_a_full_pending_store_stays_at_its_limit_and_keeps_signed_in_sessions(
    make_app, serve, tmp_path
):
    # A store of its own: the run's shared one holds what earlier tests left, which a prune
    # may count differently.
    app = make_app(LINKED_ACCOUNTS_PENDING_SESSIONS=20, INSTANCE_PATH=str(tmp_path))
    base = serve(app)
    ada = Visitor(base)
    ada.login()
    cookieless(f"{base}/account/login", 60)
    pending = os.path.join(app.instance_path, "sessions-pending")
    kept = [n for n in os.listdir(pending) if not n.startswith("__wz_cache")]
    assert 10 <= len(kept) <= 21  # at its limit (and one written after the last prune)
    assert ada.get("/account/", allow_redirects=False).status_code == 200
    ben = Visitor(base)  # and a login started after the flood still completes
    ben.login("Ben Carter")
    assert ben.get("/account/", allow_redirects=False).status_code == 200
