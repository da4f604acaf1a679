"""The Management API subset: get/update/delete user, link and unlink identities, with Auth0's
errors (users-by-email lives in `users_by_email`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from devtenant import tokens, user_updates
from devtenant.management_auth import authenticate, check_scope, rate_verdict
from devtenant.management_errors import api_error, link_error
from devtenant.management_paths import operation, raw_segments
from devtenant.state import TenantState, tenant
from devtenant.store import USER_NOT_FOUND, LinkError

bp = Blueprint("management", __name__, url_prefix="/api/v2")

# Every scope Auth0's reference lists for GET /users/{id}, in its order: its 403 names them all.
GET_USER_SCOPES = ("read:users", "read:user_idp_tokens", "read:current_user")
# Not in Auth0's docs: the wording two public projects report from real tenants when the
# link_with token was issued to another client. Unconfirmed beyond that.
LINK_WITH_BAD_AUDIENCE = "JWT (link_with) contains an invalid aud claim"


@bp.route("/<path:rest>", methods=["GET", "POST", "DELETE", "PATCH", "PUT"])
def dispatch(rest: str) -> Response:
    """Route by the raw path: werkzeug's converters only see the decoded one."""
    del rest  # decoded (ambiguous); the raw path is parsed instead
    st = tenant()
    segments = raw_segments()
    op = operation(request.method, segments)
    if op is None or segments is None:
        return api_error(404, "Not Found")
    claims = admit(st)
    if isinstance(claims, Response):
        return claims
    user_id = segments[0]
    if op == "get_user":
        return get_user(st, claims, user_id)
    if op == "delete_user":
        return delete_user(st, claims, user_id)
    if op == "update_user":
        return user_updates.update_user(st, claims, user_id)
    if op == "link_identity":
        return link_identity(st, claims, user_id)
    return unlink_identity(st, claims, user_id, segments[2], segments[3])


def admit(st: TenantState) -> dict[str, Any] | Response:
    """Let a Management API call through: after the modelled latency, with a valid bearer token
    and within its rate limit; answer the claims, or Auth0's 401 or 429."""
    latency = float(st.settings["latency"])
    if latency > 0:
        time.sleep(latency)  # models a remote API, so apps must not call it on every view
    claims = authenticate(st)
    if isinstance(claims, Response):
        return claims
    verdict = rate_verdict(st, claims, consume=True)
    g.devtenant_ratelimit = verdict
    if not verdict.allowed:
        with st.lock:
            st.stats.rate_limited += 1
        response = api_error(429, "Global limit has been reached", "too_many_requests")
        if verdict.retry_after is not None:
            # Unconfirmed: Auth0 documents only x-ratelimit-* on a 429, but says a 429 may
            # carry Retry-After; the bucket sends it so apps must honour both.
            response.headers["Retry-After"] = str(verdict.retry_after)
        return response
    return claims


def authorized(scope: str) -> Response | None:
    """Admit the call (`admit`) and require `scope` of its token, as Auth0 does for an endpoint
    no current-user scope opens: None when allowed, else Auth0's 401, 429 or 403."""
    claims = admit(tenant())
    if isinstance(claims, Response):
        return claims
    if scope not in str(claims.get("scope", "")).split():
        return api_error(403, f"Insufficient scope, expected any of: {scope}", "insufficient_scope")
    return None


def get_user(st: TenantState, claims: dict, user_id: str) -> Response:
    """GET /api/v2/users/{id} with fields/include_fields."""
    denied = check_scope(claims, user_id, "read:users", "read:current_user", listed=GET_USER_SCOPES)
    if denied:
        return denied
    pick = fields_query()
    if isinstance(pick, Response):
        return pick
    user = st.store.get(user_id)
    if user is None:
        return api_error(404, USER_NOT_FOUND, "inexistent_user")
    return jsonify(pick(user))


def fields_query() -> Callable[[dict], dict] | Response:
    """Read `fields` and `include_fields` as Auth0 does: answer what to keep of each user, or
    Auth0's 400 for an `include_fields` that is neither true nor false."""
    include = request.args.get("include_fields", "true")
    if include not in ("true", "false"):
        return api_error(
            400,
            "Query validation error: 'Invalid value' on property include_fields.",
            "invalid_query_string",
        )
    fields = [f for f in request.args.get("fields", "").split(",") if f]
    keep = include == "true"

    def pick(user: dict) -> dict:
        return {k: v for k, v in user.items() if (k in fields) == keep} if fields else user

    return pick


def delete_user(st: TenantState, claims: dict, user_id: str) -> Response:
    """DELETE /api/v2/users/{id}."""
    denied = check_scope(claims, user_id, "delete:users", "delete:current_user")
    if denied:
        return denied
    # Auth0 documents no 404 here, and reportedly answers 204 for a user already deleted too.
    st.store.delete(user_id)
    return Response(status=204)


def unlink_identity(
    st: TenantState, claims: dict, user_id: str, provider: str, secondary: str
) -> Response:
    """DELETE /api/v2/users/{id}/identities/{provider}/{user_id}."""
    denied = check_scope(claims, user_id, "update:users", "update:current_user_identities")
    if denied:
        return denied
    try:
        identities = st.store.unlink(user_id, provider, secondary, st.now())
    except LinkError as exc:
        return link_error(exc)
    return jsonify(identities)


def link_body() -> dict[str, Any] | None:
    """The link request body, JSON or form; None when it is not an object."""
    if request.is_json:
        data = request.get_json(silent=True)
        return data if isinstance(data, dict) else None
    return request.form.to_dict()


def link_identity(st: TenantState, claims: dict, user_id: str) -> Response:
    """POST /api/v2/users/{id}/identities."""
    denied = check_scope(claims, user_id, "update:users", "update:current_user_identities")
    if denied:
        return denied
    data = link_body()
    if data is None:
        return api_error(400, "Payload validation error: 'Expected type object'.", "invalid_body")
    machine = claims.get("gty") == "client-credentials"
    if "link_with" in data:
        extra = sorted(set(data) - {"link_with"})
        if extra:
            return api_error(
                400,
                "Payload validation error: 'Additional properties not allowed: "
                f"{','.join(extra)}'.",
                "invalid_body",
            )
        secondary = secondary_from_link_with(st, claims, data["link_with"])
        if isinstance(secondary, Response):
            return secondary
    elif machine and data.get("provider") and data.get("user_id") is not None:
        secondary = f"{data['provider']}|{data['user_id']}"
    elif not machine and ("provider" in data or "user_id" in data):
        # provider/user_id with a user token was a linking vulnerability; Auth0 disabled it.
        return api_error(
            400,
            "Payload validation error: linking with provider and user_id is not allowed for "
            "user tokens; use link_with.",
            "invalid_body",
        )
    else:
        return api_error(
            400, "Payload validation error: 'Missing required property: link_with'.", "invalid_body"
        )
    if st.store.get(user_id) is None:
        return api_error(404, USER_NOT_FOUND, "inexistent_user")
    try:
        identities = st.store.link(user_id, secondary, st.now())
    except LinkError as exc:
        return link_error(exc)
    response = jsonify(identities)
    response.status_code = 201
    return response


def secondary_from_link_with(st: TenantState, claims: dict, link_with: Any) -> str | Response:
    """The secondary user id from a link_with ID token, enforcing Auth0's JWT rules."""
    if not isinstance(link_with, str):
        return api_error(400, "JWT (link_with) must be a string.")
    try:
        header = tokens.unverified_header(link_with)
    except tokens.TokenError:
        return api_error(400, "JWT (link_with) must be a valid JWT.")
    if header.get("alg") != "RS256":
        return api_error(400, "JWT (link_with) must be signed with RS256.")
    try:
        other = tokens.verify_signature(st.keys, link_with)
    except tokens.TokenError:
        return api_error(400, "JWT (link_with) must be signed by this tenant.")
    if other.get("iss") != claims.get("iss"):
        return api_error(400, "JWT (link_with) must have the same issuer as the access token.")
    sub = other.get("sub")
    if not isinstance(sub, str) or not sub:
        return api_error(400, "JWT (link_with) must have a 'sub' claim.")
    if tokens.audiences(other) != [str(claims.get("azp"))]:
        return api_error(400, LINK_WITH_BAD_AUDIENCE)
    exp = other.get("exp")
    if not isinstance(exp, int | float) or st.now() >= exp:
        # An old ID token must not link an account; the wording is unconfirmed.
        return api_error(400, "JWT (link_with) must not be expired.")
    return sub
