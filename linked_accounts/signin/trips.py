"""Every trip to Auth0's login page (login, token renewal, re-authentication, linking, deletion).

All trips come back to one callback URL, so a tenant needs one Allowed Callback URL. Each trip is
remembered server-side under its `state`, with its purpose; once Authlib has checked state, PKCE,
nonce and the ID token's signature (JWKS), issuer and audience, the purpose's handler (from the
table `init_app` builds) finishes it, or says why it failed.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import requests
from authlib.integrations.base_client import OAuthError
from flask import redirect, request, session, url_for
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey
from joserfc.jws import JWSRegistry

from .. import metrics, outcomes
from ..auth0 import management as m
from ..i18n import _, provider_name
from ..purposes import Trip
from ..state import state
from ..storage.keys import PENDING_TRIPS as PENDING
from ..storage.keys import TRIP_LIFETIME as LIFETIME
from . import account

log = logging.getLogger(__name__)


class _HideAuthlibSecrets(logging.Filter):
    """Authlib logs the PKCE verifier (and request tokens) at DEBUG: never let those lines out,
    whatever level a host turns on."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(("Using code_verifier", "Fetch request token"))


logging.getLogger("authlib.integrations.base_client.sync_app").addFilter(_HideAuthlibSecrets())

MAX_PENDING = 5  # trips started but not finished (several tabs); older ones are dropped
# How long a trip may take at Auth0. Longer and it is dropped: an abandoned link or deletion
# trip must not be finished hours later, and the session must not keep it: LIFETIME (keys.py).


def start(purpose: Trip, params: dict[str, Any], **data: Any) -> str:
    """Remember why the browser goes to Auth0's /authorize, and return the URL to send it to."""
    auth0 = state().auth0
    redirect_uri = url_for("linked_accounts.callback", _external=True)
    try:
        rv = auth0.create_authorization_url(redirect_uri, **params)
    except (requests.RequestException, ValueError) as exc:
        # Authlib reads Auth0's discovery document on a process's first trip (and keeps it).
        # Unreachable then, it gets the answer the pages and the API give whenever Auth0 cannot
        # be reached (a 503 that says to try again), never a traceback.
        log.warning("Auth0's discovery document could not be read: %s", type(exc).__name__)
        raise m.ConnectionFailed("discovery document unreachable") from exc
    auth0.save_authorize_data(redirect_uri=redirect_uri, **rv)
    pending = _current_trips()
    while len(pending) >= MAX_PENDING:
        _drop(pending, min(pending, key=lambda s: pending[s]["started_at"]))
    pending[rv["state"]] = {"purpose": purpose.value, "started_at": time.time(), **data}
    metrics.trip_started(purpose)
    session[PENDING] = pending
    return rv["url"]


def _current_trips() -> dict[str, dict[str, Any]]:
    """The session's pending trips still within their lifetime (expired ones are dropped)."""
    pending = dict(session.get(PENDING) or {})
    for key in [k for k, trip in pending.items() if _expired(trip)]:
        _drop(pending, key)
    return pending


def _expired(trip: dict[str, Any]) -> bool:
    started = trip.get("started_at")
    return not isinstance(started, (int, float)) or time.time() - started > LIFETIME


def _drop(pending: dict[str, dict[str, Any]], key: str) -> None:
    """Forget a trip, and the state, nonce and PKCE verifier Authlib kept for it in the session:
    Authlib removes its entry only when a callback uses it, so a trip never finished would
    leave it behind (and the session would grow with every login started)."""
    pending.pop(key, None)
    state().auth0.framework.clear_state_data(session, key)


def signed_in_during(claims: dict[str, Any], trip: dict[str, Any]) -> bool:
    """Tell whether the ID token proves a login made during this trip (Authlib does not check
    `auth_time`; `prompt=login` can be stripped on the way, so the answer must show it)."""
    auth_time = claims.get("auth_time")
    return isinstance(auth_time, (int, float)) and auth_time >= int(trip["started_at"])


def callback():
    """Finish any trip to Auth0: check it with Authlib, then hand it to its purpose's handler."""
    key = request.args.get("state", "")
    trip = (session.get(PENDING) or {}).get(key) if key else None
    if not isinstance(trip, dict):
        # Not a trip of this browser's (forged, replayed, or any site's link): refuse it, and
        # leave the session alone, so a GET from another site cannot sign the user out.
        if not session:
            # No session at all (another browser's link, a flood of made-up ones): the page
            # says so in general words, since sealing the reason would store a session for it.
            return redirect(url_for("linked_accounts.signin_failed"), 303)
        return refuse(400, _("This sign-in was already used or has expired."))
    pending = _current_trips()
    pending.pop(key, None)  # one use only, whatever the outcome
    session[PENDING] = pending
    handler = state().trip_handlers.get(_purpose(trip))
    if handler is None or _expired(trip):
        # Started too long ago (or by an older release): a login that old proves nothing.
        _drop(pending, key)
        reason = _("This sign-in took too long and has expired. Please try again.")
        return handler.fail(trip, 400, reason) if handler else refuse(400, reason)
    try:
        token = state().auth0.authorize_access_token()
    except OAuthError as exc:
        log.info("%s refused at Auth0: %s", trip["purpose"], exc.error)
        return handler.fail(trip, 400, _oauth_reason(exc), exc.error)
    except JoseError as exc:
        # A forged, tampered or expired ID token, a wrong issuer or audience, or a clock far
        # off: never a session, never a traceback.
        log.warning(
            "%s: ID token refused (is this server's clock right?): %s",
            trip["purpose"],
            type(exc).__name__,
        )
        reason = _(
            "The answer from %(provider)s could not be checked, so you were not signed in. "
            "Please try again; if it keeps happening, contact support.",
            provider=provider_name(),
        )
        return handler.fail(trip, 400, reason)
    except (requests.RequestException, ValueError) as exc:
        log.warning("%s failed talking to Auth0: %s", trip["purpose"], type(exc).__name__)
        reason = _(
            "Signing in could not be finished: there was no connection to %(provider)s. "
            "Please try again in a moment.",
            provider=provider_name(),
        )
        return handler.fail(trip, 502, reason)
    finally:
        # Authlib drops its entry when it checks the state, but not when the callback carries
        # an error (it raises before): drop it either way.
        _drop(pending, key)
    claims = token.get("userinfo")
    if not claims or "access_token" not in token:
        log.warning("%s: Auth0 returned no ID token or access token", trip["purpose"])
        reason = _("Signing in could not be finished. Please try again in a moment.")
        return handler.fail(trip, 502, reason)
    account.keep_auth0_session(claims)  # whatever the handler decides: the browser's is new
    metrics.trip_finished(Trip(trip["purpose"]))  # a known purpose: it has a handler
    return handler.finish(token, dict(claims), trip)


def _purpose(trip: dict[str, Any]) -> Trip | None:
    """The trip's purpose, or None for one this release does not know (an older one's)."""
    try:
        return Trip(trip.get("purpose"))
    except ValueError:
        return None


def refuse(status: int, reason: str):
    """Show why a sign-in did not complete, changing nothing: on a page of its own, not at the
    callback's address, which works once (a reload would say "already used") and holds the
    code and state in the address bar and the history."""
    token = outcomes.seal("error", reason, status)
    return redirect(url_for("linked_accounts.signin_failed", **{outcomes.PARAM: token}), 303)


# Auth0's own descriptions of an `access_denied` the person chose (declining consent, or the
# development tenant's Cancel). Any other is taken for a login rule of the tenant (an Action's
# `api.access.deny(reason)` puts the Action's own reason there, so it cannot be listed).
CANCELLED = ("User did not authorize the request", "User cancelled the login")


def _oauth_reason(exc: OAuthError) -> str:
    """Our own words for Auth0's `error` code. Never the callback's `error_description` (or the
    code itself): anyone can put any text in a callback URL and send it to anyone. For
    `access_denied` the description only chooses which of our messages to show."""
    if exc.error == "access_denied":
        return _access_denied(exc.description or "")
    if exc.error in ("login_required", "consent_required", "interaction_required"):
        return _("Please sign in again.")
    if exc.error in ("temporarily_unavailable", "server_error"):
        return _(
            "Signing in could not be completed at %(provider)s just now. Please try again later.",
            provider=provider_name(),
        )
    return _("Signing in was not completed.")


def _access_denied(description: str) -> str:
    """Tell apart the causes of `access_denied`; the administrator's ones say what to fix, in
    the log line too (never with the description's text, which a forged URL could carry)."""
    settings = state().settings
    if description.startswith("Service not found"):
        # The audience is not the tenant's canonical identifier: a custom-domain deployment
        # without AUTH0_MANAGEMENT_DOMAIN, or with the two domains swapped.
        log.error(
            "Auth0 does not know the audience %s: set AUTH0_MANAGEMENT_DOMAIN to the tenant's "
            "own domain (tenant.auth0.com), not its custom domain",
            settings.audience,
        )
        return _(
            "This site's sign-in is not set up correctly, so you could not sign in. Please tell "
            "the site's support."
        )
    if description.startswith("Client is not authorized to access"):
        log.error(
            "Auth0 refused application %s a token for %s: it has no client grant. In the Auth0 "
            "dashboard, Applications > APIs > Auth0 Management API > Application Access: "
            "authorize the application for user access with read:current_user and "
            "update:current_user_identities",
            settings.client_id,
            settings.audience,
        )
        return _(
            "This site is not yet allowed to manage your sign-in methods. Please tell the "
            "site's support."
        )
    if not description or description in CANCELLED:
        return _("Signing in was cancelled.")
    log.warning(
        "Auth0 denied a sign-in by a login rule of the tenant (an Action's api.access.deny): "
        "the tenant's logs (Monitoring > Logs) give its reason"
    )
    return _(
        "This site's sign-in rules did not let this account in. If you think that is wrong, "
        "contact the site's support."
    )


def warm() -> None:
    """Check one throwaway RS256 ID token the way the callback checks Auth0's (joserfc, as Authlib
    does), so that a pre-forking server's master sets up OpenSSL's RSA code and joserfc's
    registries once (see gunicorn.conf.py): done in each worker instead, on its first sign-in,
    they cost every worker about 2 MB of memory of its own. Nothing is fetched and nothing kept."""
    key = RSAKey.generate_key(2048, private=True)
    keys = KeySet.import_key_set({"keys": [key.as_dict(private=False, kid="warm")]})
    claims = {"iss": "warm", "aud": "warm", "sub": "warm", "iat": 0, "exp": 2**31}
    signed = jwt.encode({"alg": "RS256", "kid": "warm"}, claims, key)
    jwt.decode(signed, keys, registry=JWSRegistry(algorithms=["RS256"]))
