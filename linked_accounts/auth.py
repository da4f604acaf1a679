"""Log in, log out, and the guard that sends signed-out users to log in."""

from __future__ import annotations

import functools
import logging
from urllib.parse import urlencode, urlsplit

import requests
from authlib.integrations.base_client import OAuthError
from flask import abort, redirect, render_template, request, session, url_for

from . import account
from .blueprint import bp
from .forms import ActionForm
from .state import state

log = logging.getLogger(__name__)

NEXT = "linked_accounts.next"
SCOPES = "openid profile email read:current_user update:current_user_identities"


def login_required(view):
    """Send a signed-out user, or one whose Auth0 token has expired, to log in first."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        acct = account.current()
        if acct is None or acct.token_expired:
            return redirect(url_for("linked_accounts.login", next=request.full_path))
        return view(acct, *args, **kwargs)

    return wrapper


def safe_next(target: str | None) -> str | None:
    """Accept a return address only as a path on this site: never another origin."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(c in target for c in "\r\n\t\\"):
        return None
    return target


@bp.get("/login")
def login():
    """Start the authorization code flow (PKCE, state, nonce) for the Management API audience."""
    target = safe_next(request.args.get("next"))
    session.clear()
    if target:
        session[NEXT] = target
    st = state()
    return st.oauth.authorize_redirect(
        url_for("linked_accounts.callback", _external=True), audience=st.settings.audience
    )


@bp.get("/callback")
def callback():
    """Finish login: Authlib checks state, PKCE, nonce and the ID token's signature via JWKS."""
    try:
        token = state().oauth.authorize_access_token()
    except OAuthError as exc:
        log.info("login refused: %s", exc.error)
        return _login_failed(400, exc.description or exc.error)
    except (requests.RequestException, ValueError) as exc:
        log.warning("login failed talking to Auth0: %s", type(exc).__name__)
        return _login_failed(502, "Auth0 could not be reached to finish signing in.")
    claims = token.get("userinfo")
    if not claims or "access_token" not in token:
        return _login_failed(502, "Auth0 did not return the tokens this page needs.")
    target = session.get(NEXT)
    account.sign_in(token, dict(claims))
    return redirect(target or url_for("linked_accounts.settings"))


@bp.post("/logout")
def logout():
    """End our session and Auth0's. A POST with CSRF, so no other site can log the user out."""
    if not ActionForm().validate_on_submit():
        abort(400)
    account.sign_out()
    st = state()
    # Back to the host's front page: the settings page itself would bounce to Auth0's login.
    home = request.url_root
    try:
        end_session = st.oauth.load_server_metadata().get("end_session_endpoint")
    except (requests.RequestException, ValueError):
        end_session = None
    if end_session:
        # client_id instead of id_token_hint: an ID token in a URL ends up in browser history
        # and access logs. Built, not `logout_redirect()`, which would write state back into
        # the session just emptied.
        url = st.oauth.create_logout_url(
            post_logout_redirect_uri=home, client_id=st.settings.client_id
        )["url"]
    else:
        query = urlencode({"client_id": st.settings.client_id, "returnTo": home})
        url = f"{st.settings.issuer_url}/v2/logout?{query}"
    return redirect(url)


def _login_failed(status: int, reason: str):
    session.clear()
    return (
        render_template("linked_accounts/login_failed.html", reason=reason),
        status,
    )
