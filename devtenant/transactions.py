"""Login transactions kept server-side between a tenant page and its form, and the codes they end
in."""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from flask import Response, request

from devtenant.responses import error_page, redirect_with
from devtenant.state import TenantState

CODE_LIFETIME = 60
TRANSACTION_LIFETIME = 900


def prune(entries: dict[str, dict[str, Any]], before: float) -> None:
    """Drop entries that expired before `before` (caller holds the lock)."""
    for key in [k for k, v in entries.items() if v["expires"] < before]:
        del entries[key]


def issue_code(
    st: TenantState,
    txn: dict[str, Any],
    user_id: str,
    auth_time: int,
    sid: str,
    id_claims: dict[str, Any] | None = None,
    access_claims: dict[str, Any] | None = None,
) -> Response:
    """Store a single-use code for this login (in SSO session `sid`, with the custom claims the
    post-login Actions set) and redirect back with it, unless the /__dev/refusals hook stages an
    Action's denial (after the person signed in, as Auth0 runs Actions)."""
    if st.action_denial is not None:
        return redirect_with(
            txn["redirect_uri"],
            {
                "error": "access_denied",
                "error_description": st.action_denial,
                "state": txn["state"],
            },
        )
    code = secrets.token_urlsafe(32)
    with st.lock:
        prune(st.codes, st.now() - CODE_LIFETIME)  # keep used codes a while to spot replays
        st.codes[code] = {
            **{k: txn[k] for k in ("client_id", "redirect_uri", "code_challenge", "scope")},
            **{k: txn[k] for k in ("audience", "nonce", "include_auth_time")},
            "user_id": user_id,
            "auth_time": auth_time,
            "sid": sid,
            "id_claims": dict(id_claims or {}),
            "access_claims": dict(access_claims or {}),
            "expires": st.now() + CODE_LIFETIME,
            "used": False,
        }
    return redirect_with(txn["redirect_uri"], {"code": code, "state": txn["state"]})


def take_transaction(st: TenantState, kind: str) -> dict[str, Any] | Response:
    """The login transaction this form names (used up), or an error page."""
    txn_id = request.form.get("txn", "")
    with st.lock:
        txn = st.transactions.get(txn_id)
    if txn is None or txn["expires"] < st.now() or txn["kind"] != kind:
        return error_page("This login has expired or was already used. Start again from the app.")
    if not hmac.compare_digest(request.form.get("csrf", "").encode(), txn["csrf"].encode()):
        return error_page("The login form was not submitted from this tenant's page.", 403)
    with st.lock:
        if st.transactions.pop(txn_id, None) is None:
            return error_page("This login was already used. Start again from the app.")
    return txn


def start_transaction(st: TenantState, txn: dict[str, Any], kind: str) -> tuple[str, str]:
    """Keep a transaction server-side for a form; return its id and the form's CSRF token."""
    txn_id = secrets.token_urlsafe(24)
    csrf = secrets.token_urlsafe(24)
    with st.lock:
        prune(st.transactions, st.now())
        st.transactions[txn_id] = {
            **txn,
            "kind": kind,
            "csrf": csrf,
            "expires": st.now() + TRANSACTION_LIFETIME,
        }
    return txn_id, csrf


def cancelled(txn: dict[str, Any]) -> Response:
    """Back to the application with Auth0's answer for a login the person cancelled."""
    return redirect_with(
        txn["redirect_uri"],
        {
            "error": "access_denied",
            "error_description": "User cancelled the login",
            "state": txn["state"],
        },
    )
