"""/userinfo: profile claims for an opaque or userinfo-audience access token, rate limited."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from devtenant import tokens
from devtenant.responses import oauth_error
from devtenant.scopes import profile_claims
from devtenant.state import tenant

bp = Blueprint("userinfo", __name__)


def userinfo_unauthorized(description: str) -> Response:
    """A 401 from /userinfo with the Bearer challenge."""
    response = oauth_error(401, "invalid_token", description)
    response.headers["WWW-Authenticate"] = (
        f'Bearer error="invalid_token", error_description="{description}"'
    )
    return response


@bp.route("/userinfo", methods=["GET", "POST"])
def userinfo() -> Response:
    """Profile claims for an opaque token, or a JWT whose aud includes {iss}userinfo."""
    st = tenant()
    scheme, _, token_value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token_value.strip():
        return userinfo_unauthorized("Missing bearer token")
    token_value = token_value.strip()
    now = st.now()
    with st.lock:
        opaque = st.opaque_tokens.get(token_value)
    if opaque is not None:
        if now >= opaque["exp"]:
            return userinfo_unauthorized("Token expired")
        sub, scopes = opaque["sub"], opaque["scopes"]
    else:
        try:
            claims = tokens.verify_signature(st.keys, token_value)
        except tokens.TokenError:
            return userinfo_unauthorized("Invalid token")
        if claims.get("iss") != st.issuer() or f"{st.issuer()}userinfo" not in tokens.audiences(
            claims
        ):
            return userinfo_unauthorized("Invalid token")
        if not isinstance(claims.get("exp"), int | float) or now >= claims["exp"]:
            return userinfo_unauthorized("Token expired")
        sub, scopes = str(claims.get("sub", "")), str(claims.get("scope", "")).split()
    verdict = st.userinfo_limiter.check(sub, int(st.settings["userinfo_rate_limit"]), now)
    if not verdict.allowed:
        response = oauth_error(429, "too_many_requests", "Too Many Requests")
        response.headers.update(verdict.headers())
        return response
    user = st.store.get(sub)
    if user is None:
        return userinfo_unauthorized("User not found")
    response = jsonify({"sub": sub, **profile_claims(user, scopes)})
    response.headers.update(verdict.headers())
    return response
