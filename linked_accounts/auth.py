"""Signing in and out, and renewing the Management API token when it expires."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import requests
from flask import abort, redirect, request, url_for

from . import account, refusals, trips
from .account import Account
from .forms import ActionForm
from .navigation import return_path, safe_next
from .state import state

SCOPES = "openid profile email read:current_user update:current_user_identities"


def signed_in() -> Account:
    """Return the signed-in account with a usable token, or refuse: log in, or renew the token.

    Either way the user comes back to the page they were on: a form is never re-submitted for
    them, so a confirmed action is neither lost nor carried out without them.
    """
    acct = account.current()
    if acct is None:
        raise refusals.not_authenticated()
    if acct.token_expired:
        raise refusals.login_required()
    return acct


def login():
    """Start a login for the Management API audience, unless the user is signed in already."""
    target = safe_next(request.args.get("next"))
    acct = account.current()
    if acct is not None and not acct.token_expired:
        # A GET any site can trigger: it must never sign the user out. The session is replaced
        # (cleared, id rotated) only when a login completes, in account.sign_in.
        return redirect(target or url_for("linked_accounts.settings"))
    return begin_login(target)


def begin_login(target: str | None, *, prompt: str | None = None):
    """Start a login; `prompt="login"` makes Auth0 ask who is signing in."""
    settings = state().settings
    # max_age makes Auth0 put auth_time in the ID token, and sets how fresh a login must be
    # for changes right after it (REAUTH_MAX_AGE) without asking again.
    params: dict[str, Any] = {"audience": settings.audience, "max_age": settings.reauth_max_age}
    if prompt:
        params["prompt"] = prompt
    return redirect(trips.start("login", params, next=target))


def finish_login(token: dict[str, Any], claims: dict[str, Any], trip: dict[str, Any]):
    account.sign_in(token, claims)
    return redirect(trip.get("next") or url_for("linked_accounts.settings"))


def renew(target: str | None = None):
    """Get the signed-in user a new token: silently (`prompt=none`) while Auth0 knows them."""
    target = target or return_path()
    if account.current() is None:
        return redirect(url_for("linked_accounts.login", next=target))
    params = {"audience": state().settings.audience, "prompt": "none"}
    return redirect(trips.start("renew", params, next=target))


def renew_page():
    """Renew the token, then return to `next`: where the JSON API sends a browser."""
    target = safe_next(request.args.get("next")) or url_for("linked_accounts.settings")
    acct = account.current()
    if acct is not None and not acct.token_expired:
        # A GET any site can trigger: a renewal nobody needs could only end badly (Auth0's
        # session gone, or someone else's) and sign the user out.
        return redirect(target)
    return renew(target)


def finish_renewal(token: dict[str, Any], claims: dict[str, Any], trip: dict[str, Any]):
    acct = account.current()
    if acct is None or str(claims.get("sub")) != acct.user_id:
        # Auth0's session now belongs to someone else (say, an account signed in to for
        # linking): never switch users silently; ask who is signing in.
        account.sign_out()  # never carry on as the wrong user
        return begin_login(trip.get("next"), prompt="login")
    account.renew_token(token, claims)
    return redirect(trip.get("next") or url_for("linked_accounts.settings"))


def renewal_failed(trip: dict[str, Any], status: int, reason: str):
    """Auth0 no longer has a session for the user (login_required): log in on its page."""
    account.sign_out()  # the expired sign-in is over
    return begin_login(trip.get("next"), prompt="login")


def logout():
    """End our session and Auth0's. A POST with CSRF, so no other site can log the user out."""
    if not ActionForm().validate_on_submit():
        abort(400)
    account.sign_out()
    st = state()
    # Back to the host's front page: the settings page itself would bounce to Auth0's login.
    home = request.url_root
    try:
        end_session = st.auth0.load_server_metadata().get("end_session_endpoint")
    except (requests.RequestException, ValueError):
        end_session = None
    if end_session:
        # client_id instead of id_token_hint: an ID token in a URL ends up in browser history
        # and access logs. Built, not `logout_redirect()`, which would write state back into
        # the session just emptied.
        url = st.auth0.create_logout_url(
            post_logout_redirect_uri=home, client_id=st.settings.client_id
        )["url"]
    else:
        query = urlencode({"client_id": st.settings.client_id, "returnTo": home})
        url = f"{st.settings.issuer_url}/v2/logout?{query}"
    return redirect(url)


def register(bp) -> None:
    """Add the sign-in routes to the extension's blueprint."""
    bp.add_url_rule("/login", view_func=login, methods=["GET"])
    bp.add_url_rule("/callback", view_func=trips.callback, methods=["GET"])
    bp.add_url_rule("/relogin", "relogin_page", view_func=renew_page, methods=["GET"])
    bp.add_url_rule("/logout", view_func=logout, methods=["POST"])
