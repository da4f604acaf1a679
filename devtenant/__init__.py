"""An Auth0-compatible development tenant: OIDC login and a Management API subset, strictly."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, g, request

from devtenant import (
    actions_api,
    admin,
    authorize,
    confirmation,
    connections,
    continue_login,
    discovery,
    grants,
    logout,
    management,
    management_auth,
    management_paths,
    userinfo,
    users_by_email,
)
from devtenant.faults import drop_connection, fault_response, sleep
from devtenant.state import TenantState, tenant

__all__ = ["create_app"]

OIDC_OPERATIONS = {
    "discovery.discovery": "discovery",
    "discovery.jwks": "jwks",
    "authorize.authorize": "authorize",
    "grants.token": "token",
    "userinfo.userinfo": "userinfo",
    "users_by_email.users_by_email": "users_by_email",
    "connections.connections": "connections",
}


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build a tenant app with fresh keys, seeded users and the given DEVTENANT_* config."""
    app = Flask(__name__)
    app.config.update(config or {})
    # An id holding %2F%2F must not be "fixed" by a redirect; ids are parsed from the raw path.
    app.url_map.merge_slashes = False
    app.extensions["devtenant"] = TenantState(app.config)
    modules = (discovery, authorize, grants, userinfo, logout, management, users_by_email, admin)
    for module in modules + (confirmation, continue_login, actions_api, connections):
        app.register_blueprint(module.bp)
    app.before_request(_before_request)
    app.after_request(_after_request)
    return app


def _operation() -> str | None:
    """The fault endpoint name of this request, if it has one."""
    if request.blueprint == "management":
        return management_paths.operation(request.method, management_paths.raw_segments())
    return OIDC_OPERATIONS.get(request.endpoint or "")


def _is_management() -> bool:
    """Whether this request is a Management API call."""
    return request.path.startswith("/api/v2/") or request.path == "/api/v2"


def _before_request() -> Response | None:
    """Count the call, then apply a fault that acts before processing."""
    st = tenant()
    if _is_management():
        sub = management_auth.token_sub(st) or "<invalid token>"
        with st.lock:
            calls = st.stats.management_calls
            calls[sub] = calls.get(sub, 0) + 1
            st.stats.management_connections.add(
                (str(request.remote_addr), str(request.environ.get("REMOTE_PORT")))
            )
    elif request.endpoint == "grants.token":
        with st.lock:
            st.stats.token_requests += 1
    fault = st.faults.take(_operation())
    if fault is None:
        return None
    if fault.after:
        g.devtenant_fault = fault
        return None
    sleep(fault.delay)
    if fault.drop:
        return drop_connection(request.environ)
    if fault.replaces:
        return fault_response(fault)
    return None


def _after_request(response: Response) -> Response:
    """Apply an after-fault (a lost response), then add rate-limit headers to API responses."""
    fault = g.pop("devtenant_fault", None)
    if fault is not None:
        sleep(fault.delay)
        if fault.drop:
            return drop_connection(request.environ)
        if fault.replaces:
            response = fault_response(fault)
    if _is_management():
        for name, value in management_auth.ratelimit_headers(tenant()).items():
            response.headers.setdefault(name, value)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.mimetype == "text/html":
        # No inline script anywhere: the login page must work under a strict policy.
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'none'; frame-ancestors 'none'",
        )
    return response
