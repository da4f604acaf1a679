"""Log in and out, and run every trip to Auth0's login page (login, re-authentication, linking).

All trips come back to one callback URL, so a tenant needs one Allowed Callback URL. Each trip is
remembered server-side under its `state`, with its purpose; the purpose's finisher takes over once
Authlib has checked state, PKCE, nonce and the ID token's signature (JWKS), issuer and audience.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from authlib.integrations.base_client import OAuthError
from flask import abort, redirect, render_template, request, session, url_for
from joserfc.errors import JoseError

from . import account, outcomes
from .blueprint import bp
from .forms import ActionForm
from .i18n import _
from .state import state

log = logging.getLogger(__name__)

FLOWS = "linked_accounts.flows"
MAX_FLOWS = 5  # trips started but not finished (several tabs); older ones are dropped
SCOPES = "openid profile email read:current_user update:current_user_identities"

Finisher = Callable[[dict[str, Any], dict[str, Any], dict[str, Any]], Any]
_finishers: dict[str, Finisher] = {}


def finisher(purpose: str) -> Callable[[Finisher], Finisher]:
    """Register what completes a trip to Auth0 started with `start_flow(purpose, ...)`."""

    def register(fn: Finisher) -> Finisher:
        _finishers[purpose] = fn
        return fn

    return register


def start_flow(purpose: str, params: dict[str, Any], **data: Any):
    """Send the browser to Auth0's /authorize, remembering why, to finish it in `callback`."""
    st = state()
    redirect_uri = url_for("linked_accounts.callback", _external=True)
    rv = st.oauth.create_authorization_url(redirect_uri, **params)
    st.oauth.save_authorize_data(redirect_uri=redirect_uri, **rv)
    flows = dict(session.get(FLOWS) or {})
    while len(flows) >= MAX_FLOWS:
        flows.pop(min(flows, key=lambda s: flows[s]["started_at"]))
    flows[rv["state"]] = {"purpose": purpose, "started_at": time.time(), **data}
    session[FLOWS] = flows
    return redirect(rv["url"])


def signed_in_during(claims: dict[str, Any], flow: dict[str, Any]) -> bool:
    """Tell whether the ID token proves a login made during this trip (Authlib does not check
    `auth_time`; `prompt=login` can be stripped on the way, so the answer must show it)."""
    auth_time = claims.get("auth_time")
    return isinstance(auth_time, (int, float)) and auth_time >= int(flow["started_at"])


def login_required(view):
    """Send a signed-out user to log in, and get a new token when theirs has expired.

    Either way the user comes back to the page they were on: a form is never re-submitted for
    them, so a confirmed action is neither lost nor carried out without them.
    """

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        acct = account.current()
        if acct is None:
            return redirect(url_for("linked_accounts.login", next=return_path()))
        if acct.token_expired:
            return relogin()
        return view(acct, *args, **kwargs)

    return wrapper


def relogin(target: str | None = None):
    """Get the signed-in user a new token: silently (`prompt=none`) while Auth0 knows them."""
    target = target or return_path()
    if account.current() is None:
        return redirect(url_for("linked_accounts.login", next=target))
    params = {"audience": state().settings.audience, "prompt": "none"}
    return start_flow("refresh", params, next=target)


@bp.get("/relogin")
def relogin_page():
    """Renew the token, then return to `next`: where the JSON API sends a browser."""
    return relogin(safe_next(request.args.get("next")) or url_for("linked_accounts.settings"))


def return_path() -> str | None:
    """Return this page; for a form post, the page the form was on (it is not re-posted)."""
    if request.endpoint == "linked_accounts.callback":
        return None  # a callback URL works once: come back to the settings page instead
    if request.method == "GET":
        return safe_next(request.full_path.rstrip("?"))
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host:
        return None
    return safe_next(referrer.path + (f"?{referrer.query}" if referrer.query else ""))


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
    """Start a login for the Management API audience, unless the user is signed in already."""
    target = safe_next(request.args.get("next"))
    acct = account.current()
    if acct is not None and not acct.token_expired:
        # A GET any site can trigger: it must never sign the user out. The session is replaced
        # (cleared, id rotated) only when a login completes, in account.sign_in.
        return redirect(target or url_for("linked_accounts.settings"))
    return begin_login(target)


@bp.get("/callback")
def callback():
    """Finish any trip to Auth0: check it with Authlib, then hand it to its purpose."""
    flows = dict(session.get(FLOWS) or {})
    flow = flows.pop(request.args.get("state", ""), None)
    session[FLOWS] = flows
    if flow is None:
        return login_failed(400, _("This sign-in was already used or has expired."))
    try:
        token = state().oauth.authorize_access_token()
    except OAuthError as exc:
        log.info("%s refused at Auth0: %s", flow["purpose"], exc.error)
        return _trip_failed(flow, 400, _oauth_reason(exc))
    except JoseError as exc:
        # A forged, tampered or expired ID token, a wrong issuer or audience, or a clock far
        # off: never a session, never a traceback.
        log.warning("%s: ID token refused: %s", flow["purpose"], type(exc).__name__)
        return _trip_failed(
            flow, 400, _("Auth0's answer could not be verified (is this server's clock right?).")
        )
    except (requests.RequestException, ValueError) as exc:
        log.warning("%s failed talking to Auth0: %s", flow["purpose"], type(exc).__name__)
        return _trip_failed(flow, 502, _("Auth0 could not be reached to finish signing in."))
    claims = token.get("userinfo")
    if not claims or "access_token" not in token:
        return _trip_failed(flow, 502, _("Auth0 did not return the tokens this page needs."))
    return _finishers[flow["purpose"]](token, dict(claims), flow)


@finisher("login")
def finish_login(token: dict[str, Any], claims: dict[str, Any], flow: dict[str, Any]):
    account.sign_in(token, claims)
    return redirect(flow.get("next") or url_for("linked_accounts.settings"))


@finisher("refresh")
def finish_refresh(token: dict[str, Any], claims: dict[str, Any], flow: dict[str, Any]):
    acct = account.current()
    if acct is None or str(claims.get("sub")) != acct.user_id:
        # Auth0's session now belongs to someone else (say, an account signed in to for
        # linking): never switch users silently; ask who is signing in.
        account.sign_out()  # never carry on as the wrong user
        return begin_login(flow.get("next"), prompt="login")
    account.refresh_login(token, claims)
    return redirect(flow.get("next") or url_for("linked_accounts.settings"))


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


def to_settings(message: str | None = None, category: str = "info"):
    """Go back to the settings page after a form post (303: the browser GETs it), with the
    outcome in the URL rather than the session, which another tab may be saving too."""
    args = {outcomes.PARAM: outcomes.seal(category, message)} if message else {}
    return redirect(url_for("linked_accounts.settings", **args), 303)


def login_failed(status: int, reason: str):
    """Show why login did not complete; nobody is signed in afterwards."""
    session.clear()
    return render_template("linked_accounts/login_failed.html", reason=reason), status


def begin_login(target: str | None, *, prompt: str | None = None):
    """Start a login; `prompt="login"` makes Auth0 ask who is signing in."""
    st = state()
    # max_age makes Auth0 put auth_time in the ID token, and sets how fresh a login must be
    # for changes right after it (REAUTH_MAX_AGE) without asking again.
    params = {"audience": st.settings.audience, "max_age": st.settings.reauth_max_age}
    if prompt:
        params["prompt"] = prompt
    return start_flow("login", params, next=target)


def _trip_failed(flow: dict[str, Any], status: int, reason: str):
    if flow["purpose"] == "login":
        return login_failed(status, reason)
    if flow["purpose"] == "refresh":
        # Auth0 no longer has a session for the user (login_required): log in on its page.
        account.sign_out()  # the expired sign-in is over
        return begin_login(flow.get("next"), prompt="login")
    # A re-authentication or a link that did not complete: the user stays signed in as before.
    return to_settings(_("%(reason)s Nothing was changed.", reason=reason), "error")


def _oauth_reason(exc: OAuthError) -> str:
    if exc.error == "access_denied":
        return _("Signing in was cancelled at Auth0.")
    if exc.error in ("login_required", "consent_required", "interaction_required"):
        return _("Auth0 needs you to sign in again.")
    return _(
        "Auth0 did not complete the sign-in (%(reason)s).", reason=exc.description or exc.error
    )
