"""Logout: Auth0's /v2/logout and OIDC RP-initiated /oidc/logout, both ending the SSO session."""

from __future__ import annotations

import secrets

from flask import Blueprint, Response, redirect, render_template, request

from devtenant import sso, tokens
from devtenant.responses import error_page, page, redirect_with
from devtenant.sso import end_session
from devtenant.state import TenantState, tenant
from devtenant.transactions import prune

bp = Blueprint("logout", __name__)

CONFIRM_LIFETIME = 600


@bp.get("/v2/logout")
def logout() -> Response:
    """Auth0's logout: clear the session, then go to an allowed returnTo."""
    st = tenant()
    return_to = request.args.get("returnTo")
    if return_to:
        client = st.clients.get(request.args.get("client_id", ""))
        if client is None or not client.allows_logout(return_to):
            return end_session(
                st, error_page("The returnTo URL is not in the application's Allowed Logout URLs.")
            )
        return end_session(st, redirect(return_to, code=302))
    return end_session(st, logged_out_page())


def logged_out_page() -> Response:
    """The page shown after a logout with nowhere to return to."""
    return page(render_template("devtenant/logged_out.html"))


@bp.get("/oidc/logout")
def oidc_logout() -> Response:
    """RP-initiated logout (id_token_hint's signature is checked, its exp is not).

    As Auth0 does, it asks the user to confirm unless an id_token_hint, or a logout_hint (the ID
    token's `sid`) with the client_id, names this browser's session.
    """
    st = tenant()
    args = request.args
    hint = args.get("id_token_hint")
    auds: list[str] = []
    hinted_sid = args.get("logout_hint")
    if hint:
        try:
            claims = tokens.verify_signature(st.keys, hint)
        except tokens.TokenError:
            return error_page("Invalid id_token_hint.")
        if claims.get("iss") != st.issuer():
            return error_page("Invalid id_token_hint: wrong issuer.")
        auds = tokens.audiences(claims)
        if hinted_sid and hinted_sid != claims.get("sid"):
            return error_page("logout_hint does not match the id_token_hint's sid.")
        hinted_sid = claims.get("sid")
    client_id = args.get("client_id") or (auds[0] if auds else "")
    if client_id and auds and client_id not in auds:
        return error_page("client_id does not match the id_token_hint's audience.")
    if hinted_sid and not hint and not client_id:
        return error_page("logout_hint must be sent with client_id.")
    target = args.get("post_logout_redirect_uri")
    if target:
        client = st.clients.get(client_id)
        if client is None:
            return error_page("post_logout_redirect_uri needs an id_token_hint or a client_id.")
        if not client.allows_logout(target):
            return error_page(
                "The post_logout_redirect_uri is not in the application's Allowed Logout URLs."
            )
    request_state = args.get("state")
    live = sso.has_session(st)
    if live and (not hinted_sid or hinted_sid != sso.current_session_id()):
        # Neither hint names this browser's session: someone else may have sent it here.
        return confirm_page(st, target, request_state)
    return finish(st, target, request_state)


def finish(st: TenantState, target: str | None, state: str | None) -> Response:
    """End the SSO session, then go to the (already checked) target or the signed-out page."""
    if target:
        return sso.end_session(st, redirect_with(target, {"state": state}))
    return sso.end_session(st, logged_out_page())


def confirm_page(st: TenantState, target: str | None, state: str | None) -> Response:
    """Ask "Do you want to log out?", remembering where to go afterwards under a one-time id."""
    request_id = secrets.token_urlsafe(24)
    with st.lock:
        prune(st.logout_requests, st.now())
        st.logout_requests[request_id] = {
            "target": target,
            "state": state,
            "expires": st.now() + CONFIRM_LIFETIME,
        }
    return page(render_template("devtenant/confirm_logout.html", request_id=request_id))


@bp.post("/oidc/logout/confirm")
def confirm() -> Response:
    """The confirmation form: log out and go on to where the logout request asked."""
    st = tenant()
    with st.lock:
        pending = st.logout_requests.pop(request.form.get("request", ""), None)
    if pending is None or pending["expires"] < st.now():
        return error_page("This logout request has expired or was already used.")
    return finish(st, pending["target"], pending["state"])
