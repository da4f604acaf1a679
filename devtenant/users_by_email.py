"""GET /api/v2/users-by-email: Auth0's lookup for account linking (exact, case-sensitive)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from devtenant.management import authorized, fields_query
from devtenant.management_errors import api_error
from devtenant.state import tenant

bp = Blueprint("users_by_email", __name__, url_prefix="/api/v2")

SCOPE = "read:users"  # no current-user scope allows it: a server-side (M2M) token only


@bp.get("/users-by-email")
def users_by_email() -> Response:
    """Every user whose root email is exactly `email` (case-sensitive), as full profiles."""
    st = tenant()
    denied = authorized(SCOPE)
    if denied:
        return denied
    email = request.args.get("email")
    if not email:
        return api_error(
            400,
            "Query validation error: 'Missing required property: email' on property email.",
            "invalid_query_string",
        )
    pick = fields_query()
    if isinstance(pick, Response):
        return pick
    return jsonify([pick(u) for u in st.store.by_email(email)])
