"""Who calls the Management API: the bearer JWT, its scopes, and its rate limit."""

from __future__ import annotations

from typing import Any

from flask import Response, g, request

from devtenant import tokens
from devtenant.management_errors import api_error, unauthorized
from devtenant.ratelimit import Verdict
from devtenant.state import TenantState


def authenticate(st: TenantState) -> dict[str, Any] | Response:
    """Verify the bearer JWT (signature by kid, iss, aud, exp) or answer 401."""
    header = request.headers.get("Authorization", "")
    if not header:
        return unauthorized("Missing authentication")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return unauthorized("Bad HTTP authentication header format")
    try:
        claims = tokens.verify_signature(st.keys, value.strip())
    except tokens.TokenError:
        return unauthorized("Invalid token")
    if claims.get("iss") != st.issuer() or not isinstance(claims.get("sub"), str):
        return unauthorized("Invalid token")
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or st.now() >= exp:
        return unauthorized("Expired token received for JSON Web Token validation")
    auds = tokens.audiences(claims)
    if st.api_audience() not in auds:
        return unauthorized(f"Bad audience: {' '.join(auds)}")
    return claims


CURRENT_USER_SCOPE = ":current_user"
TENANT_BUDGET = "<tenant>"  # the one bucket every Management API call of the tenant draws on


def rate_verdict(st: TenantState, claims: dict[str, Any] | None, consume: bool) -> Verdict:
    """Check this call against the tenant's bucket and, for tokens with current-user scopes, the
    optional per-user limit; count it against both (when consume) only if both allow it.

    The verdict is the refusing limit's, else the one with fewer calls left: with two limits,
    which one Auth0 reports in its headers is undocumented, and the tighter one is what a client
    must slow down for.
    """
    now = st.now()
    burst, per_second = int(st.settings["rate_burst"]), float(st.settings["rate_per_second"])
    per_user = int(st.settings["rate_limit"])
    scopes = str((claims or {}).get("scope", "")).split()
    user = str(claims["sub"]) if claims and any(CURRENT_USER_SCOPE in s for s in scopes) else None
    with st.lock:
        verdicts = [st.bucket.check(TENANT_BUDGET, burst, per_second, now, consume=False)]
        if user is not None and per_user > 0:
            verdicts.append(st.limiter.check(user, per_user, now, consume=False))
        refused = [v for v in verdicts if not v.allowed]
        if refused:
            return refused[0]
        if consume:
            verdicts = [st.bucket.check(TENANT_BUDGET, burst, per_second, now)]
            if user is not None and per_user > 0:
                verdicts.append(st.limiter.check(user, per_user, now))
        return min(verdicts, key=lambda v: v.remaining)


def verified_claims(st: TenantState) -> dict[str, Any] | None:
    """The claims of a correctly signed bearer token (nothing else checked), or None."""
    _, _, value = request.headers.get("Authorization", "").partition(" ")
    try:
        return tokens.verify_signature(st.keys, value.strip())
    except tokens.TokenError:
        return None


def token_sub(st: TenantState) -> str | None:
    """The sub of a correctly signed bearer token (exp not checked), for stats and limits."""
    _, _, value = request.headers.get("Authorization", "").partition(" ")
    try:
        sub = tokens.verify_signature(st.keys, value.strip()).get("sub")
    except tokens.TokenError:
        return None
    return sub if isinstance(sub, str) else None


def ratelimit_headers(st: TenantState) -> dict[str, str]:
    """x-ratelimit-* for this response (without counting a call when none was counted)."""
    verdict: Verdict | None = g.get("devtenant_ratelimit")
    if verdict is None:
        verdict = rate_verdict(st, verified_claims(st), consume=False)
    return verdict.headers()


def check_scope(
    claims: dict,
    user_id: str,
    server_scope: str,
    user_scope: str,
    listed: tuple[str, ...] | None = None,
) -> Response | None:
    """403 unless the token has the server scope (m2m) or the user scope on its own user.

    `listed` is every scope Auth0's 403 names, when it names more than these two.
    """
    scopes = set(str(claims.get("scope", "")).split())
    machine = claims.get("gty") == "client-credentials"
    if machine and server_scope in scopes:
        return None
    if not machine and user_scope in scopes:
        if user_id != claims["sub"]:
            return api_error(
                403,
                "User to be acted on does not match subject in bearer token.",
                "unowned_resource",
            )
        return None
    return api_error(
        403,
        f"Insufficient scope, expected any of: {','.join(listed or (server_scope, user_scope))}",
        "insufficient_scope",
    )
