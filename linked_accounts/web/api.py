"""A JSON API under the same prefix, for single-page apps that keep the cookie session.

The same operations as the pages, translated to JSON in one place: CSRF on every POST (header
`X-CSRFToken`), errors as `{"error": {"code", "message", ...}}`, and when the browser must go
somewhere (log in, renew the token, re-authenticate) `redirect_to` says where, as Ory Kratos does
with `session_refresh_required`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from flask import get_flashed_messages, jsonify, request, url_for
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from wtforms import ValidationError

from .. import identity_cache, metrics, operations
from ..auth0 import management as m
from ..i18n import _, lazy_gettext
from ..identities import Identity
from ..names import identity_name
from ..navigation import safe_next
from ..refusals import (
    GoElsewhere,
    InvalidRequest,
    LoginRequired,
    NotAuthenticated,
    Refusal,
    SessionRefreshRequired,
    SignedInAsOther,
    from_auth0,
)
from ..signin import account, reauth
from .signin import coming_back_to, signed_in

CSRF_MESSAGE = lazy_gettext("Send the session's CSRF token (from GET /api/session) as X-CSRFToken.")


def session_info():
    """Tell the SPA who is signed in, and give it the CSRF token for its POSTs."""
    acct = account.current()
    body: dict[str, Any] = {"authenticated": acct is not None, "csrf_token": None}
    if acct is None:
        # No CSRF token before signing in: there is nothing to post yet, and making one would
        # store a session for every anonymous visit.
        body["login_url"] = url_for("linked_accounts.login", next=requested_return_to())
    else:
        body["csrf_token"] = generate_csrf()
        body["user"] = {"user_id": acct.user_id, "name": acct.name, "email": acct.email}
        body["fresh_login"] = reauth.is_fresh(acct)
        # What the pages would have shown (e.g. "GitHub is now linked" after a trip to Auth0).
        body["messages"] = [
            {"category": c, "text": t} for c, t in get_flashed_messages(with_categories=True)
        ]
    return jsonify(body)


def identities():
    """List the signed-in user's identities, primary first."""
    metrics.page_view()
    return jsonify(_listing(operations.identities(signed_in())))


def unlink():
    """Unlink one of the user's own secondaries, named by `identity` (`{provider}|{user_id}`)."""
    _check_csrf()
    acct = signed_in()
    body = _body()
    _return_to(body)  # checked before anything happens, like every field
    result = operations.unlink(acct, _text(body, "identity", required=True))
    return jsonify({"unlinked": _identity(result.identity), **_listing(result.remaining)})


def link():
    """Start linking: answer the URL to send the browser to (Auth0's login for the account)."""
    _check_csrf()
    acct = signed_in()
    body = _body()
    connection, return_to = _text(body, "connection"), _return_to(body)
    trip = operations.start_link(acct, connection, next=return_to)
    return jsonify({"redirect_to": trip.url})


# Where the browser goes for each refusal that sends it somewhere (each kind of GoElsewhere).
REDIRECTS: dict[type[GoElsewhere], str] = {
    NotAuthenticated: "linked_accounts.login",
    LoginRequired: "linked_accounts.relogin_page",
    SessionRefreshRequired: "linked_accounts.reauthenticate",
    SignedInAsOther: "linked_accounts.other_account",  # a trip's end: no API call sees one yet
}


def refused(refusal: Refusal):
    """Answer a refusal as JSON; say where the browser must go when it must go somewhere. It only
    translates: it reads nothing from the request, changes nothing, and cannot fail."""
    metrics.refused(refusal)
    body: dict[str, Any] = {"code": refusal.code, "message": str(refusal.message)}
    if isinstance(refusal, GoElsewhere):
        body["redirect_to"] = url_for(REDIRECTS[type(refusal)], next=refusal.return_to)
    headers = {}
    if refusal.retry_after:
        body["retry_after"] = refusal.retry_after
        headers["Retry-After"] = str(refusal.retry_after)
    return jsonify({"error": body}), refusal.status, headers


def auth0_failed(error: m.ManagementError):
    return refused(from_auth0(error))


def csrf_failed(error: CSRFError):
    return refused(InvalidRequest(str(CSRF_MESSAGE), "csrf_failed"))


def _check_csrf() -> None:
    try:
        validate_csrf(request.headers.get("X-CSRFToken", ""))
    except ValidationError as exc:
        raise InvalidRequest(str(CSRF_MESSAGE), "csrf_failed") from exc


def _return_to(body: dict[str, Any]) -> str | None:
    """Where the browser comes back to after a trip to Auth0: the SPA's own path, or refuse it."""
    return safe_next(_text(body, "return_to"))


def requested_return_to() -> str | None:
    """The same, read leniently for a refusal (None when the request does not say it well):
    never raises, since the refusal it goes with must still be answered."""
    if request.method == "POST":
        body = request.get_json(silent=True)
        value = body.get("return_to") if isinstance(body, dict) else None
    else:
        value = request.args.get("return_to")
    return safe_next(value) if isinstance(value, str) else None


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidRequest(_("Send a JSON object."))
    return body


def _text(body: dict[str, Any], name: str, *, required: bool = False) -> str:
    """Return a string field of the request body ("" when absent), or refuse its type."""
    value = body.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise InvalidRequest(_("`%(field)s` must be a string.", field=name))
    return value


def _listing(items: Sequence[Identity]) -> dict[str, Any]:
    read_at = identity_cache.read_at(signed_in().user_id) or time.time()
    return {
        "identities": [_identity(i) for i in items],
        "read_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(read_at)),
    }


def _identity(identity: Identity) -> dict[str, Any]:
    return {
        "key": identity.key,
        "provider": identity.provider,
        "connection": identity.connection,
        "user_id": identity.user_id,
        "display_name": identity_name(identity),
        "detail": identity.detail,
        "is_primary": identity.is_primary,
        "is_social": identity.is_social,
    }


def register(bp) -> None:
    """Add the JSON routes, and their error answers, to the API's blueprint."""
    call = coming_back_to(requested_return_to)  # after a login or a renewal: back to the SPA
    bp.add_url_rule("/session", view_func=call(session_info), methods=["GET"])
    bp.add_url_rule("/identities", view_func=call(identities), methods=["GET"])
    bp.add_url_rule("/identities/unlink", view_func=call(unlink), methods=["POST"])
    bp.add_url_rule("/identities/link", view_func=call(link), methods=["POST"])
    bp.register_error_handler(Refusal, refused)
    bp.register_error_handler(CSRFError, csrf_failed)
    bp.register_error_handler(m.ManagementError, auth0_failed)
