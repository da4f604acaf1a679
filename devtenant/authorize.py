"""/authorize and the login page (/u/login): validate the request, then SSO or choose an account."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, render_template, request

from devtenant import account_chooser, actions_event, confirmation, login_flow, sso
from devtenant.clients import non_verifiable
from devtenant.responses import error_page, page, redirect_with
from devtenant.state import TenantState, tenant
from devtenant.store import CONNECTIONS
from devtenant.transactions import cancelled, start_transaction, take_transaction

bp = Blueprint("authorize", __name__)

PKCE_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")
KNOWN_PROMPTS = {"none", "login", "consent", "select_account"}


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
    challenge = args.get("code_challenge") or None
    if challenge is not None or "code_challenge_method" in args:
        # A client that sends PKCE is held to it, whatever its type.
        if challenge is None or args.get("code_challenge_method") != "S256":
            return fail("invalid_request", "PKCE needs code_challenge with method S256")
        if not PKCE_CHALLENGE.match(challenge):
            return fail("invalid_request", "code_challenge is not a valid S256 challenge")
    elif client.public:
        # As Auth0: PKCE is required of public clients (SPAs, native apps), which have no secret
        # to prove who redeems the code; a Regular Web Application may omit it (Auth0's own
        # Flask quickstart does), since its secret is checked at /oauth/token.
        return fail("invalid_request", "PKCE is required: send code_challenge with S256")
    audience = args.get("audience")
    if audience and audience != st.api_audience():
        return fail("access_denied", f"Service not found: {audience}")
    if audience and client.client_id in st.ungranted_clients:
        # The API's access policy requires a client grant this application lacks. Auth0's
        # wording, as its client-credentials answer gives it (a user login's is not documented).
        return fail(
            "access_denied",
            f'Client is not authorized to access "{audience}". You need to create a '
            '"client-grant" associated to this API. See: '
            "https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants",
        )
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
        "prompts": sorted(prompts),
        # What a post-login Action sees as event.request: this /authorize request.
        "request": actions_event.request_details(args.to_dict(), {}),
    }
    now = st.now()
    session = sso.current_session(st)
    usable = sso.session_satisfies(session, now, max_age, connection)
    if "none" in prompts and not usable:
        return fail("login_required", "Login required")
    confirm = bool(st.settings["loopback_confirmation"]) and non_verifiable(redirect_uri)
    if "none" in prompts and confirm:
        # Auth0 rejects prompt=none for such callbacks; which error it answers is not
        # documented: interaction_required is the OIDC one for "the user must see a page".
        return fail("interaction_required", "Interaction required")
    if usable and "login" not in prompts:
        assert session is not None  # noqa: S101 - usable implies a session
        sid = sso.current_session_id()
        assert sid is not None  # noqa: S101 - a session implies its cookie
        if confirm:
            return confirmation.page_for(st, txn, session, sid)
        return login_flow.complete(st, login_flow.Login(txn, **sso.login_fields(session), sid=sid))
    return login_page(st, txn)


def login_page(st: TenantState, txn: dict[str, Any]) -> Response:
    """Render the account chooser for a new server-side transaction."""
    txn_id, csrf = start_transaction(st, txn, "login")
    accounts = account_chooser.choices(st.store.login_choices(txn["connection"]), txn["login_hint"])
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
    txn = take_transaction(st, "login")
    if isinstance(txn, Response):
        return txn
    if request.form.get("action") == "cancel":
        return cancelled(txn)
    identity = request.form.get("account", "")
    choices = {c["identity"]: c for c in st.store.login_choices(txn["connection"])}
    if identity not in choices:
        return error_page("That account cannot sign in here.")
    user_id = st.store.owner_of(identity)
    if user_id is None:
        return error_page("That account no longer exists.")
    now = st.now()
    auth_time = int(now)
    connection = choices[identity]["connection"]
    sid = sso.start_session(st, identity, connection, auth_time)
    login = login_flow.Login(
        txn, user_id, identity, connection, auth_time, sid=sso.session_id_claim(sid)
    )
    return sso.set_cookie(login_flow.complete(st, login), sid)
