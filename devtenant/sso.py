"""The tenant's SSO session: a server-side record named by an HttpOnly cookie."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any

from flask import Response, request

from devtenant.state import TenantState

SSO_COOKIE = "devtenant_sso"


def current_session(st: TenantState) -> dict[str, Any] | None:
    """The SSO session named by the cookie, with its user's current root id, if still valid."""
    sid = request.cookies.get(SSO_COOKIE)
    with st.lock:
        session = st.sso_sessions.get(sid or "")
        session = dict(session) if session else None
    if session is None:
        return None
    # The identity may have been linked into another user since: the owner is who logs in now.
    owner = st.store.owner_of(session["identity"])
    if owner is None:
        return None
    session["user_id"] = owner
    return session


def login_fields(session: dict[str, Any]) -> dict[str, Any]:
    """Who a login through this session is: its user now, the identity and connection it was
    made with, and when."""
    return {
        "user_id": session["user_id"],
        "identity": session["identity"],
        "connection": session["connection"],
        "auth_time": int(session["auth_time"]),
    }


def has_session(st: TenantState) -> bool:
    """Whether the browser's cookie names a live session record, whoever its user is now. Auth0
    keeps sessions as records of their own (ended by logout or their own Management API
    endpoint); that deleting a user ends theirs is not documented, so here it does not."""
    with st.lock:
        return request.cookies.get(SSO_COOKIE, "") in st.sso_sessions


def session_satisfies(
    session: dict | None, now: float, max_age: int | None, conn: str | None
) -> bool:
    """Whether an SSO session may be used without showing the login page."""
    if session is None:
        return False
    if max_age is not None and now - session["auth_time"] > max_age:
        return False
    return conn is None or session["connection"] == conn


def start_session(st: TenantState, identity: str, connection: str, auth_time: int) -> str:
    """Record a new SSO session for this login and return its id (the cookie value)."""
    sid = secrets.token_urlsafe(32)
    with st.lock:
        # A new login replaces this browser's previous session.
        st.sso_sessions.pop(request.cookies.get(SSO_COOKIE, ""), None)
        st.sso_sessions[sid] = {
            "identity": identity,
            "connection": connection,
            "auth_time": auth_time,
        }
    return sid


def set_cookie(response: Response, sid: str) -> Response:
    """Name the SSO session in the browser."""
    response.set_cookie(
        SSO_COOKIE, sid, httponly=True, samesite="Lax", path="/", secure=request.is_secure
    )
    return response


def end_session(st: TenantState, response: Response) -> Response:
    """Forget the SSO session on both sides."""
    sid = request.cookies.get(SSO_COOKIE)
    if sid:
        with st.lock:
            st.sso_sessions.pop(sid, None)
    response.delete_cookie(SSO_COOKIE, path="/", httponly=True, samesite="Lax")
    return response


def session_id_claim(cookie: str) -> str:
    """The public `sid` of the session a cookie names (put in ID tokens, sent back as a logout
    hint): derived one-way, so knowing it never lets anyone present the cookie itself."""
    digest = hashlib.sha256(b"devtenant sid:" + cookie.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode("ascii")


def current_session_id() -> str | None:
    """The public `sid` of this browser's session cookie, if it has one."""
    cookie = request.cookies.get(SSO_COOKIE)
    return session_id_claim(cookie) if cookie else None
