"""The Management API subset: get/delete user, link and unlink identities, with Auth0's errors."""

from __future__ import annotations

import time
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import Blueprint, Response, g, jsonify, request

from devtenant import tokens
from devtenant.ratelimit import Verdict
from devtenant.state import TenantState, tenant
from devtenant.store import LinkError

bp = Blueprint("management", __name__, url_prefix="/api/v2")

USERS_PREFIX = "/api/v2/users"


def api_error(status: int, message: str, error_code: str | None = None, **extra: Any) -> Response:
    """Auth0's Management API error body."""
    body: dict[str, Any] = {
        "statusCode": status,
        "error": HTTPStatus(status).phrase,
        "message": message,
    }
    if error_code:
        body["errorCode"] = error_code
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    return response


def unauthorized(message: str) -> Response:
    """Auth0's 401 body (it has attributes and no errorCode)."""
    return api_error(401, message, attributes={"error": message})


def raw_segments() -> list[str] | None:
    """Path segments after /api/v2/users, each percent-decoded from the RAW request path.

    PATH_INFO is already decoded, so an id holding %2F would be split in the wrong place.
    """
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw:
        path = raw.split("?", 1)[0]
        if "://" in path:  # absolute-form request target
            path = urlsplit(path).path
        prefix = request.script_root + USERS_PREFIX
    else:
        path, prefix = request.path, USERS_PREFIX
    if not path.startswith(prefix + "/"):
        return None
    return [unquote(segment) for segment in path[len(prefix) + 1 :].split("/")]


def operation(method: str, segments: list[str] | None) -> str | None:
    """Which Management API operation a request is (also the fault endpoint name)."""
    if not segments or not segments[0]:
        return None
    if len(segments) == 1:
        return {"GET": "get_user", "DELETE": "delete_user"}.get(method)
    if segments[1] != "identities":
        return None
    if len(segments) == 2 and method == "POST":
        return "link_identity"
    if len(segments) == 4 and method == "DELETE" and segments[2] and segments[3]:
        return "delete_identity"
    return None


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
        key = token_sub(st) or f"addr:{request.remote_addr}"
        verdict = st.limiter.check(key, int(st.settings["rate_limit"]), st.now(), consume=False)
    return verdict.headers()


def check_scope(claims: dict, user_id: str, server_scope: str, user_scope: str) -> Response | None:
    """403 unless the token has the server scope (m2m) or the user scope on its own user."""
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
        f"Insufficient scope, expected any of: {server_scope},{user_scope}",
        "insufficient_scope",
    )


def link_error(exc: LinkError) -> Response:
    """The Auth0 response for a refused link/unlink."""
    return api_error(exc.status, exc.message, exc.error_code)


@bp.route("/<path:rest>", methods=["GET", "POST", "DELETE", "PATCH", "PUT"])
def dispatch(rest: str) -> Response:
    """Route by the raw path: werkzeug's converters only see the decoded one."""
    del rest  # decoded (ambiguous); the raw path is parsed instead
    st = tenant()
    segments = raw_segments()
    op = operation(request.method, segments)
    if op is None or segments is None:
        return api_error(404, "Not Found")
    latency = float(st.settings["latency"])
    if latency > 0:
        time.sleep(latency)  # models a remote API, so apps must not call it on every view
    claims = authenticate(st)
    if isinstance(claims, Response):
        return claims
    verdict = st.limiter.check(claims["sub"], int(st.settings["rate_limit"]), st.now())
    g.devtenant_ratelimit = verdict
    if not verdict.allowed:
        return api_error(429, "Global limit has been reached", "too_many_requests")
    user_id = segments[0]
    if op == "get_user":
        return get_user(st, claims, user_id)
    if op == "delete_user":
        return delete_user(st, claims, user_id)
    if op == "link_identity":
        return link_identity(st, claims, user_id)
    return unlink_identity(st, claims, user_id, segments[2], segments[3])


def get_user(st: TenantState, claims: dict, user_id: str) -> Response:
    """GET /api/v2/users/{id} with fields/include_fields."""
    denied = check_scope(claims, user_id, "read:users", "read:current_user")
    if denied:
        return denied
    include = request.args.get("include_fields", "true")
    if include not in ("true", "false"):
        return api_error(
            400,
            "Query validation error: 'Invalid value' on property include_fields.",
            "invalid_query_string",
        )
    user = st.store.get(user_id)
    if user is None:
        return api_error(404, "User not found.", "inexistent_user")
    fields = [f for f in request.args.get("fields", "").split(",") if f]
    if fields:
        if include == "true":
            user = {k: v for k, v in user.items() if k in fields}
        else:
            user = {k: v for k, v in user.items() if k not in fields}
    return jsonify(user)


def delete_user(st: TenantState, claims: dict, user_id: str) -> Response:
    """DELETE /api/v2/users/{id}."""
    denied = check_scope(claims, user_id, "delete:users", "delete:current_user")
    if denied:
        return denied
    if not st.store.delete(user_id):
        return api_error(404, "User not found.", "inexistent_user")
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
        return api_error(404, "User not found.", "inexistent_user")
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
        return api_error(
            400, "JWT (link_with) must have an 'aud' claim equal to the access token's 'azp'."
        )
    return sub
