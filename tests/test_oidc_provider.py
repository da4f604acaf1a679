"""The app signs in against a real third-party OpenID Provider: panva's `oidc-provider` (npm).

The development tenant is ours, so it could share our misreadings of the specs; oidc-provider is
OpenID Certified and strict (PKCE required here, client secret checked, exact redirect URI). It
does not serve Auth0's Management API, so these tests stop at login, callback and the logout
redirect: the settings page behind them needs /api/v2 and is covered against the dev tenant.
What they show about a standard OP: Auth0's `audience` parameter is ignored (not refused), the
access token may be opaque, and the profile is read from the ID token.

The provider runs with `node tests/oidc_provider/provider.js`; `make test` installs it with
`npm ci --prefix tests/oidc_provider`. Under CI=true a missing node or install fails the run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import session
from flask_wtf.csrf import generate_csrf

from app import create_app
from tests.support.app_session import stored_session
from tests.support.forms import submit
from tests.support.servers import free_port, serving, wait_for

PROVIDER_DIR = Path(__file__).parent / "oidc_provider"
CLIENT = {"AUTH0_CLIENT_ID": "op-client", "AUTH0_CLIENT_SECRET": "op-client-secret"}


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}, and CI must run the third-party OpenID Provider tests")
    pytest.skip(reason)


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        _unavailable("node is not installed")
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        _unavailable("oidc-provider is not installed (npm ci --prefix tests/oidc_provider)")
    return node


@pytest.fixture(scope="module")
def provider_app(app_config) -> Iterator[tuple[object, str, str]]:
    """(app, app base URL, issuer): the app configured for oidc-provider, both running."""
    node = _node()
    issuer = f"http://127.0.0.1:{free_port()}"
    app = create_app({**app_config, **CLIENT, "AUTH0_DOMAIN": issuer})
    with serving(app) as base:
        port = urlsplit(issuer).port
        process = subprocess.Popen(
            [node, "provider.js", str(port), f"{base}/account/callback", f"{base}/"],
            cwd=PROVIDER_DIR,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            wait_for(f"{issuer}/.well-known/openid-configuration", process, seconds=20)
            yield app, base, issuer
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
            if process.stderr:
                process.stderr.close()


def sign_in(http: requests.Session, base: str, login: str) -> requests.Response:
    """Log in through oidc-provider's devInteractions: any login and password, then consent."""
    login_page = http.get(f"{base}/account/login", timeout=10)
    assert "Sign-in" in login_page.text, login_page.text[:500]
    consent = submit(http, login_page, "Sign-in", login=login, password="any password")
    assert "Authorize" in consent.text, consent.text[:500]
    return submit(http, consent, "Continue")


def test_login_against_oidc_provider_creates_a_session_from_its_id_token(provider_app):
    """Login, callback: Authlib checks state, PKCE, nonce and the ID token from a standard OP."""
    app, base, issuer = provider_app
    http = requests.Session()
    start = http.get(f"{base}/account/login", allow_redirects=False, timeout=10)
    query = parse_qs(urlsplit(start.headers["Location"]).query)
    assert start.headers["Location"].startswith(f"{issuer}/auth?")
    assert query["code_challenge_method"] == ["S256"] and query["nonce"]

    landing = sign_in(http, base, "grace")
    callback = next(r for r in landing.history if urlsplit(r.url).path == "/account/callback")
    assert callback.status_code == 302
    assert callback.headers["Location"] == "/account/"
    sid = http.cookies.get("session")
    stored = stored_session(app, sid)
    signed_in = stored["linked_accounts"]
    assert signed_in["user_id"] == "grace"  # the OP's sub
    assert signed_in["email"] == "grace@op.test"  # from the ID token (conformIdTokenClaims off)
    assert signed_in["name"] == "Test grace"
    assert signed_in["access_token"]
    assert isinstance(signed_in["auth_time"], int)  # max_age was sent, so auth_time came back
    assert signed_in["expires_at"] > time.time()
    # The settings page needs Auth0's Management API, which a plain OP does not have: the
    # session is there (no bounce to login) and the failure is a page, not a traceback.
    assert urlsplit(landing.url).path == "/account/"
    assert "Traceback" not in landing.text


def test_a_replayed_callback_from_oidc_provider_is_refused(provider_app):
    """The same code and state a second time: refused by the app, and the session it started
    is left alone (a replayed or forged callback is anyone's link: it must not sign out)."""
    app, base, _ = provider_app
    http = requests.Session()
    landing = sign_in(http, base, "ada")
    callback = next(r for r in landing.history if urlsplit(r.url).path == "/account/callback")
    replay = http.get(callback.url, timeout=10)
    assert replay.status_code == 400
    assert "Sign-in did not complete" in replay.text
    sid = http.cookies.get("session")
    assert stored_session(app, sid)["linked_accounts"]


def test_logout_ends_the_session_and_goes_to_the_ops_end_session_endpoint(provider_app):
    """Logout: RP-initiated logout at the OP's end_session_endpoint, which accepts our request."""
    app, base, issuer = provider_app
    http = requests.Session()
    sign_in(http, base, "linus")
    sid = http.cookies.get("session")
    out = http.post(
        f"{base}/account/logout",
        data={"csrf_token": csrf_token_for(app, sid)},
        allow_redirects=False,
        timeout=10,
    )
    assert out.status_code == 302
    location = out.headers["Location"]
    assert location.startswith(f"{issuer}/session/end?")
    query = parse_qs(urlsplit(location).query)
    assert query["post_logout_redirect_uri"] == [f"{base}/"]
    assert query["client_id"] == ["op-client"]
    assert "id_token_hint" not in query  # an ID token in a URL would land in logs and history
    assert stored_session(app, sid) is None
    # The OP accepts it (a registered post-logout URI for this client) and asks to confirm.
    confirm = http.get(location, timeout=10)
    assert confirm.status_code == 200, confirm.text[:500]
    assert 'name="logout"' in confirm.text
    assert http.get(f"{base}/account/", allow_redirects=False, timeout=10).status_code == 302


def csrf_token_for(app, sid: str) -> str:
    """A CSRF token bound to session `sid`, as a page's form would carry it.

    The pages behind login need the Management API, which oidc-provider lacks, so no form with
    a token can be fetched here: mint one for that session the way Flask-WTF does.
    """
    with app.test_request_context("/", headers={"Cookie": f"session={sid}"}):
        token = generate_csrf()
        app.session_interface.save_session(app, session._get_current_object(), app.response_class())
    return token
