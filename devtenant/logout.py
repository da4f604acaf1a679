"""Logout: Auth0's /v2/logout and OIDC RP-initiated /oidc/logout, both ending the SSO session."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request

from devtenant import tokens
from devtenant.responses import error_page, page, redirect_with
from devtenant.sso import end_session
from devtenant.state import tenant

bp = Blueprint("logout", __name__)


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
    """RP-initiated logout (id_token_hint's signature is checked, its exp is not)."""
    st = tenant()
    args = request.args
    hint = args.get("id_token_hint")
    auds: list[str] = []
    if hint:
        try:
            claims = tokens.verify_signature(st.keys, hint)
        except tokens.TokenError:
            return error_page("Invalid id_token_hint.")
        if claims.get("iss") != st.issuer():
            return error_page("Invalid id_token_hint: wrong issuer.")
        auds = tokens.audiences(claims)
    client_id = args.get("client_id") or (auds[0] if auds else "")
    if client_id and auds and client_id not in auds:
        return error_page("client_id does not match the id_token_hint's audience.")
    target = args.get("post_logout_redirect_uri")
    if target:
        client = st.clients.get(client_id)
        if client is None:
            return error_page("post_logout_redirect_uri needs an id_token_hint or a client_id.")
        if not client.allows_logout(target):
            return error_page(
                "The post_logout_redirect_uri is not in the application's Allowed Logout URLs."
            )
        return end_session(st, redirect_with(target, {"state": args.get("state")}))
    return end_session(st, logged_out_page())
