"""The development tenant's OIDC side, driven over real HTTP."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.support.tenant_api import ADA, BEN, GRACE, auth, claims, http, user_url
from tests.support.tenant_login import (
    CALLBACK,
    LoginError,
    authorize_params,
    callback_params,
    login,
    parse_login_page,
    pkce_pair,
)


def get_authorize(
    tenant: str, session: requests.Session | None = None, **extra
) -> requests.Response:
    """GET /authorize without following redirects."""
    return (session or http).get(
        f"{tenant}/authorize", params=authorize_params(tenant, **extra), allow_redirects=False
    )


def start_code(tenant: str, account: str, session: requests.Session, **extra) -> tuple[str, str]:
    """Log in through the page; return (code, verifier) without exchanging it."""
    verifier, challenge = pkce_pair()
    params = authorize_params(tenant, code_challenge=challenge, **extra)
    page_response = session.get(f"{tenant}/authorize", params=params, allow_redirects=False)
    page = parse_login_page(page_response.text)
    name, value = page.button(f"Continue as {account}")
    back = session.post(
        f"{tenant}{page.action}", data={**page.hidden, name: value}, allow_redirects=False
    )
    return callback_params(back, CALLBACK)["code"], verifier


def exchange(tenant: str, code: str, verifier: str, **overrides) -> requests.Response:
    """POST /oauth/token for a code (client_secret_post unless overridden)."""
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "code_verifier": verifier,
        "client_id": "dev-client",
        "client_secret": "dev-client-secret",
    }
    data.update(overrides)
    return http.post(f"{tenant}/oauth/token", data={k: v for k, v in data.items() if v})


def test_discovery_document(tenant):
    doc = http.get(f"{tenant}/.well-known/openid-configuration").json()
    iss = f"{tenant}/"
    assert doc["issuer"] == iss
    assert doc["authorization_endpoint"] == f"{iss}authorize"
    assert doc["token_endpoint"] == f"{iss}oauth/token"
    assert doc["userinfo_endpoint"] == f"{iss}userinfo"
    assert doc["jwks_uri"] == f"{iss}.well-known/jwks.json"
    assert doc["end_session_endpoint"] == f"{iss}oidc/logout"
    assert doc["response_types_supported"] == ["code"]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert set(doc["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
    }


def test_jwks_has_two_keys_and_tokens_verify_only_with_their_kid(tenant):
    keys = http.get(f"{tenant}/.well-known/jwks.json").json()["keys"]
    assert len(keys) == 2
    assert all(k["kty"] == "RSA" and "d" not in k and k["kid"] for k in keys)
    assert keys[0]["kid"] != keys[1]["kid"]
    id_token = login(tenant, "Ada Lovelace", audience=None)["id_token"]
    kid = jwt.decode(id_token, KeySet.import_key_set({"keys": keys})).header["kid"]
    (signing,) = [k for k in keys if k["kid"] == kid]
    (other,) = [k for k in keys if k["kid"] != kid]
    assert jwt.decode(id_token, KeySet.import_key_set({"keys": [signing]})).claims["sub"] == ADA
    wrong = {**other, "kid": kid}  # same kid, wrong key: the signature must not verify
    with pytest.raises(Exception, match="signature"):
        jwt.decode(id_token, KeySet.import_key_set({"keys": [wrong]}))


@pytest.mark.parametrize(
    "extra",
    [
        {"client_id": "nope"},
        {"redirect_uri": "https://evil.example/callback"},
        {"redirect_uri": "https://127.0.0.1:5999/callback"},
        {"redirect_uri": "http://127.0.0.1.evil.example/callback"},
        {"redirect_uri": None},
        {"client_id": "dev-m2m"},
    ],
)
def test_authorize_untrusted_client_or_callback_gets_400_page_not_redirect(tenant, extra):
    response = get_authorize(tenant, **extra)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert response.headers["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("uri", ["http://localhost:1234/cb", "http://[::1]:8080/x?y=1"])
def test_authorize_allows_any_loopback_callback(tenant, uri):
    response = get_authorize(tenant, redirect_uri=uri)
    assert response.status_code == 200
    assert "Continue as Ada Lovelace" in response.text


@pytest.mark.parametrize(
    ("extra", "error", "description"),
    [
        ({"code_challenge": None}, "invalid_request", None),
        ({"code_challenge_method": "plain"}, "invalid_request", None),
        ({"code_challenge_method": None}, "invalid_request", None),
        ({"response_type": "token"}, "unsupported_response_type", None),
        (
            {"audience": "https://api.example/"},
            "access_denied",
            "Service not found: https://api.example/",
        ),
        ({"connection": "facebook"}, "invalid_request", None),
        ({"prompt": "none"}, "login_required", None),
    ],
)
def test_authorize_errors_go_back_on_the_redirect(tenant, extra, error, description):
    response = get_authorize(tenant, **extra)
    params = callback_params(response, CALLBACK)
    assert params["error"] == error
    assert params["state"] == "st-123"
    assert "code" not in params
    if description:
        assert params["error_description"] == description


def test_login_page_is_a_plain_accessible_page(tenant):
    response = get_authorize(tenant)
    html = response.text
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "script-src 'none'" in response.headers["Content-Security-Policy"]
    assert '<html lang="en">' in html
    assert re.search(r"<title>[^<]+</title>", html)
    assert re.search(r"<h1>[^<]+</h1>", html)
    assert "Development tenant — not Auth0" in html
    assert "<script" not in html and "style=" not in html
    (css,) = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert css.startswith("/static/devtenant/")
    css_response = http.get(f"{tenant}{css}")
    assert css_response.status_code == 200 and "text/css" in css_response.headers["Content-Type"]
    assert 'name="viewport"' in html
    page = parse_login_page(html)
    assert page.account_names() == [
        "Continue as Ada Lovelace",
        "Continue as Ben Carter",
        "Continue as Grace Hopper",
        "Continue as Linus Google",
        "Continue as Eve Unverified",
        "Continue as Maya Patel",
        "Continue as maya-patel",
        "Continue as M. Patel",
    ]
    assert set(page.hidden) == {"txn", "csrf"}
    assert page.button("Cancel") == ("action", "cancel")


def test_connection_lists_identities_on_that_connection_and_login_hint_goes_first(tenant):
    page = parse_login_page(get_authorize(tenant, connection="github").text)
    github = ["Continue as Ada Lovelace", "Continue as Grace Hopper", "Continue as maya-patel"]
    assert page.account_names() == github
    hinted = parse_login_page(
        get_authorize(tenant, connection="github", login_hint="grace@example.com").text
    )
    assert hinted.account_names() == [github[1], github[0], github[2]]
    saml = parse_login_page(get_authorize(tenant, connection="acme-saml").text)
    assert saml.account_names() == ["Continue as Ada Lovelace"]


def test_cancel_returns_access_denied_with_state(tenant):
    page = parse_login_page(get_authorize(tenant).text)
    back = http.post(
        f"{tenant}{page.action}", data={**page.hidden, "action": "cancel"}, allow_redirects=False
    )
    params = callback_params(back, CALLBACK)
    assert params == {
        "error": "access_denied",
        "error_description": "User cancelled the login",
        "state": "st-123",
    }


def test_login_form_rejects_a_bad_csrf_value_and_a_reused_transaction(tenant):
    page = parse_login_page(get_authorize(tenant).text)
    name, value = page.button("Continue as Ben Carter")
    forged = http.post(
        f"{tenant}{page.action}",
        data={**page.hidden, "csrf": "forged", name: value},
        allow_redirects=False,
    )
    assert forged.status_code == 403 and "Location" not in forged.headers
    ok = http.post(
        f"{tenant}{page.action}", data={**page.hidden, name: value}, allow_redirects=False
    )
    assert "code" in callback_params(ok, CALLBACK)
    again = http.post(
        f"{tenant}{page.action}", data={**page.hidden, name: value}, allow_redirects=False
    )
    assert again.status_code == 400 and "Location" not in again.headers


def test_logging_in_with_a_linked_secondary_gives_the_primary_sub(tenant):
    tokens = login(tenant, "Ada Lovelace", extra_params={"connection": "github"})
    assert claims(tokens["id_token"])["sub"] == ADA
    assert claims(tokens["access_token"])["sub"] == ADA
    grace = login(tenant, "Grace Hopper", extra_params={"connection": "github"})
    assert claims(grace["id_token"])["sub"] == GRACE


def test_sso_cookie_and_silent_login(tenant):
    session = requests.Session()
    login(tenant, "Ben Carter", session=session)
    (cookie,) = list(session.cookies)
    assert cookie.name == "devtenant_sso" and cookie.path == "/"
    assert cookie.has_nonstandard_attr("HttpOnly")
    set_cookie = session.get(f"{tenant}/authorize", params=authorize_params(tenant, prompt="login"))
    assert set_cookie.status_code == 200  # prompt=login always shows the page
    # No prompt: SSO skips the page; prompt=none works too.
    assert claims(login(tenant, None, session=session)["id_token"])["sub"] == BEN
    silent = login(tenant, None, session=session, extra_params={"prompt": "none"})
    assert claims(silent["id_token"])["sub"] == BEN
    # A different connection is not satisfied by this session.
    with pytest.raises(LoginError) as caught:
        login(
            tenant, None, session=session, extra_params={"prompt": "none", "connection": "github"}
        )
    assert caught.value.error == "login_required"


def test_set_cookie_header_flags(tenant):
    page = parse_login_page(get_authorize(tenant).text)
    name, value = page.button("Continue as Ben Carter")
    back = http.post(
        f"{tenant}{page.action}", data={**page.hidden, name: value}, allow_redirects=False
    )
    header = back.headers["Set-Cookie"]
    assert header.startswith("devtenant_sso=")
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/" in header
    assert "session=" not in header.replace("devtenant_sso=", "")


def test_auth_time_only_with_prompt_login_or_max_age(tenant):
    session = requests.Session()
    plain = claims(login(tenant, "Ada Lovelace", session=session)["id_token"])
    assert "auth_time" not in plain
    forced = claims(
        login(tenant, "Ada Lovelace", session=session, extra_params={"prompt": "login"})["id_token"]
    )
    assert abs(forced["auth_time"] - forced["iat"]) <= 1
    # max_age satisfied by the session: no page, auth_time is the session's.
    http.post(f"{tenant}/__dev/clock", json={"offset": 120})
    aged = claims(
        login(tenant, None, session=session, extra_params={"max_age": "3600"})["id_token"]
    )
    assert aged["auth_time"] == forced["auth_time"]
    assert aged["iat"] >= forced["auth_time"] + 119
    # max_age the session does not satisfy shows the page again; prompt=none fails.
    with pytest.raises(LoginError) as caught:
        login(tenant, None, session=session, extra_params={"max_age": "60", "prompt": "none"})
    assert caught.value.error == "login_required"
    page = session.get(f"{tenant}/authorize", params=authorize_params(tenant, max_age="0"))
    assert "Continue as Ada Lovelace" in page.text


def test_token_response_shape_and_claims(tenant):
    body = login(tenant, "Ada Lovelace")
    assert set(body) == {"access_token", "id_token", "scope", "expires_in", "token_type"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 86400
    access = claims(body["access_token"])
    iss = f"{tenant}/"
    assert access["iss"] == iss and access["azp"] == "dev-client"
    assert access["aud"] == [f"{iss}api/v2/", f"{iss}userinfo"]
    assert access["exp"] - access["iat"] == 86400
    assert access["scope"] == body["scope"]
    ident = claims(body["id_token"])
    assert ident["aud"] == "dev-client" and ident["iss"] == iss
    assert ident["email"] == "ada@example.com" and ident["email_verified"] is True
    assert ident["name"] == "Ada Lovelace" and "nonce" in ident
    assert ident["exp"] - ident["iat"] == 36000


def test_only_current_user_scopes_are_granted(tenant):
    body = login(tenant, "Ben Carter", scope="openid read:users read:current_user delete:users")
    assert body["scope"] == "openid read:current_user"
    assert claims(body["access_token"])["scope"] == "openid read:current_user"
    only_openid = claims(login(tenant, "Ben Carter", scope="openid")["id_token"])
    assert "email" not in only_openid and "name" not in only_openid


def test_without_audience_the_access_token_is_opaque_and_only_good_at_userinfo(tenant):
    body = login(tenant, "Ben Carter", audience=None)
    token = body["access_token"]
    assert token.count(".") != 2
    info = http.get(f"{tenant}/userinfo", headers=auth(token))
    assert info.status_code == 200
    assert info.json()["sub"] == BEN and info.json()["email"] == "ben@example.com"
    api = http.get(user_url(tenant, BEN), headers=auth(token))
    assert api.status_code == 401 and api.json()["message"] == "Invalid token"


def test_userinfo_accepts_the_api_jwt_and_is_limited_to_five_per_minute(tenant):
    token = login(tenant, "Ada Lovelace")["access_token"]
    for _ in range(5):
        assert http.get(f"{tenant}/userinfo", headers=auth(token)).status_code == 200
    limited = http.get(f"{tenant}/userinfo", headers=auth(token))
    assert limited.status_code == 429
    assert limited.headers["x-ratelimit-remaining"] == "0"
    assert http.get(f"{tenant}/userinfo", headers=auth("garbage")).status_code == 401


def test_wrong_client_secret_is_401(tenant):
    code, verifier = start_code(tenant, "Ben Carter", requests.Session())
    response = exchange(tenant, code, verifier, client_secret="wrong")
    assert response.status_code == 401
    assert response.json() == {"error": "access_denied", "error_description": "Unauthorized"}


def test_client_secret_basic_works_and_code_is_single_use(tenant):
    code, verifier = start_code(tenant, "Ben Carter", requests.Session())
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "code_verifier": verifier,
    }
    basic = ("dev-client", "dev-client-secret")
    first = http.post(f"{tenant}/oauth/token", data=data, auth=basic)
    assert first.status_code == 200 and "id_token" in first.json()
    replay = http.post(f"{tenant}/oauth/token", data=data, auth=basic)
    assert replay.status_code == 403
    assert replay.json() == {
        "error": "invalid_grant",
        "error_description": "Invalid authorization code",
    }


@pytest.mark.parametrize(
    "override",
    [
        {"code_verifier": "x" * 50},
        {"code_verifier": None},
        {"redirect_uri": "http://127.0.0.1:5999/other"},
    ],
)
def test_code_exchange_needs_the_verifier_and_redirect_uri(tenant, override):
    code, verifier = start_code(tenant, "Ben Carter", requests.Session())
    response = exchange(tenant, code, verifier, **override)
    assert response.status_code == 403
    assert response.json()["error"] == "invalid_grant"


def test_code_expires_after_60_seconds(tenant):
    code, verifier = start_code(tenant, "Ben Carter", requests.Session())
    http.post(f"{tenant}/__dev/clock", json={"offset": 61})
    response = exchange(tenant, code, verifier)
    assert response.status_code == 403 and response.json()["error"] == "invalid_grant"


def test_client_credentials(tenant):
    data = {
        "grant_type": "client_credentials",
        "client_id": "dev-m2m",
        "client_secret": "dev-m2m-secret",
        "audience": f"{tenant}/api/v2/",
    }
    body = http.post(f"{tenant}/oauth/token", data=data).json()
    token = claims(body["access_token"])
    assert token["sub"] == "dev-m2m@clients" and token["gty"] == "client-credentials"
    assert token["azp"] == "dev-m2m"
    assert set(token["scope"].split()) == {
        "read:users",
        "delete:users",
        "update:users",
        "update:users_app_metadata",
        # The connections' display names (LINKED_ACCOUNTS_CONNECTION_DISPLAY_NAMES).
        "read:connections",
        # What `flask linked-accounts install-action` needs to deploy and bind the Action.
        "read:actions",
        "create:actions",
        "update:actions",
        "delete:actions",
    }
    no_audience = http.post(f"{tenant}/oauth/token", data={**data, "audience": ""})
    assert no_audience.status_code == 403 and no_audience.json()["error"] == "access_denied"
    web = http.post(
        f"{tenant}/oauth/token",
        data={**data, "client_id": "dev-client", "client_secret": "dev-client-secret"},
    )
    assert web.status_code == 403 and web.json()["error"] == "unauthorized_client"


def test_v2_logout_clears_sso_and_checks_return_to(tenant):
    session = requests.Session()
    login(tenant, "Ben Carter", session=session)
    bad = session.get(
        f"{tenant}/v2/logout",
        params={"client_id": "dev-client", "returnTo": "https://evil.example/"},
        allow_redirects=False,
    )
    assert bad.status_code == 400 and "Location" not in bad.headers
    login(tenant, "Ben Carter", session=session)
    out = session.get(
        f"{tenant}/v2/logout",
        params={"client_id": "dev-client", "returnTo": "http://127.0.0.1:5999/"},
        allow_redirects=False,
    )
    assert out.status_code == 302 and out.headers["Location"] == "http://127.0.0.1:5999/"
    with pytest.raises(LoginError) as caught:
        login(tenant, None, session=session, extra_params={"prompt": "none"})
    assert caught.value.error == "login_required"


def test_oidc_logout_accepts_an_expired_hint_but_not_a_forged_one(tenant):
    session = requests.Session()
    id_token = login(tenant, "Ben Carter", session=session)["id_token"]
    http.post(f"{tenant}/__dev/clock", json={"offset": 100000})
    out = session.get(
        f"{tenant}/oidc/logout",
        params={
            "id_token_hint": id_token,
            "post_logout_redirect_uri": "http://127.0.0.1:5999/bye",
            "state": "s1",
        },
        allow_redirects=False,
    )
    assert out.status_code == 302
    location = urlsplit(out.headers["Location"])
    assert location.path == "/bye" and parse_qs(location.query) == {"state": ["s1"]}
    with pytest.raises(LoginError):
        login(tenant, None, session=session, extra_params={"prompt": "none"})
    head, payload, sig = id_token.split(".")
    forged = f"{head}.{payload}.{sig[:-4]}AAAA"
    bad = http.get(
        f"{tenant}/oidc/logout",
        params={"id_token_hint": forged, "post_logout_redirect_uri": "http://127.0.0.1:5999/"},
        allow_redirects=False,
    )
    assert bad.status_code == 400
