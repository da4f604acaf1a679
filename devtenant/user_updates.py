"""PATCH /api/v2/users/{id} for metadata, with Auth0's scopes and merge rules.

A user token with `update:current_user_metadata` may change its own `user_metadata` only; an M2M
token with `update:users` may change `user_metadata` and `app_metadata`, one with
`update:users_app_metadata` only `app_metadata` (both listed by the endpoint's reference).
Top-level keys are merged, a `null` value removes its key, and an empty object removes the
metadata altogether (Auth0's "Manage metadata with the Management API" page). Other profile
fields are not modelled.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from devtenant.management_errors import api_error
from devtenant.state import TenantState

METADATA = ("user_metadata", "app_metadata")


def update_user(st: TenantState, claims: dict[str, Any], user_id: str) -> Response:
    """PATCH /api/v2/users/{id}: merge the metadata sent, answer the whole user."""
    body = request.get_json(silent=True) if request.is_json else None
    if not isinstance(body, dict):
        return api_error(400, "Payload validation error: 'Expected type object'.", "invalid_body")
    denied = _check_scope(claims, user_id, body)
    if denied:
        return denied
    unknown = sorted(set(body) - set(METADATA))
    if unknown:
        # Unconfirmed wording; the tenant only models metadata changes.
        return api_error(
            400,
            f"Payload validation error: 'Additional properties not allowed: {','.join(unknown)}'.",
            "invalid_body",
        )
    for key in body:
        if not isinstance(body[key], dict):
            return api_error(
                400,
                f"Payload validation error: 'Expected type object but found type "
                f"{type(body[key]).__name__}' on property {key}.",
                "invalid_body",
            )
    user = st.store.update_metadata(user_id, body, st.now())
    if user is None:
        return api_error(404, "The user does not exist.", "inexistent_user")
    return jsonify(user)


def _check_scope(claims: dict[str, Any], user_id: str, body: dict[str, Any]) -> Response | None:
    scopes = set(str(claims.get("scope", "")).split())
    if claims.get("gty") == "client-credentials":
        if "update:users" in scopes:
            return None
        if "update:users_app_metadata" in scopes and set(body) <= {"app_metadata"}:
            return None
        return _insufficient("update:users,update:users_app_metadata")
    if "app_metadata" in body or "update:current_user_metadata" not in scopes:
        return _insufficient("update:users,update:current_user_metadata")
    if user_id != claims.get("sub"):
        return api_error(
            403, "User to be acted on does not match subject in bearer token.", "unowned_resource"
        )
    return None


def _insufficient(expected: str) -> Response:
    return api_error(403, f"Insufficient scope, expected any of: {expected}", "insufficient_scope")
