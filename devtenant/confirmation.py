"""Auth0's login confirmation for non-verifiable callbacks (since 28 April 2026): where single
sign-on would answer a loopback or custom-scheme callback silently, the person confirms first,
since another program on the machine may be listening on that port or scheme."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, render_template, request

from devtenant import login_flow, sso
from devtenant.responses import error_page, page
from devtenant.state import TenantState, tenant
from devtenant.transactions import cancelled, start_transaction, take_transaction

bp = Blueprint("confirmation", __name__)


def page_for(st: TenantState, txn: dict[str, Any], session: dict[str, Any], sid: str) -> Response:
    """Ask the person signed in to confirm they are signing in to this application."""
    txn_id, csrf = start_transaction(
        st, {**txn, "sid": sid, "identity": session["identity"]}, "confirm"
    )
    user = st.store.get(session["user_id"]) or {}
    html = render_template(
        "devtenant/confirm_login.html",
        txn=txn_id,
        csrf=csrf,
        name=user.get("name") or session["identity"],
        client_id=txn["client_id"],
        callback=urlsplit(txn["redirect_uri"]).netloc,
    )
    return page(html)


@bp.post("/u/confirm")
def confirm_submit() -> Response:
    """The confirmation form: continue with the single sign-on session, or cancel."""
    st = tenant()
    txn = take_transaction(st, "confirm")
    if isinstance(txn, Response):
        return txn
    if request.form.get("action") == "cancel":
        return cancelled(txn)
    session = sso.current_session(st)
    if session is None or sso.current_session_id() != txn["sid"]:
        # Signed out, or signed in as someone else, since the page was shown.
        return error_page("This login has expired or was already used. Start again from the app.")
    return login_flow.complete(
        st, login_flow.Login(txn, **sso.login_fields(session), sid=txn["sid"])
    )
