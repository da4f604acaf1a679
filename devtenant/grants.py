"""/oauth/token: the authorization_code grant (with PKCE when the login used it) and the
client_credentials grant, and their tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from typing import Any
from urllib.parse import unquote

from flask import Blueprint, Response, jsonify, request

from devtenant import tokens
from devtenant.clients import Client
from devtenant.responses import oauth_error
from devtenant.scopes import granted_scopes, profile_claims
from devtenant.state import TenantState, tenant

bp = Blueprint("grants", __name__)

PKCE_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")


def client_from_request(st: TenantState, form: dict[str, str]) -> Client | None:
    """Authenticate the client by client_secret_basic or client_secret_post (a public client
    by its id alone)."""
    auth = request.authorization
    if auth is not None and auth.type == "basic":
        client_id = unquote(auth.username or "")
        secret = unquote(auth.password or "")
    else:
        client_id, secret = form.get("client_id", ""), form.get("client_secret")
    client = st.clients.get(client_id)
    if client is None or not client.secret_matches(secret):
        return None
    return client


def token_params() -> dict[str, str]:
    """Token request parameters (form-encoded, or JSON as Auth0 also accepts)."""
    if request.is_json:
        data = request.get_json(silent=True)
        if isinstance(data, dict):
            return {str(k): str(v) for k, v in data.items() if v is not None}
        return {}
    return request.form.to_dict()


@bp.post("/oauth/token")
def token() -> Response:
    """The token endpoint: authorization_code and client_credentials."""
    st = tenant()
    form = token_params()
    client = client_from_request(st, form)
    if client is None:
        return oauth_error(401, "access_denied", "Unauthorized")
    grant = form.get("grant_type")
    if not grant:
        return oauth_error(400, "invalid_request", "Missing required parameter: grant_type")
    if grant == "authorization_code":
        return code_grant(st, client, form)
    if grant == "client_credentials":
        return client_credentials_grant(st, client, form)
    return oauth_error(400, "unsupported_grant_type", f"Unsupported grant type: {grant}")


def s256(verifier: str) -> str:
    """The S256 code challenge for a verifier."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def code_grant(st: TenantState, client: Client, form: dict[str, str]) -> Response:
    """Exchange a single-use code for tokens."""
    with st.lock:
        record = st.codes.get(form.get("code", ""))
        if record is None or record["used"] or record["client_id"] != client.client_id:
            return oauth_error(403, "invalid_grant", "Invalid authorization code")
        record["used"] = True  # single use, even if the rest of the request fails
    if st.now() > record["expires"]:
        return oauth_error(403, "invalid_grant", "Invalid authorization code")
    if form.get("redirect_uri") != record["redirect_uri"]:
        return oauth_error(
            403,
            "invalid_grant",
            "The redirect_uri MUST match the registered callback URL for this application.",
        )
    verifier = form.get("code_verifier")
    challenge = record["code_challenge"]
    if challenge is None and verifier is not None:
        # A verifier for a code issued without a challenge: a PKCE downgrade (RFC 9700 2.1.1).
        return oauth_error(403, "invalid_grant", "Failed to verify code verifier")
    if challenge is not None and (
        not PKCE_VERIFIER.match(verifier or "")
        or not hmac.compare_digest(s256(verifier or ""), challenge)
    ):
        return oauth_error(403, "invalid_grant", "Failed to verify code verifier")
    user = st.store.get(record["user_id"])
    if user is None:
        return oauth_error(403, "invalid_grant", "Invalid authorization code")
    return user_tokens(st, client, user, record)


def user_tokens(st: TenantState, client: Client, user: dict, record: dict) -> Response:
    """The token response for a user login."""
    iss = st.issuer()
    now = int(st.now())
    scopes = granted_scopes(record["scope"], record["audience"], st.withheld_scopes)
    lifetime = int(st.settings["access_token_lifetime"])
    if record["audience"]:
        aud: str | list[str] = record["audience"]
        if "openid" in scopes:
            aud = [record["audience"], f"{iss}userinfo"]
        access_token = tokens.sign(
            st.keys,
            {
                "iss": iss,
                "sub": user["user_id"],
                "aud": aud,
                "iat": now,
                "exp": now + lifetime,
                "scope": " ".join(scopes),
                "azp": client.client_id,
                **custom(record, "access_claims"),
            },
        )
    else:
        # Without an audience Auth0 gives an opaque token that only /userinfo accepts.
        access_token = secrets.token_urlsafe(32)
        with st.lock:
            st.opaque_tokens[access_token] = {
                "sub": user["user_id"],
                "scopes": scopes,
                "exp": now + lifetime,
            }
    body: dict[str, Any] = {
        "access_token": access_token,
        "scope": " ".join(scopes),
        "expires_in": lifetime,
        "token_type": "Bearer",
    }
    if "openid" in scopes:
        claims: dict[str, Any] = {
            "iss": iss,
            "sub": user["user_id"],
            "aud": client.client_id,
            "iat": now,
            "exp": now + int(st.settings["id_token_lifetime"]),
            **profile_claims(user, scopes),
        }
        if record["nonce"] is not None:
            claims["nonce"] = record["nonce"]
        if record["include_auth_time"]:
            claims["auth_time"] = record["auth_time"]
        claims["sid"] = record["sid"]  # names the SSO session, for logout_hint
        claims.update(custom(record, "id_claims"))
        body["id_token"] = tokens.sign(st.keys, claims)
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


def custom(record: dict[str, Any], kind: str) -> dict[str, Any]:
    """The custom claims the post-login Actions set (refused names were already left out)."""
    return dict(record.get(kind) or {})


def client_credentials_grant(st: TenantState, client: Client, form: dict[str, str]) -> Response:
    """A machine-to-machine token for the Management API."""
    if client.app_type != "m2m":
        return oauth_error(
            403,
            "unauthorized_client",
            "Grant type 'client_credentials' not allowed for the client.",
        )
    audience = form.get("audience")
    if not audience:
        return oauth_error(
            403,
            "access_denied",
            "No audience parameter was provided, and no default audience has been configured",
        )
    if audience != st.api_audience():
        return oauth_error(403, "access_denied", f"Service not found: {audience}")
    requested = form.get("scope", "").split()
    missing = [s for s in requested if s not in client.scopes]
    if missing:
        return oauth_error(
            403, "access_denied", f"Client has not been granted scopes: {', '.join(missing)}"
        )
    scopes = requested or list(client.scopes)
    now = int(st.now())
    lifetime = int(st.settings["access_token_lifetime"])
    access_token = tokens.sign(
        st.keys,
        {
            "iss": st.issuer(),
            "sub": f"{client.client_id}@clients",
            "aud": audience,
            "iat": now,
            "exp": now + lifetime,
            "scope": " ".join(scopes),
            "gty": "client-credentials",
            "azp": client.client_id,
        },
    )
    response = jsonify(
        {
            "access_token": access_token,
            "scope": " ".join(scopes),
            "expires_in": lifetime,
            "token_type": "Bearer",
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response
