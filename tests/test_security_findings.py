"""The findings of the white-box security review, each attacked over real HTTP (against the
development tenant) or at the one seam it lives in. Numbers are the review's items."""

from __future__ import annotations

import logging
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import flask
import pytest
import requests

from linked_accounts import account, identity_cache, outcomes, trips
from linked_accounts import management as m
from linked_accounts.management import ManagementClient
from linked_accounts.sessions import MAX_BYTES, STARTED
from tests.support import tenant as t
from tests.support.forms import forms, submit
from tests.support.visitor import Visitor

PREFIX = "linked-accounts:"
COOKIE = "session"


@pytest.fixture
def app(make_app):
    return make_app(LINK_CONNECTIONS="github,google-oauth2")


@pytest.fixture
def base(app, serve):
    return serve(app)


def stored(app, sid: str) -> dict | None:
    return app.session_interface._retrieve_session_data(PREFIX + sid)


def edit_stored(app, sid: str, change) -> None:
    """Change the stored session as time would have: `change(data)` edits it in place."""
    with app.test_request_context("/", headers={"Cookie": f"{COOKIE}={sid}"}):
        session = app.session_interface.open_session(app, flask.request)
        assert session.sid == sid, "the session was not loaded"
        change(session)
        session.modified = True
        app.session_interface.save_session(app, session, app.response_class())


def signed_in(visitor: Visitor) -> bool:
    return visitor.get("/account/", allow_redirects=False).status_code == 200


def start_trip(http: requests.Session, url: str) -> tuple[requests.Response, str]:
    """Follow a redirect to the tenant's login page; return it and the trip's state."""
    page = http.get(url, timeout=15)
    assert "Continue as" in page.text, page.text[:300]
    return page, parse_qs(urlsplit(page.url).query)["state"][0]


# --- 1. outcome messages cannot be planted ------------------------------------------------

PLANTED = "Security alert: verify your account at https://evil.example"


def attacker_outcome_url(base: str) -> str:
    """What the review's probe did: the attacker's own link trip, answered with an error whose
    description is the text to plant; the redirect carries it sealed in `done=`."""
    attacker = Visitor(base)
    attacker.login("Ben Carter")
    link = attacker.press_link("Link GitHub")
    state = parse_qs(urlsplit(link.url).query)["state"][0]
    query = urlencode({"state": state, "error": "invalid_request", "error_description": PLANTED})
    answer = attacker.get(f"/account/callback?{query}", allow_redirects=False)
    assert answer.status_code == 303
    landing = attacker.get(answer.headers["Location"])
    assert "evil.example" not in landing.text  # not even to the attacker: never a URL's text
    assert "Nothing was changed" in landing.text
    return answer.headers["Location"]


def test_1_an_outcome_shows_no_text_from_the_url_and_only_in_its_own_session(base):
    planted = attacker_outcome_url(base)
    assert outcomes.PARAM in planted
    victim = Visitor(base)
    victim.login()
    page = victim.get(planted)
    assert page.status_code == 200 and "Unlink GitHub" in page.text
    assert 'class="la-message ' not in page.text  # sealed for the attacker's session only
    assert "evil.example" not in page.text


def test_1_control_an_outcome_is_shown_in_the_session_that_produced_it(base):
    visitor = Visitor(base)
    visitor.login()
    page = visitor.press(visitor.get("/account/"), "Refresh")
    assert 'class="la-message ' in page.text and "up to date" in page.text


# --- 2. sessions stay small, and anonymous pages create none --------------------------------


def test_2_two_hundred_logins_leave_a_session_under_16_kb(app, base):
    http = requests.Session()
    for _ in range(200):
        response = http.get(f"{base}/account/login", allow_redirects=False, timeout=10)
        assert response.status_code == 302
    data = stored(app, http.cookies[COOKIE])
    size = len(app.session_interface.serializer.encode(data))
    authlib_entries = [k for k in data if k.startswith("_state_")]
    assert len(data[trips.PENDING]) == trips.MAX_PENDING
    assert sorted(k.removeprefix("_state_linked_accounts_") for k in authlib_entries) == sorted(
        data[trips.PENDING]
    )
    assert size < 16 * 1024, size
    assert MAX_BYTES == 16 * 1024


def test_2_a_long_next_is_not_kept_in_the_session(app, base):
    http = requests.Session()
    target = "/account/?" + "x" * 5000
    http.get(f"{base}/account/login", params={"next": target}, allow_redirects=False, timeout=10)
    data = stored(app, http.cookies[COOKIE])
    assert all(trip.get("next") is None for trip in data[trips.PENDING].values())


@pytest.mark.parametrize("path", ["/", "/account/", "/account/api/session", "/account/unlink"])
def test_2_pages_viewed_without_signing_in_store_no_session(app, base, path):
    before = len(list(sessions_on_disk(app)))
    response = requests.get(base + path, allow_redirects=False, timeout=10)
    assert response.status_code in (200, 302)
    assert "Set-Cookie" not in response.headers
    assert len(list(sessions_on_disk(app))) == before


def sessions_on_disk(app):
    import os

    for folder in (app.config["SESSION_CACHELIB"]._path, app.session_interface.pending._path):
        for name in os.listdir(folder):
            if not name.startswith("__wz_cache"):
                yield name


def test_2_a_flood_of_cookieless_logins_never_evicts_a_signed_in_session(app, base):
    # As if past cachelib's threshold (10,000 by default): lower every limit a store has.
    for store in (app.config["SESSION_CACHELIB"], getattr(app.session_interface, "pending", None)):
        if store is not None and store._threshold:
            store._threshold = 20
    ada = Visitor(base)
    ada.login()
    for _ in range(60):
        requests.get(f"{base}/account/login", allow_redirects=False, timeout=10)
    assert signed_in(ada)


# --- 3. a GET from another site cannot sign the user out ------------------------------------


@pytest.mark.parametrize(
    "query", ["", "?state=forged&code=x", "?error=login_required", "?state=&code=x"]
)
def test_3_a_callback_that_is_not_this_browsers_trip_leaves_the_session_alone(base, query):
    ada = Visitor(base)
    ada.login()
    response = ada.get(f"/account/callback{query}", allow_redirects=False)
    assert response.status_code == 400
    assert "Sign-in did not complete" in response.text
    assert "Set-Cookie" not in response.headers
    assert signed_in(ada)


def test_3_relogin_with_a_usable_token_goes_back_without_a_trip_to_auth0(app, base):
    ada = Visitor(base)
    ada.login()
    response = ada.get("/account/relogin?next=/account/", allow_redirects=False)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/"
    assert not stored(app, ada.http.cookies[COOKIE]).get(trips.PENDING)
    assert signed_in(ada)


# --- 4. an old trip cannot finish -------------------------------------------------------------


def test_4_a_link_trip_finished_after_its_lifetime_is_refused(app, base, tenant):
    ben = Visitor(base)
    ben.login("Ben Carter")
    login_page = ben.press_link("Link GitHub")
    state = parse_qs(urlsplit(login_page.url).query)["state"][0]

    def age(data):
        data[trips.PENDING][state]["started_at"] -= 10 * 60 + 1  # the lifetime: 10 minutes

    edit_stored(app, ben.http.cookies[COOKIE], age)
    page = submit(ben.http, login_page, "Continue as Grace Hopper")
    assert "expired" in page.text and "Nothing was changed" in page.text
    assert t.identity_keys(tenant, t.BEN) == [t.BEN]
    assert signed_in(ben)


def test_4_a_link_is_refused_when_the_primary_login_is_no_longer_fresh(app, base, tenant):
    ben = Visitor(base)
    ben.login("Ben Carter")
    login_page = ben.press_link("Link GitHub")

    def stale(data):
        data[account.KEY] = {**data[account.KEY], "auth_time": time.time() - 3 * 3600}

    edit_stored(app, ben.http.cookies[COOKIE], stale)
    page = submit(ben.http, login_page, "Continue as Grace Hopper")
    assert "no longer recent enough" in page.text
    assert t.identity_keys(tenant, t.BEN) == [t.BEN]


def test_4_control_a_link_within_the_lifetime_goes_through(base, tenant):
    ben = Visitor(base)
    ben.login("Ben Carter")
    page = ben.link("Link GitHub", "Grace Hopper")
    assert "is now linked" in page.text
    assert t.identity_keys(tenant, t.BEN) == [t.BEN, t.GRACE]


# --- 5. the cookie's name -----------------------------------------------------------------------


def test_5_a_secure_session_cookie_is_named_with_the_host_prefix(make_app):
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


def test_5_the_name_stays_configurable_and_plain_http_keeps_the_plain_name(make_app):
    named = make_app(SESSION_COOKIE_SECURE=True, SESSION_COOKIE_NAME="__Host-acme")
    cookie = named.test_client().get("/account/login", base_url="https://app.test")
    assert cookie.headers["Set-Cookie"].startswith("__Host-acme=")
    plain = make_app().test_client().get("/account/login")
    assert plain.headers["Set-Cookie"].startswith("session=")


# --- 6. an absolute session lifetime --------------------------------------------------------


def cookie_expires(response: requests.Response) -> float | None:
    from email.utils import parsedate_to_datetime

    for header in response.raw.headers.getlist("Set-Cookie"):
        for attribute in header.split(";"):
            name, _, value = attribute.strip().partition("=")
            if name.lower() == "expires":
                return parsedate_to_datetime(value).timestamp()
    return None


def test_6_activity_does_not_extend_a_session_past_its_lifetime(app, base):
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
    filename = app.config["SESSION_CACHELIB"]._get_filename(PREFIX + sid)
    with open(filename, "rb") as f:
        stored_until = int.from_bytes(f.read(4), "little")
    assert stored_until <= time.time() + 61  # the store's TTL was not renewed either

    def over(data):
        data[STARTED] = time.time() - 8 * 3600 - 1

    edit_stored(app, sid, over)
    assert not signed_in(ada)
    assert stored(app, sid) is None


def test_6_the_lifetime_is_configurable(make_app, serve):
    app = make_app(SESSION_MAX_AGE="600")
    ada = Visitor(serve(app))
    landing = ada.login()
    expires = [cookie_expires(r) for r in (*landing.history, landing) if cookie_expires(r)]
    assert expires and 0 < expires[-1] - time.time() <= 600


# --- 7. FRAME_ANCESTORS is narrow -------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "https://*",
        "https://*.com",
        "https://*.co.uk",
        "https://*.github.io",
        "https://github.io",
        "http://portal.example.com",
        "http://*.example.com",
        "https://portal.example.com 'none'",
    ],
)
def test_7_frame_ancestors_refuses_wildcards_wider_than_one_site_and_plain_http(make_app, value):
    with pytest.raises(SystemExit, match="FRAME_ANCESTORS"):
        make_app(FRAME_ANCESTORS=value)


@pytest.mark.parametrize(
    "value",
    ["https://*.example.com", "https://me.github.io 'self'", "http://127.0.0.1:8000"],
)
def test_7_control_one_sites_subdomains_and_loopback_http_are_accepted(make_app, value):
    assert make_app(FRAME_ANCESTORS=value).config["FRAME_ANCESTORS"] == value


# --- 8 and 9. the extension's own headers, wherever it is mounted --------------------------


def bare_host(tenant: str, tmp_path, **config) -> flask.Flask:
    """A host app that sends no security headers of its own."""
    from linked_accounts import LinkedAccounts
    from tests.test_extension import host

    secret = config.pop("SECRET_KEY", None)
    app = host(tenant, tmp_path, **config)
    if secret:
        app.config["SECRET_KEY"] = secret
    LinkedAccounts(app, url_prefix="/account")

    @app.get("/")
    def index():
        return "host page"

    return app


def test_8_embedded_pages_carry_no_store_nosniff_and_a_framing_policy(tenant, tmp_path, serve):
    app = bare_host(tenant, tmp_path)
    visitor = Visitor(serve(app))
    submit(visitor.http, visitor.get("/account/login"), "Continue as Ada Lovelace")
    for path in ("/account/", f"/account/unlink?identity={t.ADA_GITHUB}", "/account/api/session"):
        response = visitor.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"], path
    host_page = visitor.get("/")
    assert "Content-Security-Policy" not in host_page.headers  # the host's own pages: its call


def test_8_a_hosts_own_framing_policy_wins(tenant, tmp_path):
    app = bare_host(tenant, tmp_path)

    @app.after_request
    def host_policy(response):
        response.headers["Content-Security-Policy"] = "frame-ancestors https://portal.example"
        return response

    response = app.test_client().get("/account/api/session")
    assert response.headers.getlist("Content-Security-Policy") == [
        "frame-ancestors https://portal.example"
    ]


def test_8_start_up_warns_when_the_cookie_is_not_secure_for_a_real_tenant(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="linked_accounts"):
        bare_host("https://tenant.eu.auth0.com", tmp_path, SESSION_COOKIE_SECURE=False)
    assert any("SESSION_COOKIE_SECURE is off" in r.getMessage() for r in caplog.records)


def test_8_control_no_warning_for_a_loopback_development_tenant(tenant, tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="linked_accounts"):
        bare_host(tenant, tmp_path, SESSION_COOKIE_SECURE=False)
    assert not any("SESSION_COOKIE_SECURE" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    "path", ["/account/", "/account/api/session", "/account/api/identities", "/account/unlink"]
)
def test_9_every_page_and_json_answer_of_a_signed_in_user_is_no_store(base, path):
    ada = Visitor(base)
    ada.login()
    query = f"?identity={t.ADA_GITHUB}" if path.endswith("unlink") else ""
    response = ada.get(path + query)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


# --- 10. smaller findings --------------------------------------------------------------------


@pytest.mark.parametrize("segment", [".", ".."])
def test_10_a_dot_segment_is_refused_before_any_call_to_auth0(tenant, segment):
    client = ManagementClient(tenant)
    calls = t.stats(tenant)["management_calls_total"]
    with pytest.raises(m.BadRequest):
        client.unlink("token", t.ADA, "github", segment)
    with pytest.raises(m.BadRequest):
        client.get_user("token", segment)
    assert t.stats(tenant)["management_calls_total"] == calls


def test_10_authlib_debug_logging_never_shows_the_pkce_verifier(app, base, caplog):
    http = requests.Session()
    with caplog.at_level(logging.DEBUG):
        http.get(f"{base}/account/login", allow_redirects=False, timeout=10)
    data = stored(app, http.cookies[COOKIE])
    verifier = next(v["data"]["code_verifier"] for k, v in data.items() if k.startswith("_state"))
    assert verifier not in caplog.text


def test_10_a_request_in_flight_during_logout_does_not_write_the_session_back(app, base):
    ada = Visitor(base)
    ada.login()
    sid = ada.http.cookies[COOKIE]
    with app.test_request_context("/account/", headers={"Cookie": f"{COOKIE}={sid}"}):
        in_flight = app.session_interface.open_session(app, flask.request)
        assert in_flight.get(account.KEY)
        ada.press(ada.get("/account/"), "Log out")  # meanwhile, in another tab
        assert stored(app, sid) is None
        in_flight[identity_cache.SESSION_KEY] = {"items": [], "at": time.time()}
        response = app.response_class()
        app.session_interface.save_session(app, in_flight, response)
    assert stored(app, sid) is None
    assert "Set-Cookie" not in response.headers


def test_10_a_request_in_flight_during_a_session_id_rotation_keeps_the_new_id(app, base):
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
        in_flight[identity_cache.SESSION_KEY] = {"items": [], "at": time.time()}
        response = app.response_class()
        app.session_interface.save_session(app, in_flight, response)
    assert stored(app, old) is None
    assert stored(app, rotating.sid)[account.KEY]["user_id"] == t.ADA
    assert "Set-Cookie" not in response.headers  # the browser keeps the new id


# --- 11. what SECURITY.md claims, proven ------------------------------------------------------

LEAST_PRIVILEGE = {"openid", "profile", "email", "read:current_user"}


def test_11_the_app_asks_auth0_only_for_current_user_scopes(make_app, serve, tenant):
    # REAUTH_MAX_AGE=0: unlinking and linking each need a re-login first, so every kind of
    # trip the app makes (login, re-authentication, link) is seen here.
    base = serve(make_app(LINK_CONNECTIONS="github", REAUTH_MAX_AGE="0"))
    visitor = Visitor(base)
    asked: dict[str, set[str]] = {}

    def remember(response, *args, **kwargs):
        parts = urlsplit(response.url)
        if parts.path == "/authorize":
            query = parse_qs(parts.query)
            purpose = "login" if "login_hint" not in query else "reauth"
            asked.setdefault(purpose, set()).update(query.get("scope", [""])[0].split())

    visitor.http.hooks["response"].append(remember)
    visitor.login()
    relogin = visitor.unlink(t.ADA_GITHUB)
    assert "was unlinked" in visitor.press(relogin, "Continue as Ada Lovelace").text
    relogin = visitor.press_link("Link GitHub")
    other = visitor.press(relogin, "Continue as Ada Lovelace")
    assert "is now linked" in visitor.press(other, "Continue as Grace Hopper").text
    assert set(asked) == {"login", "reauth"}
    # The login asks exactly what the settings page needs to act for the user on their own
    # profile: never update:users, read:users or any other tenant-wide scope.
    assert asked["login"] == LEAST_PRIVILEGE | {"update:current_user_identities"}
    assert asked["reauth"] <= LEAST_PRIVILEGE | {"update:current_user_identities"}


def test_11_every_test_security_md_cites_exists():
    import re
    from pathlib import Path

    root = Path(__file__).parent
    text = (root.parent / "SECURITY.md").read_text()
    cited = 0
    for cell in re.findall(r"`([^`]*::[^`]*)`", text):
        if cell == "a::b[...]":
            continue  # the notation's own example
        path, _, name = cell.partition("::")
        if path:
            current = root / path
        name = name.split("[")[0].removeprefix(":")
        assert current.exists(), cell
        assert re.search(rf"^def {re.escape(name)}\(", current.read_text(), re.M), cell
        cited += 1
    assert cited > 40


# --- the same session rules with Redis ------------------------------------------------------


@pytest.fixture(scope="module")
def redis_url():
    from tests.support.redis_server import running_redis

    with running_redis() as url:
        yield url


def test_6_and_10_with_redis_the_lifetime_is_absolute_and_a_logout_stays_a_logout(
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
        in_flight[identity_cache.SESSION_KEY] = {"items": [], "at": time.time()}
        response = app.response_class()
        app.session_interface.save_session(app, in_flight, response)
    assert client.exists(PREFIX + sid) == 0
    assert "Set-Cookie" not in response.headers


def test_8_start_up_warns_when_the_secret_is_short_for_a_real_tenant(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="linked_accounts"):
        bare_host("https://tenant.eu.auth0.com", tmp_path, SECRET_KEY="short-secret")
    assert any("shorter than 32 characters" in r.getMessage() for r in caplog.records)
