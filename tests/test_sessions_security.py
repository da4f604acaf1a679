"""Session and sign-in defences, attacked over real HTTP: cookies, fixation, CSRF, open
redirects, and every way an OpenID Connect callback can be forged or replayed."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import time
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import redis
import requests
from joserfc import jwt
from joserfc.jwk import RSAKey

from app import create_app
from devtenant import create_app as create_tenant
from linked_accounts import identity_cache, single_flight
from linked_accounts.navigation import safe_next
from linked_accounts.storage import keys, side, side_store
from tests.support import tenant as t
from tests.support.app_session import stored_session
from tests.support.forms import forms
from tests.support.servers import serving
from tests.support.tenant_api import unsigned_jwt
from tests.support.visitor import Visitor, unlink_buttons

COOKIE = "session"


# A tenant of this module's own, so tests can sign tokens with its real key (a positive control
# for the forged ones). `tenant` and `make_app` from conftest use it through this override.
@pytest.fixture(scope="module")
def tenant_app():
    return create_tenant()


@pytest.fixture(scope="module")
def tenant_server(tenant_app):
    with serving(tenant_app) as url:
        yield url


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def base(app, serve):
    return serve(app)


def stored(app, sid: str) -> dict | None:
    """The server-side session stored under `sid` (signed in, or on its way to Auth0), or None."""
    return stored_session(app, sid)


def set_cookies(response: requests.Response) -> list[str]:
    return response.raw.headers.getlist("Set-Cookie")


def start_login(http: requests.Session, base: str, query: str = "") -> requests.Response:
    """GET the app's /account/login without following: the redirect to /authorize."""
    response = http.get(f"{base}/account/login{query}", allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text[:300]
    return response


def authorize_params(response: requests.Response) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}


def callback_url(http: requests.Session, authorize: requests.Response, name: str) -> str:
    """Sign in at the tenant as `name` and return the callback URL it sends the browser to."""
    page = http.get(authorize.headers["Location"], timeout=10)
    form = next(f for f in forms(page.text) if f.button(f"Continue as {name}"))
    button = form.button(f"Continue as {name}")
    answer = http.post(
        requests.compat.urljoin(page.url, form.action),
        data={**form.fields, button["name"]: button["value"]},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text[:300]
    return answer.headers["Location"]


def assert_signed_out(http: requests.Session, base: str) -> None:
    settings = http.get(f"{base}/account/", allow_redirects=False, timeout=10)
    assert settings.status_code == 302
    assert urlsplit(settings.headers["Location"]).path == "/account/login"


# --- the cookie -------------------------------------------------------------------------


def test_session_cookie_is_httponly_samesite_lax_and_not_secure_on_plain_http_dev(base):
    http = requests.Session()
    cookie = set_cookies(start_login(http, base))
    assert len(cookie) == 1
    attributes = [a.strip().lower() for a in cookie[0].split(";")]
    assert attributes[0].startswith(COOKIE + "=")
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "path=/" in attributes
    assert "secure" not in attributes  # SESSION_COOKIE_SECURE=False in the test config


def test_session_cookie_is_secure_when_configured(make_app):
    client = make_app(SESSION_COOKIE_SECURE=True).test_client()
    response = client.get("/account/login", base_url="https://app.test")
    attributes = [a.strip().lower() for a in response.headers["Set-Cookie"].split(";")]
    assert "secure" in attributes and "httponly" in attributes and "samesite=lax" in attributes


def test_session_cookie_is_secure_by_default_for_a_real_tenant(tenant, app_config):
    # Not the dev tenant, nothing said about cookies: a deployment must get Secure cookies.
    config = {k: v for k, v in app_config.items() if k != "SESSION_COOKIE_SECURE"}
    app = create_app({**config, "AUTH0_DOMAIN": tenant})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    response = app.test_client().get("/account/login", base_url="https://app.test")
    assert "secure" in [a.strip().lower() for a in response.headers["Set-Cookie"].split(";")]


def test_insecure_http_cookies_flag_turns_secure_off_for_a_real_tenant(tenant, app_config):
    config = {k: v for k, v in app_config.items() if k != "SESSION_COOKIE_SECURE"}
    app = create_app({**config, "AUTH0_DOMAIN": tenant, "INSECURE_HTTP_COOKIES": "1"})
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_a_session_lasts_eight_hours_not_flasks_default_month(base):
    http = requests.Session()
    response = start_login(http, base)
    cookie = next(c for c in http.cookies if c.name == COOKIE)
    sent_at = parsedate_to_datetime(response.headers["Date"]).timestamp()
    assert 0 < cookie.expires - sent_at <= 8 * 3600 + 60


def test_cookie_holds_only_an_opaque_id_and_the_tokens_stay_on_the_server(app, base):
    visitor = Visitor(base)
    visitor.login()
    sid = visitor.http.cookies.get(COOKIE)
    assert re.fullmatch(r"[A-Za-z0-9_-]{32,}", sid), sid  # no dots: not a signed payload
    for candidate in (sid, sid + "=" * (-len(sid) % 4)):
        try:
            decoded = base64.urlsafe_b64decode(candidate)
        except ValueError:
            continue
        assert b"access_token" not in decoded and b"linked_accounts" not in decoded
        assert b"Lovelace" not in decoded
    data = stored(app, sid)
    assert data["linked_accounts"]["user_id"] == t.ADA  # the session lives server-side
    assert data["linked_accounts"]["access_token"].startswith("eyJ")


# --- fixation and logout ------------------------------------------------------------------


def test_session_id_is_rotated_at_login_and_the_old_id_carries_nothing(app, base):
    http = requests.Session()
    authorize = start_login(http, base)
    before = http.cookies.get(COOKIE)
    assert stored(app, before) is not None  # the pre-login session (the trip's state)
    landing = http.get(callback_url(http, authorize, "Ada Lovelace"), timeout=10)
    assert landing.url.split("?")[0] == base + "/account/" and landing.status_code == 200
    after = http.cookies.get(COOKIE)
    assert after and after != before
    assert stored(app, before) is None
    assert stored(app, after)["linked_accounts"]["user_id"] == t.ADA
    replay = requests.get(
        f"{base}/account/", cookies={COOKIE: before}, allow_redirects=False, timeout=10
    )
    assert replay.status_code == 302 and "/account/login" in replay.headers["Location"]


def test_a_session_id_planted_before_login_is_never_adopted(app, base):
    planted = "attacker-chosen-session-id-0123456789abcdef"
    http = requests.Session()
    http.cookies.set(COOKIE, planted, domain="127.0.0.1", path="/")
    authorize = start_login(http, base)
    http.get(callback_url(http, authorize, "Ada Lovelace"), timeout=10)
    assert http.cookies.get(COOKIE) not in (None, planted)
    assert stored(app, planted) is None
    attacker = requests.get(
        f"{base}/account/", cookies={COOKIE: planted}, allow_redirects=False, timeout=10
    )
    assert attacker.status_code == 302


def test_logout_deletes_the_server_side_session(app, base):
    visitor = Visitor(base)
    visitor.login()
    sid = visitor.http.cookies.get(COOKIE)
    assert stored(app, sid) is not None
    response = visitor.press(visitor.get("/account/"), "Log out")
    assert response.status_code == 200
    assert stored(app, sid) is None
    # The browser holds another id now (the "logged out" message rode in it), with nothing of
    # the sign-in.
    now = visitor.http.cookies.get(COOKIE)
    assert now is not None and now != sid
    assert keys.ACCOUNT not in (stored(app, now) or {})
    replay = requests.get(
        f"{base}/account/", cookies={COOKIE: sid}, allow_redirects=False, timeout=10
    )
    assert replay.status_code == 302 and "/account/login" in replay.headers["Location"]


# --- CSRF -------------------------------------------------------------------------------

STATE_CHANGES = {
    "/account/logout": {},
    "/account/signin/again": {},
    "/account/unlink": {"identity": t.ADA_GITHUB},
    "/account/link": {"connection": ""},
    "/account/refresh": {},
    "/account/separated/delete": {"user": t.ADA_GITHUB},
    "/account/api/identities/unlink": {"identity": t.ADA_GITHUB},
    "/account/api/identities/link": {"connection": ""},
    "/account/suggestions/link": {"candidate": t.MAYA},
    "/account/suggestions/dismiss": {"candidate": t.MAYA, "reason": "not_mine"},
    "/account/suggestions/restore": {},
}


def test_the_csrf_tests_cover_every_route_that_changes_state(app):
    posts = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.methods & {"POST", "PUT", "PATCH", "DELETE"}
    }
    assert posts == set(STATE_CHANGES)


@pytest.fixture
def ada(base):
    visitor = Visitor(base)
    visitor.login()
    return visitor


@pytest.mark.parametrize("path", sorted(STATE_CHANGES))
@pytest.mark.parametrize("token", ["missing", "garbage", "another session's"])
def test_every_state_change_refuses_a_post_without_a_valid_csrf_token(
    ada, base, tenant, path, token
):
    data = dict(STATE_CHANGES[path])
    if token == "garbage":
        data["csrf_token"] = "IjAxMjM0NTY3ODki.Zm9v.YmFy"
    elif token == "another session's":
        other = Visitor(base)
        other.login("Ben Carter")
        data["csrf_token"] = other.csrf_token()
    calls = t.stats(tenant)["management_calls_total"]
    response = ada.post(path, data, allow_redirects=False)
    assert response.status_code == 400
    assert "Traceback" not in response.text
    # Nothing happened: still signed in, nothing written, not sent to Auth0.
    assert ada.get("/account/", allow_redirects=False).status_code == 200
    assert t.stats(tenant)["management_calls_total"] == calls
    assert t.identity_keys(tenant, t.ADA) == [t.ADA, t.ADA_GOOGLE, t.ADA_GITHUB, t.ADA_SAML]


def test_the_same_posts_with_the_pages_own_token_go_through(ada, tenant):
    # Control for the CSRF refusals: the forms' real tokens are accepted.
    token = ada.csrf_token()
    refreshed = ada.post("/account/refresh", {"csrf_token": token})
    assert refreshed.url.split("?")[0].endswith("/account/")
    assert "up to date" in refreshed.text
    assert (
        ada.post("/account/logout", {"csrf_token": token}, allow_redirects=False).status_code == 302
    )
    assert ada.get("/account/", allow_redirects=False).status_code == 302


# --- open redirects -----------------------------------------------------------------------

HOSTILE_NEXT = [
    "//evil.test",
    "///evil.test",
    "https://evil.test",
    "http:evil.test",
    "/\\evil.test",
    "\\\\evil.test",
    "/\t/evil.test",
    " //evil.test",
    "javascript:alert(1)",
    "%2F%2Fevil.test",
    "/%2F%2Fevil.test%5C",
    "/ok\r\nSet-Cookie:x=1",
    "evil.test",
]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_safe_next_accepts_only_a_path_on_this_site(target):
    assert safe_next(target) in (None, target)
    if safe_next(target):
        # What is let through must be a plain path that no browser reads as another host.
        assert target.startswith("/") and not target.startswith(("//", "/\\"))
        assert not any(c in target for c in "\r\n\t\\ ")


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_login_with_a_hostile_next_lands_on_this_site(base, target):
    http = requests.Session()
    authorize = start_login(http, base, "?next=" + quote(target, safe=""))
    landing = http.get(callback_url(http, authorize, "Ada Lovelace"), timeout=10)
    for hop in landing.history:  # every redirect after the callback stays on this origin
        location = requests.compat.urljoin(hop.url, hop.headers["Location"])
        assert location.startswith(base + "/"), location
    assert landing.url.startswith(base + "/")
    assert "x" not in http.cookies  # no header was injected
    if safe_next(target) is None:
        assert landing.status_code == 200 and landing.url.split("?")[0] == base + "/account/"


def test_login_with_a_path_on_this_site_lands_there(base):
    http = requests.Session()
    query = "?next=" + quote(f"/account/unlink?identity={t.ADA_GITHUB}", safe="")
    authorize = start_login(http, base, query)
    landing = http.get(callback_url(http, authorize, "Ada Lovelace"), timeout=10)
    assert landing.url.startswith(base + "/account/unlink?identity=")
    assert "Unlink GitHub" in landing.text


# --- forged, replayed and mismatched OpenID Connect callbacks ---------------------------


def refused_without_a_session(http: requests.Session, base: str, response) -> None:
    assert 400 <= response.status_code < 600, response.status_code
    assert "Sign-in did not complete" in response.text, response.text[:500]
    assert "Traceback" not in response.text and "File &#34;" not in response.text
    assert_signed_out(http, base)


def test_a_callback_with_a_state_this_browser_never_sent_is_refused(base):
    http = requests.Session()
    authorize = start_login(http, base)
    url = callback_url(http, authorize, "Ada Lovelace")
    forged = url.replace(authorize_params(authorize)["state"], "forged-state-value")
    refused_without_a_session(http, base, http.get(forged, timeout=10))


def test_a_callback_from_another_browser_is_refused(base):
    # Login CSRF: the attacker's own code and state, delivered to the victim's browser.
    attacker = requests.Session()
    url = callback_url(attacker, start_login(attacker, base), "Ben Carter")
    victim = requests.Session()
    start_login(victim, base)
    refused_without_a_session(victim, base, victim.get(url, timeout=10))


def test_replaying_a_used_callback_url_is_refused_and_leaves_the_session_alone(base, tenant):
    http = requests.Session()
    url = callback_url(http, start_login(http, base), "Ada Lovelace")
    assert http.get(url, timeout=10).url == base + "/account/"
    tokens_issued = t.stats(tenant)["token_requests"]
    replay = http.get(url, timeout=10)
    assert replay.status_code == 400 and "Sign-in did not complete" in replay.text
    assert "already used or has expired" in replay.text
    # Refused by the trip's absence alone: it never reaches Auth0's token endpoint, and a
    # replayed link cannot sign anyone out. (Sign-in cleared the session, trips and all; the link
    # replay below is the one that needs the trip popped on use.)
    assert t.stats(tenant)["token_requests"] == tokens_issued
    assert http.get(f"{base}/account/", allow_redirects=False, timeout=10).status_code == 200


def test_replaying_a_used_link_callback_is_refused_before_it_reaches_auth0(base, tenant):
    # Sign-in clears the session, trips and all; a link trip does not: only popping it on use
    # stops a second callback from running the trip's handler again.
    ben = Visitor(base)
    ben.login("Ben Carter")
    linked = ben.link("Link another account", "Grace Hopper")
    assert "is now linked" in linked.text
    url = next(r.url for r in linked.history if urlsplit(r.url).path == "/account/callback")
    tokens_issued = t.stats(tenant)["token_requests"]
    replay = ben.http.get(url, timeout=10)
    assert replay.status_code == 400 and "already used or has expired" in replay.text
    assert t.stats(tenant)["token_requests"] == tokens_issued
    assert t.identity_keys(tenant, t.BEN) == [t.BEN, t.GRACE]
    assert ben.get("/account/", allow_redirects=False).status_code == 200


def test_an_error_returned_by_auth0_is_refused(base):
    http = requests.Session()
    state = authorize_params(start_login(http, base))["state"]
    response = http.get(
        f"{base}/account/callback",
        params={
            "error": "access_denied",
            "error_description": "User did not authorize the request",
            "state": state,
        },
        timeout=10,
    )
    refused_without_a_session(http, base, response)
    assert "cancelled" in response.text


def tenant_key(tenant_app) -> RSAKey:
    return tenant_app.extensions["devtenant"].keys.signing


def id_token_claims(tenant: str, nonce: str, **changes) -> dict:
    now = int(time.time())
    claims = {
        "iss": f"{tenant}/",
        "sub": t.ADA,
        "aud": "dev-client",
        "iat": now,
        "exp": now + 3600,
        "auth_time": now,
        "nonce": nonce,
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "email_verified": True,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def sign(claims: dict, key: RSAKey, kid: str) -> str:
    return jwt.encode({"alg": "RS256", "typ": "JWT", "kid": kid}, claims, key, algorithms=["RS256"])


def access_token(tenant: str, key: RSAKey) -> str:
    now = int(time.time())
    claims = {
        "iss": f"{tenant}/",
        "sub": t.ADA,
        "aud": [f"{tenant}/api/v2/", f"{tenant}/userinfo"],
        "azp": "dev-client",
        "scope": "openid profile email read:current_user update:current_user_identities",
        "iat": now,
        "exp": now + 3600,
    }
    return sign(claims, key, str(key.kid))


def login_with_id_token(http: requests.Session, base: str, tenant: str, tenant_app, forge):
    """Log in, with the tenant's token endpoint answering an ID token built by `forge(nonce)`."""
    authorize = start_login(http, base)
    nonce = authorize_params(authorize)["nonce"]
    url = callback_url(http, authorize, "Ada Lovelace")
    body = {
        "access_token": access_token(tenant, tenant_key(tenant_app)),
        "id_token": forge(nonce),
        "token_type": "Bearer",
        "expires_in": 3600,
    }
    t.fault(tenant, "token", status=200, body=body, times=1)
    return http.get(url, timeout=10)


def test_control_an_id_token_built_here_and_signed_by_the_tenant_is_accepted(
    base, tenant, tenant_app
):
    # Proves the forgeries below fail for their one defect, not for how they were delivered.
    key = tenant_key(tenant_app)
    http = requests.Session()
    landing = login_with_id_token(
        http,
        base,
        tenant,
        tenant_app,
        lambda nonce: sign(id_token_claims(tenant, nonce), key, str(key.kid)),
    )
    assert landing.status_code == 200 and landing.url.split("?")[0] == base + "/account/"
    assert http.get(f"{base}/account/", allow_redirects=False, timeout=10).status_code == 200


def other_key() -> RSAKey:
    return RSAKey.generate_key(2048, private=True)


FORGERIES = {
    "wrong nonce": lambda tenant, key, nonce: sign(
        id_token_claims(tenant, "not-the-nonce-sent"), key, str(key.kid)
    ),
    "no nonce": lambda tenant, key, nonce: sign(id_token_claims(tenant, None), key, str(key.kid)),
    "wrong iss": lambda tenant, key, nonce: sign(
        id_token_claims(tenant, nonce, iss="https://evil.test/"), key, str(key.kid)
    ),
    "wrong aud": lambda tenant, key, nonce: sign(
        id_token_claims(tenant, nonce, aud="another-client"), key, str(key.kid)
    ),
    "signed by another key under the tenant's kid": lambda tenant, key, nonce: sign(
        id_token_claims(tenant, nonce), other_key(), str(key.kid)
    ),
    "signed by another key with its own kid": lambda tenant, key, nonce: sign(
        id_token_claims(tenant, nonce), other_key(), "attacker-kid"
    ),
    "alg none": lambda tenant, key, nonce: unsigned_jwt(id_token_claims(tenant, nonce)),
    "expired beyond the leeway": lambda tenant, key, nonce: sign(
        id_token_claims(tenant, nonce, iat=int(time.time()) - 4000, exp=int(time.time()) - 300),
        key,
        str(key.kid),
    ),
    "not a JWT": lambda tenant, key, nonce: "not-a-jwt",
}


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_a_forged_id_token_is_refused_and_no_session_is_created(
    app, base, tenant, tenant_app, forgery
):
    key = tenant_key(tenant_app)
    http = requests.Session()
    response = login_with_id_token(
        http, base, tenant, tenant_app, lambda nonce: FORGERIES[forgery](tenant, key, nonce)
    )
    refused_without_a_session(http, base, response)
    sid = http.cookies.get(COOKIE)
    assert sid is None or not (stored(app, sid) or {}).get("linked_accounts")


def test_a_token_response_without_an_id_token_is_refused(base, tenant, tenant_app):
    http = requests.Session()
    authorize = start_login(http, base)
    url = callback_url(http, authorize, "Ada Lovelace")
    body = {
        "access_token": access_token(tenant, tenant_key(tenant_app)),
        "token_type": "Bearer",
        "expires_in": 3600,
    }
    t.fault(tenant, "token", status=200, body=body, times=1)
    refused_without_a_session(http, base, http.get(url, timeout=10))


def test_refusal_pages_never_echo_the_forged_token(base, tenant, tenant_app):
    forged = unsigned_jwt({"sub": t.ADA, "nonce": "x"})
    http = requests.Session()
    response = login_with_id_token(http, base, tenant, tenant_app, lambda nonce: forged)
    assert response.status_code >= 400
    assert forged not in response.text and forged.split(".")[1] not in str(response.headers)


# --- cookies that name other entries of the store -------------------------------------------


def crafted_cookies(app, ada_sid: str) -> list[str]:
    """Cookie values naming what the store keeps besides sessions, or a session other than the
    one issued: the identities cache entry by its old and new names, a lock, another folder, a
    prefixed or altered id."""
    with app.test_request_context():
        entry = identity_cache.entry_key(t.ADA)
        flight = single_flight.PREFIX + identity_cache.flight_key(t.ADA)
    old_entry = "identities:" + hashlib.sha256(t.ADA.encode()).hexdigest()  # GitHub subs are public
    return [
        old_entry,
        entry,
        side.PREFIX + entry,
        "linked-accounts:" + entry,
        flight,
        "../linked-accounts-side/" + hashlib.sha256(entry.encode()).hexdigest(),
        "../sessions-pending/x",
        "linked-accounts:" + ada_sid,
        ada_sid + "A",
        ada_sid[:-1],
        ada_sid[:-1] + ":",
        "x" * 4096,
    ]


def test_no_cookie_can_name_a_cached_list_a_lock_or_another_session(
    make_app, serve, tenant, session_store
):
    app = make_app(REDIS_URL=session_store)
    base = serve(app)
    ada = Visitor(base)
    ada.login()  # her first view reads her identities and caches them
    store = side_store(app)
    with app.test_request_context():
        entry_key = identity_cache.entry_key(t.ADA)
    entry = store.get(entry_key)
    assert entry["user_id"] == t.ADA
    ada_sid = ada.http.cookies[COOKIE]
    calls = t.stats(tenant)["management_calls"][t.ADA]
    for crafted in crafted_cookies(app, ada_sid):
        attacker = requests.Session()
        attacker.cookies.set(COOKIE, crafted, domain="127.0.0.1", path="/")
        # A login writes the session the cookie names (its trip); a view reads it.
        start = attacker.get(f"{base}/account/login", allow_redirects=False, timeout=10)
        assert start.status_code == 302, crafted
        issued = attacker.cookies.get(COOKIE)
        assert issued != crafted and re.fullmatch(r"[A-Za-z0-9_-]{43}", issued), crafted
        view = attacker.get(f"{base}/account/", allow_redirects=False, timeout=10)
        assert view.status_code == 302, crafted  # nobody is signed in on that cookie
        assert store.get(entry_key) == entry, crafted
    page = ada.get("/account/")
    assert page.status_code == 200 and len(unlink_buttons(page.text)) == 3
    assert t.stats(tenant)["management_calls"][t.ADA] == calls  # her cached list, unharmed
    assert stored(app, ada_sid)["linked_accounts"]["user_id"] == t.ADA


def test_a_stored_entry_that_does_not_parse_counts_as_absent(
    make_app, serve, tenant, session_store
):
    app = make_app(REDIS_URL=session_store)
    ada = Visitor(serve(app))
    ada.login()
    with app.test_request_context():
        entry_key = identity_cache.entry_key(t.ADA)
    garbage = b"\x80\x04not json, not msgpack, not a pickle"
    overwrite(app, session_store, side.PREFIX + entry_key, "linked-accounts-side", garbage)
    calls = t.stats(tenant)["management_calls"][t.ADA]
    page = ada.get("/account/")
    assert page.status_code == 200 and len(unlink_buttons(page.text)) == 3
    assert t.stats(tenant)["management_calls"][t.ADA] == calls + 1  # read again, not served
    sid = ada.http.cookies[COOKIE]
    overwrite(app, session_store, "linked-accounts:" + sid, "sessions", garbage)
    assert stored(app, sid) is None
    assert_signed_out(ada.http, ada.base)


def overwrite(app, redis_url: str, key: str, folder: str, raw: bytes) -> None:
    """Replace an entry's stored bytes: the Redis key, or every file of the folder."""
    if redis_url:
        client = redis.Redis.from_url(redis_url)
        assert client.exists(key)
        client.set(key, raw)
        client.close()
        return
    path = os.path.join(app.instance_path, folder)
    names = [n for n in os.listdir(path) if not n.startswith((".", "__wz_cache"))]
    assert names
    for name in names:
        with open(os.path.join(path, name), "wb") as f:
            f.write(raw)


def test_a_session_stored_by_the_previous_release_keeps_its_start(make_app, redis_url):
    import msgspec

    from linked_accounts.storage.rules import STARTED

    app = make_app(REDIS_URL=redis_url)
    sid = "A" * 43
    started = time.time() - 8 * 3600 - 5  # over: the previous release stored its start here
    old = {"_permanent": True, "linked_accounts.session_started_at": started, "csrf_token": "t"}
    client = redis.Redis.from_url(redis_url)
    client.set("linked-accounts:" + sid, msgspec.msgpack.encode(old), ex=60)
    assert stored(app, sid) is None  # ended, not restarted by the new name
    old["linked_accounts.session_started_at"] = started = time.time() - 60
    client.set("linked-accounts:" + sid, msgspec.msgpack.encode(old), ex=60)
    assert stored(app, sid)[STARTED] == started
    client.close()


def test_the_authlib_entries_the_page_drops_are_named_after_its_registered_client(app, base):
    assert app.extensions["linked_accounts"].auth0.name == keys.AUTHLIB_CLIENT
    http = requests.Session()
    state = authorize_params(start_login(http, base))["state"]
    data = stored(app, http.cookies[COOKIE])
    assert keys.authlib_state(state) in data
    # Of everything the session holds (the CSRF token, the start stamp...), only these are its.
    owned = keys.owned(data, data[keys.PENDING_TRIPS])
    assert sorted(owned) == sorted([keys.PENDING_TRIPS, keys.authlib_state(state)])
