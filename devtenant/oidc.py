"""The OIDC side: discovery, JWKS, /authorize, login page, /oauth/token, /userinfo, logout."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from flask import Blueprint, Response, jsonify, make_response, redirect, render_template, request

from devtenant import tokens
from devtenant.clients import Client
from devtenant.state import TenantState, tenant
from devtenant.store import CONNECTIONS

bp = Blueprint("oidc", __name__)

SSO_COOKIE = "devtenant_sso"
OIDC_SCOPES = ("openid", "profile", "email")
API_USER_SCOPES = (
    "openid",
    "profile",
    "email",
    "read:current_user",
    "update:current_user_identities",
    "update:current_user_metadata",
    "delete:current_user",
)
CODE_LIFETIME = 60
TRANSACTION_LIFETIME = 900
PKCE_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")
PKCE_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
KNOWN_PROMPTS = {"none", "login", "consent", "select_account"}


def error_page(message: str, status: int = 400, title: str = "Request rejected") -> Response:
    """An HTML error page (used when redirecting back would be unsafe)."""
    html = render_template("devtenant/error.html", title=title, message=message, status=status)
    return page(html, status)


def page(html: str, status: int = 200) -> Response:
    """An HTML response that must not be cached (it may carry transaction ids)."""
    response = make_response(html, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def redirect_with(uri: str, params: dict[str, Any]) -> Response:
    """A 302 to uri with params added to its query (None values left out)."""
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(k, str(v)) for k, v in params.items() if v is not None]
    return redirect(urlunsplit(parts._replace(query=urlencode(query))), code=302)


def oauth_error(status: int, error: str, description: str) -> Response:
    """A token-endpoint style JSON error."""
    response = jsonify({"error": error, "error_description": description})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/.well-known/openid-configuration")
def discovery() -> Response:
    """The OIDC discovery document."""
    iss = tenant().issuer()
    return jsonify(
        {
            "issuer": iss,
            "authorization_endpoint": f"{iss}authorize",
            "token_endpoint": f"{iss}oauth/token",
            "userinfo_endpoint": f"{iss}userinfo",
            "jwks_uri": f"{iss}.well-known/jwks.json",
            "end_session_endpoint": f"{iss}oidc/logout",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "client_credentials"],
            "subject_types_supported": ["public"],
            "code_challenge_methods_supported": ["S256"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": list(OIDC_SCOPES),
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "claims_supported": [
                "aud",
                "auth_time",
                "email",
                "email_verified",
                "exp",
                "family_name",
                "given_name",
                "iat",
                "iss",
                "name",
                "nickname",
                "picture",
                "sub",
            ],
            "request_uri_parameter_supported": False,
        }
    )


@bp.get("/.well-known/jwks.json")
def jwks() -> Response:
    """The public keys: the signing key and a retired one."""
    return jsonify(tenant().keys.jwks())


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


def session_satisfies(
    session: dict | None, now: float, max_age: int | None, conn: str | None
) -> bool:
    """Whether an SSO session may be used without showing the login page."""
    if session is None:
        return False
    if max_age is not None and now - session["auth_time"] > max_age:
        return False
    return conn is None or session["connection"] == conn


def prune(entries: dict[str, dict[str, Any]], before: float) -> None:
    """Drop entries that expired before `before` (caller holds the lock)."""
    for key in [k for k, v in entries.items() if v["expires"] < before]:
        del entries[key]


def issue_code(st: TenantState, txn: dict[str, Any], user_id: str, auth_time: int) -> Response:
    """Store a single-use code for this login and redirect back with it."""
    code = secrets.token_urlsafe(32)
    with st.lock:
        prune(st.codes, st.now() - CODE_LIFETIME)  # keep used codes a while to spot replays
        st.codes[code] = {
            **{k: txn[k] for k in ("client_id", "redirect_uri", "code_challenge", "scope")},
            **{k: txn[k] for k in ("audience", "nonce", "include_auth_time")},
            "user_id": user_id,
            "auth_time": auth_time,
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
    session = current_session(st)
    usable = session_satisfies(session, now, max_age, connection)
    if "none" in prompts and not usable:
        return fail("login_required", "Login required")
    if usable and "login" not in prompts:
        assert session is not None  # noqa: S101 - usable implies a session
        return issue_code(st, txn, session["user_id"], int(session["auth_time"]))
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
    sid = secrets.token_urlsafe(32)
    with st.lock:
        # A new login replaces this browser's previous session.
        st.sso_sessions.pop(request.cookies.get(SSO_COOKIE, ""), None)
        st.sso_sessions[sid] = {
            "identity": identity,
            "connection": choices[identity]["connection"],
            "auth_time": auth_time,
        }
    st.store.record_login(user_id, now)
    response = issue_code(st, txn, user_id, auth_time)
    response.set_cookie(
        SSO_COOKIE, sid, httponly=True, samesite="Lax", path="/", secure=request.is_secure
    )
    return response


def client_from_request(st: TenantState, form: dict[str, str]) -> Client | None:
    """Authenticate the client by client_secret_basic or client_secret_post."""
    auth = request.authorization
    if auth is not None and auth.type == "basic":
        client_id = unquote(auth.username or "")
        secret = unquote(auth.password or "")
    else:
        client_id, secret = form.get("client_id", ""), form.get("client_secret")
    client = st.clients.get(client_id)
    if client is None or not client.secret_matches(secret):
        return None
    return client


def token_params() -> dict[str, str]:
    """Token request parameters (form-encoded, or JSON as Auth0 also accepts)."""
    if request.is_json:
        data = request.get_json(silent=True)
        if isinstance(data, dict):
            return {str(k): str(v) for k, v in data.items() if v is not None}
        return {}
    return request.form.to_dict()


@bp.post("/oauth/token")
def token() -> Response:
    """The token endpoint: authorization_code (with PKCE) and client_credentials."""
    st = tenant()
    form = token_params()
    client = client_from_request(st, form)
    if client is None:
        return oauth_error(401, "access_denied", "Unauthorized")
    grant = form.get("grant_type")
    if not grant:
        return oauth_error(400, "invalid_request", "Missing required parameter: grant_type")
    if grant == "authorization_code":
        return code_grant(st, client, form)
    if grant == "client_credentials":
        return client_credentials_grant(st, client, form)
    return oauth_error(400, "unsupported_grant_type", f"Unsupported grant type: {grant}")


def s256(verifier: str) -> str:
    """The S256 code challenge for a verifier."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def code_grant(st: TenantState, client: Client, form: dict[str, str]) -> Response:
    """Exchange a single-use code for tokens."""
    with st.lock:
        record = st.codes.get(form.get("code", ""))
        if record is None or record["used"] or record["client_id"] != client.client_id:
            return oauth_error(403, "invalid_grant", "Invalid authorization code")
        record["used"] = True  # single use, even if the rest of the request fails
    if st.now() > record["expires"]:
        return oauth_error(403, "invalid_grant", "Invalid authorization code")
    if form.get("redirect_uri") != record["redirect_uri"]:
        return oauth_error(
            403,
            "invalid_grant",
            "The redirect_uri MUST match the registered callback URL for this application.",
        )
    verifier = form.get("code_verifier", "")
    if not PKCE_VERIFIER.match(verifier) or not hmac.compare_digest(
        s256(verifier), record["code_challenge"]
    ):
        return oauth_error(403, "invalid_grant", "Failed to verify code verifier")
    user = st.store.get(record["user_id"])
    if user is None:
        return oauth_error(403, "invalid_grant", "Invalid authorization code")
    return user_tokens(st, client, user, record)


def granted_scopes(requested: str, audience: str | None) -> list[str]:
    """The requested scopes this tenant grants a user login (order kept, duplicates dropped)."""
    allowed = API_USER_SCOPES if audience else OIDC_SCOPES
    granted: list[str] = []
    for scope in requested.split():
        if scope in allowed and scope not in granted:
            granted.append(scope)
    return granted


def profile_claims(user: dict[str, Any], scopes: list[str]) -> dict[str, Any]:
    """Standard claims about a user, by scope."""
    claims: dict[str, Any] = {}
    if "profile" in scopes:
        for key in ("name", "nickname", "picture", "given_name", "family_name", "updated_at"):
            if key in user:
                claims[key] = user[key]
    if "email" in scopes:
        for key in ("email", "email_verified"):
            if key in user:
                claims[key] = user[key]
    return claims


def user_tokens(st: TenantState, client: Client, user: dict, record: dict) -> Response:
    """The token response for a user login."""
    iss = st.issuer()
    now = int(st.now())
    scopes = granted_scopes(record["scope"], record["audience"])
    lifetime = int(st.settings["access_token_lifetime"])
    if record["audience"]:
        aud: str | list[str] = record["audience"]
        if "openid" in scopes:
            aud = [record["audience"], f"{iss}userinfo"]
        access_token = tokens.sign(
            st.keys,
            {
                "iss": iss,
                "sub": user["user_id"],
                "aud": aud,
                "iat": now,
                "exp": now + lifetime,
                "scope": " ".join(scopes),
                "azp": client.client_id,
            },
        )
    else:
        # Without an audience Auth0 gives an opaque token that only /userinfo accepts.
        access_token = secrets.token_urlsafe(32)
        with st.lock:
            st.opaque_tokens[access_token] = {
                "sub": user["user_id"],
                "scopes": scopes,
                "exp": now + lifetime,
            }
    body: dict[str, Any] = {
        "access_token": access_token,
        "scope": " ".join(scopes),
        "expires_in": lifetime,
        "token_type": "Bearer",
    }
    if "openid" in scopes:
        claims: dict[str, Any] = {
            "iss": iss,
            "sub": user["user_id"],
            "aud": client.client_id,
            "iat": now,
            "exp": now + int(st.settings["id_token_lifetime"]),
            **profile_claims(user, scopes),
        }
        if record["nonce"] is not None:
            claims["nonce"] = record["nonce"]
        if record["include_auth_time"]:
            claims["auth_time"] = record["auth_time"]
        body["id_token"] = tokens.sign(st.keys, claims)
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


def client_credentials_grant(st: TenantState, client: Client, form: dict[str, str]) -> Response:
    """A machine-to-machine token for the Management API."""
    if client.app_type != "m2m":
        return oauth_error(
            403,
            "unauthorized_client",
            "Grant type 'client_credentials' not allowed for the client.",
        )
    audience = form.get("audience")
    if not audience:
        return oauth_error(
            403,
            "access_denied",
            "No audience parameter was provided, and no default audience has been configured",
        )
    if audience != st.api_audience():
        return oauth_error(403, "access_denied", f"Service not found: {audience}")
    requested = form.get("scope", "").split()
    missing = [s for s in requested if s not in client.scopes]
    if missing:
        return oauth_error(
            403, "access_denied", f"Client has not been granted scopes: {', '.join(missing)}"
        )
    scopes = requested or list(client.scopes)
    now = int(st.now())
    lifetime = int(st.settings["access_token_lifetime"])
    access_token = tokens.sign(
        st.keys,
        {
            "iss": st.issuer(),
            "sub": f"{client.client_id}@clients",
            "aud": audience,
            "iat": now,
            "exp": now + lifetime,
            "scope": " ".join(scopes),
            "gty": "client-credentials",
            "azp": client.client_id,
        },
    )
    response = jsonify(
        {
            "access_token": access_token,
            "scope": " ".join(scopes),
            "expires_in": lifetime,
            "token_type": "Bearer",
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def userinfo_unauthorized(description: str) -> Response:
    """A 401 from /userinfo with the Bearer challenge."""
    response = oauth_error(401, "invalid_token", description)
    response.headers["WWW-Authenticate"] = (
        f'Bearer error="invalid_token", error_description="{description}"'
    )
    return response


@bp.route("/userinfo", methods=["GET", "POST"])
def userinfo() -> Response:
    """Profile claims for an opaque token, or a JWT whose aud includes {iss}userinfo."""
    st = tenant()
    scheme, _, token_value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token_value.strip():
        return userinfo_unauthorized("Missing bearer token")
    token_value = token_value.strip()
    now = st.now()
    with st.lock:
        opaque = st.opaque_tokens.get(token_value)
    if opaque is not None:
        if now >= opaque["exp"]:
            return userinfo_unauthorized("Token expired")
        sub, scopes = opaque["sub"], opaque["scopes"]
    else:
        try:
            claims = tokens.verify_signature(st.keys, token_value)
        except tokens.TokenError:
            return userinfo_unauthorized("Invalid token")
        if claims.get("iss") != st.issuer() or f"{st.issuer()}userinfo" not in tokens.audiences(
            claims
        ):
            return userinfo_unauthorized("Invalid token")
        if not isinstance(claims.get("exp"), int | float) or now >= claims["exp"]:
            return userinfo_unauthorized("Token expired")
        sub, scopes = str(claims.get("sub", "")), str(claims.get("scope", "")).split()
    verdict = st.userinfo_limiter.check(sub, int(st.settings["userinfo_rate_limit"]), now)
    if not verdict.allowed:
        response = oauth_error(429, "too_many_requests", "Too Many Requests")
        response.headers.update(verdict.headers())
        return response
    user = st.store.get(sub)
    if user is None:
        return userinfo_unauthorized("User not found")
    response = jsonify({"sub": sub, **profile_claims(user, scopes)})
    response.headers.update(verdict.headers())
    return response


def end_session(st: TenantState, response: Response) -> Response:
    """Forget the SSO session on both sides."""
    sid = request.cookies.get(SSO_COOKIE)
    if sid:
        with st.lock:
            st.sso_sessions.pop(sid, None)
    response.delete_cookie(SSO_COOKIE, path="/", httponly=True, samesite="Lax")
    return response


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
