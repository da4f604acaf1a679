"""/authorize and the login page (/u/login): validate the request, then SSO or choose an account."""

from __future__ import annotations

import hmac
import re
import secrets
from typing import Any

from flask import Blueprint, Response, render_template, request

from devtenant import sso
from devtenant.responses import error_page, page, redirect_with
from devtenant.state import TenantState, tenant
from devtenant.store import CONNECTIONS

bp = Blueprint("authorize", __name__)

CODE_LIFETIME = 60
TRANSACTION_LIFETIME = 900
PKCE_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")
KNOWN_PROMPTS = {"none", "login", "consent", "select_account"}


def prune(entries: dict[str, dict[str, Any]], before: float) -> None:
    """Drop entries that expired before `before` (caller holds the lock)."""
    for key in [k for k, v in entries.items() if v["expires"] < before]:
        del entries[key]


def issue_code(
    st: TenantState, txn: dict[str, Any], user_id: str, auth_time: int, sid: str
) -> Response:
    """Store a single-use code for this login (in SSO session `sid`) and redirect back with it."""
    code = secrets.token_urlsafe(32)
    with st.lock:
        prune(st.codes, st.now() - CODE_LIFETIME)  # keep used codes a while to spot replays
        st.codes[code] = {
            **{k: txn[k] for k in ("client_id", "redirect_uri", "code_challenge", "scope")},
            **{k: txn[k] for k in ("audience", "nonce", "include_auth_time")},
            "user_id": user_id,
            "auth_time": auth_time,
            "sid": sid,
            "expires": st.now() + CODE_LIFETIME,
            "used": False,
        }
    return redirect_with(txn["redirect_uri"], {"code": code, "state": txn["state"]})


@bp.get("/authorize")
def authorize() -> Response:
    """Validate an authorization request, then use SSO or show the login page."""
    st = tenant()
    args = request.args
    client = st.clients.get(args.get("client_id", ""))
    if client is None or client.app_type == "m2m":
        return error_page("Unknown client: this client_id is not registered with the tenant.")
    redirect_uri = args.get("redirect_uri")
    if not client.allows_callback(redirect_uri):
        return error_page(
            "Callback URL mismatch: the redirect_uri is not in the application's allowed callbacks."
        )
    assert redirect_uri is not None  # noqa: S101 - guaranteed by allows_callback
    state = args.get("state")

    def fail(error: str, description: str) -> Response:
        return redirect_with(
            redirect_uri, {"error": error, "error_description": description, "state": state}
        )

    response_type = args.get("response_type", "")
    if response_type != "code":
        return fail("unsupported_response_type", f"Unsupported response type: {response_type}")
    if args.get("response_mode", "query") != "query":
        return fail("invalid_request", "Unsupported response_mode")
    challenge = args.get("code_challenge", "")
    if not challenge or args.get("code_challenge_method") != "S256":
        return fail("invalid_request", "PKCE is required: send code_challenge with S256")
    if not PKCE_CHALLENGE.match(challenge):
        return fail("invalid_request", "code_challenge is not a valid S256 challenge")
    audience = args.get("audience")
    if audience and audience != st.api_audience():
        return fail("access_denied", f"Service not found: {audience}")
    connection = args.get("connection") or None
    if connection is not None and connection not in CONNECTIONS:
        return fail("invalid_request", "the connection was not found")
    prompts = set(args.get("prompt", "").split())
    if not prompts <= KNOWN_PROMPTS or ("none" in prompts and len(prompts) > 1):
        return fail("invalid_request", "Unsupported prompt value")
    max_age: int | None = None
    if "max_age" in args:
        try:
            max_age = int(args["max_age"])
        except ValueError:
            max_age = -1
        if max_age < 0:
            return fail("invalid_request", "max_age must be a non-negative integer")

    txn = {
        "client_id": client.client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "nonce": args.get("nonce"),
        "scope": args.get("scope", "openid"),
        "audience": audience or None,
        "code_challenge": challenge,
        "connection": connection,
        "login_hint": args.get("login_hint", ""),
        "include_auth_time": "login" in prompts or max_age is not None,
    }
    now = st.now()
    session = sso.current_session(st)
    usable = sso.session_satisfies(session, now, max_age, connection)
    if "none" in prompts and not usable:
        return fail("login_required", "Login required")
    if usable and "login" not in prompts:
        assert session is not None  # noqa: S101 - usable implies a session
        sid = sso.current_session_id()
        assert sid is not None  # noqa: S101 - a session implies its cookie
        return issue_code(st, txn, session["user_id"], int(session["auth_time"]), sid)
    return login_page(st, txn)


def login_page(st: TenantState, txn: dict[str, Any]) -> Response:
    """Render the account chooser for a new server-side transaction."""
    txn_id = secrets.token_urlsafe(24)
    csrf = secrets.token_urlsafe(24)
    with st.lock:
        prune(st.transactions, st.now())
        st.transactions[txn_id] = {**txn, "csrf": csrf, "expires": st.now() + TRANSACTION_LIFETIME}
    accounts = st.store.login_choices(txn["connection"])
    hint = txn["login_hint"].strip().lower()
    if hint:
        # A stable sort keeps the seed order otherwise.
        accounts.sort(key=lambda a: 0 if str(a["email"]).lower() == hint else 1)
    html = render_template(
        "devtenant/login.html",
        accounts=accounts,
        txn=txn_id,
        csrf=csrf,
        client_id=txn["client_id"],
        connection=txn["connection"],
    )
    return page(html)


@bp.post("/u/login")
def login_submit() -> Response:
    """The login form: continue as an account, or cancel."""
    st = tenant()
    txn_id = request.form.get("txn", "")
    with st.lock:
        txn = st.transactions.get(txn_id)
    if txn is None or txn["expires"] < st.now():
        return error_page("This login has expired or was already used. Start again from the app.")
    if not hmac.compare_digest(request.form.get("csrf", "").encode(), txn["csrf"].encode()):
        return error_page("The login form was not submitted from this tenant's page.", 403)
    with st.lock:
        if st.transactions.pop(txn_id, None) is None:
            return error_page("This login was already used. Start again from the app.")
    if request.form.get("action") == "cancel":
        return redirect_with(
            txn["redirect_uri"],
            {
                "error": "access_denied",
                "error_description": "User cancelled the login",
                "state": txn["state"],
            },
        )
    identity = request.form.get("account", "")
    choices = {c["identity"]: c for c in st.store.login_choices(txn["connection"])}
    if identity not in choices:
        return error_page("That account cannot sign in here.")
    user_id = st.store.owner_of(identity)
    if user_id is None:
        return error_page("That account no longer exists.")
    now = st.now()
    auth_time = int(now)
    sid = sso.start_session(st, identity, choices[identity]["connection"], auth_time)
    st.store.record_login(user_id, now)
    claim = sso.session_id_claim(sid)
    return sso.set_cookie(issue_code(st, txn, user_id, auth_time, claim), sid)
