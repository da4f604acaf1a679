"""GET /api/v2/connections: the tenant's connections, with the display names its administrator
gave them (what Universal Login's buttons say). Only a server-side token reads them: no
current-user scope allows it."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from devtenant.management import authorized, fields_query
from devtenant.management_errors import api_error
from devtenant.store import CONNECTIONS

bp = Blueprint("connections", __name__, url_prefix="/api/v2")

SCOPE = "read:connections"
# What the administrator typed as a connection's display name; the others have none set, and
# Auth0 then answers the connection's name in its place.
DISPLAY_NAMES = {"acme-saml": "Acme Corp"}
MAX_PER_PAGE = 100


@bp.get("/connections")
def connections() -> Response:
    """The connections, a page at a time (`page`, `per_page`), narrowed by `strategy`."""
    denied = authorized(SCOPE)
    if denied:
        return denied
    try:
        page = int(request.args.get("page", "0"))
        per_page = int(request.args.get("per_page", "50"))
    except ValueError:
        page = per_page = -1
    if page < 0 or not 1 <= per_page <= MAX_PER_PAGE:
        return api_error(
            400, "Query validation error: 'Invalid value' on property page.", "invalid_query_string"
        )
    pick = fields_query()
    if isinstance(pick, Response):
        return pick
    strategies = request.args.getlist("strategy")
    listed = [
        {
            "id": f"con_{index:016d}",
            "name": name,
            "display_name": DISPLAY_NAMES.get(name, name),
            "strategy": conn["provider"],
            "is_domain_connection": False,
        }
        for index, (name, conn) in enumerate(CONNECTIONS.items())
        if not strategies or conn["provider"] in strategies
    ]
    return jsonify([pick(c) for c in listed[page * per_page : (page + 1) * per_page]])
