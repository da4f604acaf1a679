"""Test hooks under /__dev: reset, read users, inject faults, stats, live config, clock."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, jsonify, request

from devtenant.clients import LOOPBACK_HOSTS
from devtenant.faults import FaultSpecError
from devtenant.state import SETTING_KEYS, tenant

bp = Blueprint("admin", __name__, url_prefix="/__dev")

# Fetch metadata a browser sends for a request a page of this same origin made, or one typed in.
SAME_SITE_FETCHES = ("same-origin", "none")


@bp.before_request
def refuse_other_sites() -> Response | None:
    """Answer only tools and this tenant's own origin: the hooks change users and faults with
    no credentials, so a page of another site (or a DNS name rebound to 127.0.0.1) must not."""
    host = urlsplit(f"//{request.host}").hostname
    configured = tenant().configured_issuer
    allowed = set(LOOPBACK_HOSTS) | ({urlsplit(configured).hostname} if configured else set())
    if host not in allowed:
        return forbidden(f"Host {request.host!r} is not this tenant's")
    if request.headers.get("Sec-Fetch-Site", "none") not in SAME_SITE_FETCHES:
        return forbidden("cross-site requests to /__dev are refused")
    origin = request.headers.get("Origin")
    if origin is not None and origin != request.host_url.rstrip("/"):
        return forbidden(f"Origin {origin!r} is not this tenant's")
    return None


def forbidden(message: str) -> Response:
    """A JSON 403 for a hook call from elsewhere."""
    response = jsonify({"error": "forbidden", "message": message})
    response.status_code = 403
    return response


def bad_request(message: str) -> Response:
    """A JSON 400 for a malformed hook call."""
    response = jsonify({"error": "bad_request", "message": message})
    response.status_code = 400
    return response


def json_object() -> dict | None:
    """The request's JSON object body, or None."""
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else None


@bp.post("/reset")
def reset() -> Response:
    """Reseed users; clear sessions, codes, faults, limits, stats, clock and live config."""
    tenant().reset()
    return jsonify({"status": "reset"})


@bp.get("/users")
def users() -> Response:
    """Every stored user."""
    return jsonify(tenant().store.all())


@bp.get("/users/<path:user_id>")
def user(user_id: str) -> Response:
    """One stored user, or 404."""
    found = tenant().store.get(user_id)
    if found is None:
        response = jsonify({"error": "not_found", "message": f"No user {user_id}"})
        response.status_code = 404
        return response
    return jsonify(found)


@bp.post("/faults")
def add_fault() -> Response:
    """Register a fault."""
    try:
        fault = tenant().faults.add(request.get_json(silent=True))
    except FaultSpecError as exc:
        return bad_request(str(exc))
    response = jsonify(fault.as_dict())
    response.status_code = 201
    return response


@bp.get("/faults")
def list_faults() -> Response:
    """The faults still active."""
    return jsonify(tenant().faults.list())


@bp.delete("/faults")
def clear_faults() -> Response:
    """Remove every fault."""
    tenant().faults.clear()
    return Response(status=204)


@bp.get("/stats")
def stats() -> Response:
    """Management API and token endpoint counters."""
    st = tenant()
    with st.lock:
        return jsonify(st.stats.as_dict())


@bp.post("/config")
def config() -> Response:
    """Change latency, rate limits or token lifetimes while running."""
    data = json_object()
    if data is None:
        return bad_request("body must be a JSON object")
    st = tenant()
    updates = {}
    for name, value in data.items():
        if name not in SETTING_KEYS:
            return bad_request(f"unknown setting {name}; known: {', '.join(SETTING_KEYS)}")
        cast = SETTING_KEYS[name][2]
        try:
            updates[name] = cast(value)
        except (TypeError, ValueError):
            return bad_request(f"{name} must be a number")
        if updates[name] < 0:
            return bad_request(f"{name} must not be negative")
    with st.lock:
        st.settings.update(updates)
        return jsonify(dict(st.settings))


@bp.post("/scopes")
def scopes() -> Response:
    """Withhold scopes from user logins: `{"withhold": ["delete:current_user"]}` ([] grants all)."""
    data = json_object()
    withhold = data.get("withhold") if data else None
    if not isinstance(withhold, list) or not all(isinstance(s, str) for s in withhold):
        return bad_request('body must be {"withhold": ["scope", ...]}')
    st = tenant()
    with st.lock:
        st.withheld_scopes = frozenset(withhold)
    return jsonify({"withhold": sorted(withhold)})


@bp.post("/refusals")
def refusals() -> Response:
    """Make Auth0's `access_denied` causes happen: `{"no_client_grant": ["dev-client"]}` (those
    clients get no token for the Management API) and `{"action_denies": "reason"}` (a post-login
    Action calls `api.access.deny(reason)`; null removes it)."""
    data = json_object()
    if data is None or not set(data) <= {"no_client_grant", "action_denies"}:
        return bad_request(
            'body must be {"no_client_grant": [client_id, ...], "action_denies": ...}'
        )
    clients = data.get("no_client_grant", [])
    reason = data.get("action_denies")
    if not isinstance(clients, list) or not all(isinstance(c, str) for c in clients):
        return bad_request("no_client_grant must be a list of client ids")
    if reason is not None and not isinstance(reason, str):
        return bad_request("action_denies must be a string or null")
    st = tenant()
    with st.lock:
        st.ungranted_clients = frozenset(clients)
        st.action_denial = reason
    return jsonify({"no_client_grant": sorted(clients), "action_denies": reason})


@bp.post("/clock")
def clock() -> Response:
    """Shift the tenant's clock by `offset` seconds (for expiry tests)."""
    data = json_object()
    if data is None or not isinstance(data.get("offset"), int | float):
        return bad_request('body must be {"offset": seconds}')
    st = tenant()
    with st.lock:
        st.clock_offset = float(data["offset"])
    return jsonify({"offset": st.clock_offset, "now": st.now()})
