"""One identities cache per Auth0 user: all of a user's sessions share one read of Auth0 per
cache period and see a link or unlink at once; no user ever sees another's list. And a view that
changes nothing writes nothing to the session store."""

from __future__ import annotations

import time

import redis

from linked_accounts import identity_cache
from linked_accounts.identities import READ_FIELDS, READ_PROFILE_FIELDS, parse_identities
from linked_accounts.storage import side_store
from tests.support import tenant as t
from tests.support.visitor import Visitor, unlink_buttons

ADA_BUTTONS = 3  # GitHub, Google, SAML


def calls(tenant: str, user_id: str) -> int:
    return t.stats(tenant)["management_calls"].get(user_id, 0)


def test_five_sessions_of_one_user_share_one_read_per_cache_period(
    make_app, serve, tenant, session_store
):
    base = serve(make_app(IDENTITIES_CACHE_SECONDS="1", REDIS_URL=session_store))
    sessions = [Visitor(base) for _ in range(5)]
    for visitor in sessions:
        visitor.login("Ada Lovelace")  # a sign-in forgets the cache: each reads once
    time.sleep(1.2)  # the cache period has passed
    before = calls(tenant, t.ADA)
    pages = [visitor.get("/account/") for visitor in sessions for _ in range(2)]
    assert all(len(unlink_buttons(p.text)) == ADA_BUTTONS for p in pages)
    assert calls(tenant, t.ADA) - before == 1


def test_an_unlink_in_one_session_shows_in_the_others_without_reading_auth0(
    make_app, serve, tenant, session_store
):
    base = serve(make_app(REDIS_URL=session_store))
    phone, laptop = Visitor(base), Visitor(base)
    phone.login("Ada Lovelace")
    laptop.login("Ada Lovelace")
    phone.unlink(t.ADA_GITHUB)
    before = calls(tenant, t.ADA)
    page = laptop.get("/account/")
    assert len(unlink_buttons(page.text)) == ADA_BUTTONS - 1
    assert not any("GitHub" in button for button in unlink_buttons(page.text))
    assert calls(tenant, t.ADA) == before  # drawn from the unlink's own answer


def test_each_user_sees_only_their_own_list(make_app, serve, tenant, session_store):
    base = serve(make_app(REDIS_URL=session_store))
    ada, ben = Visitor(base), Visitor(base)
    ada.login("Ada Lovelace")
    ben.login("Ben Carter")
    ada_page, ben_page = ada.get("/account/"), ben.get("/account/")
    assert len(unlink_buttons(ada_page.text)) == ADA_BUTTONS
    assert unlink_buttons(ben_page.text) == []
    assert "ada@users.noreply.github.com" not in ben_page.text


def test_an_entry_that_names_another_user_or_tenant_is_never_shown(
    make_app, serve, tenant, session_store
):
    app = make_app(REDIS_URL=session_store)
    ada = Visitor(serve(app))
    ada.login("Ada Lovelace")
    store = side_store(app)
    with app.test_request_context():
        key = identity_cache.entry_key(t.ADA)
    entry = store.get(key)
    assert entry["user_id"] == t.ADA  # the entry says whose it is, and from which tenant
    # Someone else's list under Ada's key (a bug, a tampered store, or another deployment's
    # tenant sharing this Redis): never drawn for Ada.
    ben = [{"provider": "auth0", "user_id": "6500a1b2c3d4e5f600000002", "connection": "x"}]
    fresh = {"items": ben, "at": time.time()}
    for foreign in ({**entry, "user_id": t.BEN, "value": fresh}, {**entry, "tenant": "https://x"}):
        store.set(key, foreign, ttl=60)
        before = calls(tenant, t.ADA)
        page = ada.get("/account/")
        assert len(unlink_buttons(page.text)) == ADA_BUTTONS
        assert calls(tenant, t.ADA) == before + 1  # read again from Auth0


def test_the_cache_keeps_only_what_the_page_reads_of_each_identity(
    make_app, serve, tenant, session_store
):
    app = make_app(REDIS_URL=session_store)
    ada = Visitor(serve(app))
    ada.login("Ada Lovelace")
    ada.get("/account/")
    with app.test_request_context():
        cached = side_store(app).get(identity_cache.entry_key(t.ADA))["value"]["items"]
    answered = t.user(tenant, t.ADA)["identities"]  # what Auth0 answers: more than is shown
    assert any(set(i.get("profileData", {})) - set(READ_PROFILE_FIELDS) for i in answered)
    assert len(cached) == len(answered)
    for item in cached:
        assert set(item) <= {*READ_FIELDS, "profileData"}
        assert set(item.get("profileData", {})) <= set(READ_PROFILE_FIELDS)
    assert parse_identities(cached) == parse_identities(answered)


def test_two_tenants_sharing_one_redis_keep_separate_lists(make_app, serve, tenant, redis_url):
    app = make_app(REDIS_URL=redis_url)
    other = make_app(REDIS_URL=redis_url, AUTH0_MANAGEMENT_DOMAIN="https://other.eu.auth0.com")
    with app.test_request_context():
        key = identity_cache.entry_key(t.ADA)
    with other.test_request_context():
        assert identity_cache.entry_key(t.ADA) != key


def test_a_cached_view_reads_the_session_and_writes_nothing(make_app, serve, tenant, redis_url):
    base = serve(make_app(REDIS_URL=redis_url))
    ada = Visitor(base)
    ada.login("Ada Lovelace")  # its first view reads Auth0 and stores the CSRF token
    store = redis.Redis.from_url(redis_url)
    session_key = "linked-accounts:" + ada.http.cookies["session"]
    ttl_before = store.pttl(session_key)
    store.config_resetstat()
    time.sleep(0.3)
    pages = [ada.get("/account/") for _ in range(10)]
    assert all(p.status_code == 200 and "Set-Cookie" not in p.headers for p in pages)
    stats = store.info("commandstats")
    writes = {name: v["calls"] for name, v in stats.items() if name in WRITE_COMMANDS}
    assert writes == {}
    # One round trip per view: the session and the user's list, fetched together (read-ahead).
    assert stats["cmdstat_mget"]["calls"] == 10 and "cmdstat_get" not in stats
    # Viewing never pushes the session's expiry out.
    assert store.pttl(session_key) <= ttl_before - 300
    store.close()


WRITE_COMMANDS = {
    f"cmdstat_{name}"
    for name in ("set", "setex", "psetex", "del", "unlink", "expire", "pexpire", "getdel", "getex")
}


def test_a_view_reads_the_session_and_the_list_in_one_round_trip_and_sees_every_change(
    make_app, serve, tenant, redis_url
):
    """What a session's views read from the side store comes with its session in one MGET
    (storage/read_ahead.py), and is what a separate read would have found: another session's
    unlink shows at once; another user's entry is never fetched for this session."""
    app = make_app(REDIS_URL=redis_url)
    base = serve(app)
    phone, laptop, ben = Visitor(base), Visitor(base), Visitor(base)
    phone.login("Ada Lovelace")
    laptop.login("Ada Lovelace")
    ben.login("Ben Carter")
    store = redis.Redis.from_url(redis_url)
    store.config_resetstat()
    assert len(unlink_buttons(laptop.get("/account/").text)) == ADA_BUTTONS
    assert store.info("commandstats")["cmdstat_mget"]["calls"] == 1
    phone.unlink(t.ADA_GITHUB)
    page = laptop.get("/account/").text
    assert len(unlink_buttons(page)) == ADA_BUTTONS - 1
    assert unlink_buttons(ben.get("/account/").text) == []
    assert "cmdstat_get" not in store.info("commandstats")  # each view: one MGET, no GET
    store.close()


def test_a_value_fetched_ahead_is_served_once_and_never_after_a_write(make_app, redis_url):
    app = make_app(REDIS_URL=redis_url)
    side = side_store(app)
    side.set("k", "stored", ttl=60)
    with app.test_request_context():
        side.read_ahead.opened("linked-accounts:sid", {"k": b'"fetched"'})
        assert side.get("k") == "fetched"
        assert side.get("k") == "stored"  # served once: the next read asks Redis
    with app.test_request_context():
        side.read_ahead.opened("linked-accounts:sid", {"k": b'"fetched"'})
        side.set("k", "written", ttl=60)
        assert side.get("k") == "written"
    with app.test_request_context():
        assert side.read_ahead.keys_for("linked-accounts:sid") == ("k",)  # learned by the reads


def test_a_redis_that_refuses_mget_is_read_one_key_at_a_time(make_app, serve, redis_url):
    """A proxy or an ACL that refuses multi-key commands: a warning, then a GET per key."""
    admin = redis.Redis.from_url(redis_url)
    admin.acl_setuser("app", enabled=True, nopass=True, keys=["*"], commands=["+@all", "-mget"])
    host, port = (
        admin.connection_pool.connection_kwargs["host"],
        admin.connection_pool.connection_kwargs["port"],
    )
    base = serve(make_app(REDIS_URL=f"redis://app@{host}:{port}/0"))
    ada = Visitor(base)
    ada.login("Ada Lovelace")
    pages = [ada.get("/account/") for _ in range(3)]
    assert all(len(unlink_buttons(p.text)) == ADA_BUTTONS for p in pages)
    admin.acl_deluser("app")
    admin.close()
