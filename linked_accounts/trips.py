"""Every trip to Auth0's login page (login, token renewal, re-authentication, linking, deletion).

All trips come back to one callback URL, so a tenant needs one Allowed Callback URL. Each trip is
remembered server-side under its `state`, with its purpose; once Authlib has checked state, PKCE,
nonce and the ID token's signature (JWKS), issuer and audience, the purpose's handler (from the
table `init_app` builds) finishes it, or says why it failed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import requests
from authlib.integrations.base_client import OAuthError
from flask import render_template, request, session, url_for
from joserfc.errors import JoseError

from . import account
from .i18n import _
from .state import state

log = logging.getLogger(__name__)

PENDING = "linked_accounts.flows"
MAX_PENDING = 5  # trips started but not finished (several tabs); older ones are dropped


class TripHandler(NamedTuple):
    """What to do when a trip comes back: `finish(token, claims, trip)` after Auth0 signed the
    user in, `fail(trip, status, reason, error)` when it did not (`error`: Auth0's error code
    when Auth0 refused, e.g. `login_required`)."""

    finish: Callable[[dict[str, Any], dict[str, Any], dict[str, Any]], Any]
    fail: Callable[..., Any]


def start(purpose: str, params: dict[str, Any], **data: Any) -> str:
    """Remember why the browser goes to Auth0's /authorize, and return the URL to send it to."""
    auth0 = state().auth0
    redirect_uri = url_for("linked_accounts.callback", _external=True)
    rv = auth0.create_authorization_url(redirect_uri, **params)
    auth0.save_authorize_data(redirect_uri=redirect_uri, **rv)
    pending = dict(session.get(PENDING) or {})
    while len(pending) >= MAX_PENDING:
        pending.pop(min(pending, key=lambda s: pending[s]["started_at"]))
    pending[rv["state"]] = {"purpose": purpose, "started_at": time.time(), **data}
    session[PENDING] = pending
    return rv["url"]


def signed_in_during(claims: dict[str, Any], trip: dict[str, Any]) -> bool:
    """Tell whether the ID token proves a login made during this trip (Authlib does not check
    `auth_time`; `prompt=login` can be stripped on the way, so the answer must show it)."""
    auth_time = claims.get("auth_time")
    return isinstance(auth_time, (int, float)) and auth_time >= int(trip["started_at"])


def callback():
    """Finish any trip to Auth0: check it with Authlib, then hand it to its purpose's handler."""
    pending = dict(session.get(PENDING) or {})
    trip = pending.pop(request.args.get("state", ""), None)
    session[PENDING] = pending
    handler = state().trip_handlers.get(trip["purpose"]) if trip else None
    if trip is None or handler is None:
        account.sign_out()
        reason = _("This sign-in was already used or has expired.")
        return render_template("linked_accounts/login_failed.html", reason=reason), 400
    try:
        token = state().auth0.authorize_access_token()
    except OAuthError as exc:
        log.info("%s refused at Auth0: %s", trip["purpose"], exc.error)
        return handler.fail(trip, 400, _oauth_reason(exc), exc.error)
    except JoseError as exc:
        # A forged, tampered or expired ID token, a wrong issuer or audience, or a clock far
        # off: never a session, never a traceback.
        log.warning("%s: ID token refused: %s", trip["purpose"], type(exc).__name__)
        reason = _("Auth0's answer could not be verified (is this server's clock right?).")
        return handler.fail(trip, 400, reason)
    except (requests.RequestException, ValueError) as exc:
        log.warning("%s failed talking to Auth0: %s", trip["purpose"], type(exc).__name__)
        return handler.fail(trip, 502, _("Auth0 could not be reached to finish signing in."))
    claims = token.get("userinfo")
    if not claims or "access_token" not in token:
        return handler.fail(trip, 502, _("Auth0 did not return the tokens this page needs."))
    return handler.finish(token, dict(claims), trip)


def _oauth_reason(exc: OAuthError) -> str:
    if exc.error == "access_denied" and (exc.description or "").startswith("Service not found"):
        # The audience is not the tenant's canonical identifier: a custom-domain deployment
        # without AUTH0_MANAGEMENT_DOMAIN, or with the two domains swapped.
        log.error("Auth0 does not know the audience %s", state().settings.audience)
        return _(
            "Auth0 does not know this site's Management API audience (%(audience)s). The site's "
            "administrator must set AUTH0_MANAGEMENT_DOMAIN to the tenant's own domain "
            "(tenant.auth0.com), not its custom domain.",
            audience=state().settings.audience,
        )
    if exc.error == "access_denied":
        return _("Signing in was cancelled at Auth0.")
    if exc.error in ("login_required", "consent_required", "interaction_required"):
        return _("Auth0 needs you to sign in again.")
    return _(
        "Auth0 did not complete the sign-in (%(reason)s).", reason=exc.description or exc.error
    )
