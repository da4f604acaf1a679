"""PKCE as Auth0 asks for it: optional for a confidential client (it proves itself with its
secret), held to once sent, and required of a public client (a SPA or native app)."""

from __future__ import annotations

import pytest
import requests

from devtenant import create_app
from tests.support.servers import serving
from tests.support.tenant_api import ADA, claims, http
from tests.support.tenant_login import (
    CALLBACK,
    LoginError,
    authorize,
    authorize_params,
    login,
    pkce_pair,
)

CLIENTS = [
    {"client_id": "web", "client_secret": "web-secret", "allow_loopback": True},
    {"client_id": "spa", "app_type": "spa", "allow_loopback": True},
]


@pytest.fixture
def two_clients():
    """A tenant with a Regular Web Application and a Single-Page Application."""
    with serving(create_app({"DEVTENANT_CLIENTS": CLIENTS})) as url:
        yield url


def test_a_confidential_client_may_sign_in_without_pkce(tenant):
    body = login(tenant, "Ada Lovelace", pkce=False)
    assert claims(body["id_token"])["sub"] == ADA
    assert "read:current_user" in body["scope"].split()


def test_a_verifier_for_a_code_issued_without_a_challenge_is_refused(tenant):
    params = authorize_params(tenant, code_challenge=None, code_challenge_method=None)
    session = requests.Session()
    code = authorize(tenant, "Ada Lovelace", session=session, params=params, redirect_uri=CALLBACK)
    verifier, _ = pkce_pair()
    form = {
        "grant_type": "authorization_code",
        "code": code["code"],
        "redirect_uri": CALLBACK,
        "client_id": "dev-client",
        "client_secret": "dev-client-secret",
        "code_verifier": verifier,
    }
    # A PKCE downgrade (RFC 9700): the code was issued without a challenge.
    refused = http.post(f"{tenant}/oauth/token", data=form)
    assert refused.status_code == 403 and refused.json()["error"] == "invalid_grant"


def test_a_client_that_sends_a_challenge_must_verify_it(tenant):
    _, challenge = pkce_pair()
    with pytest.raises(LoginError) as caught:
        # The challenge in /authorize is not the one the (fresh) verifier hashes to.
        login(tenant, "Ada Lovelace", extra_params={"code_challenge": challenge})
    assert caught.value.error == "invalid_grant"
    assert caught.value.description == "Failed to verify code verifier"


def test_a_public_client_must_use_pkce(two_clients):
    with pytest.raises(LoginError) as caught:
        login(two_clients, "Ada Lovelace", client_id="spa", client_secret="", pkce=False)
    assert caught.value.error == "invalid_request"
    body = login(two_clients, "Ada Lovelace", client_id="spa", client_secret="")
    assert claims(body["id_token"])["aud"] == "spa"


def test_a_public_client_cannot_present_a_secret_and_a_confidential_one_must(two_clients):
    with pytest.raises(LoginError) as caught:
        login(two_clients, "Ada Lovelace", client_id="spa", client_secret="guess")
    assert caught.value.error == "access_denied"
    with pytest.raises(LoginError) as caught:
        login(two_clients, "Ada Lovelace", client_id="web", client_secret="", pkce=False)
    assert caught.value.error == "access_denied"
    assert login(two_clients, "Ada Lovelace", client_id="web", client_secret="web-secret")
