"""A JSON API under the same prefix, for single-page apps that keep the cookie session.

Same rules as the pages: the user's own identities only, CSRF on every POST (header
`X-CSRFToken`), a fresh login before changes. Errors are `{"error": {"code", "message", ...}}`;
when the browser must go somewhere (log in, re-authenticate), `redirect_to` says where, as Ory
Kratos does with `session_refresh_required`.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, get_flashed_messages, jsonify, request, url_for
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from wtforms import ValidationError

from . import account, operations, reauth
from . import management as m
from .account import Account
from .auth import safe_next, start_flow
from .failures import describe
from .i18n import _, lazy_gettext
from .identities import Identity
from .operations import Refusal
from .state import state

api = Blueprint("linked_accounts_api", __name__)

CSRF_MESSAGE = lazy_gettext("Send the session's CSRF token (from GET /api/session) as X-CSRFToken.")
AUTH0_CODES = {
    400: "auth0_bad_request",
    403: "auth0_forbidden",
    404: "auth0_not_found",
    409: "conflict",
    429: "rate_limited",
    502: "auth0_error",
    503: "auth0_unreachable",
    504: "auth0_timeout",
}


class ApiError(Exception):
    """An error answer: HTTP status, a stable code for programs, a message for people."""

    def __init__(self, status: int, code: str, message: str, **extra: Any):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


@api.get("/session")
def session_info():
    """Tell the SPA who is signed in, and give it the CSRF token for its POSTs."""
    acct = account.current()
    body: dict[str, Any] = {"authenticated": acct is not None, "csrf_token": generate_csrf()}
    if acct is None:
        body["login_url"] = url_for("linked_accounts.login", next=_return_to())
    else:
        body["user"] = {"user_id": acct.user_id, "name": acct.name, "email": acct.email}
        body["fresh_login"] = reauth.is_fresh(acct)
        # What the pages would have shown (e.g. "GitHub is now linked" after a trip to Auth0).
        body["messages"] = [
            {"category": c, "text": t} for c, t in get_flashed_messages(with_categories=True)
        ]
    return jsonify(body)


@api.get("/identities")
def identities():
    """List the signed-in user's identities, primary first."""
    acct = _signed_in()
    items = operations.load_identities(acct)
    return jsonify(_listing(items))


@api.post("/identities/unlink")
def unlink():
    """Unlink one of the user's own secondaries, named by `identity` (`{provider}|{user_id}`)."""
    acct = _signed_in(csrf=True)
    key = _text(_body(), "identity", required=True)
    found = operations.secondary(acct, key)
    _require_fresh_login(acct)
    remaining = operations.unlink(acct, found)
    return jsonify({"unlinked": _identity(found), **_listing(remaining)})


@api.post("/identities/link")
def link():
    """Start linking: answer the URL to send the browser to (Auth0's login for the account)."""
    acct = _signed_in(csrf=True)
    connection = _text(_body(), "connection")
    if connection and connection not in state().settings.link_connections:
        raise ApiError(400, "connection_not_offered", _("Linking that account is not offered."))
    _require_fresh_login(acct)
    params: dict[str, Any] = {"prompt": "login", "max_age": 0}
    if connection:
        params["connection"] = connection
    response = start_flow("link", params, connection=connection, next=_return_to())
    return jsonify({"redirect_to": response.location})


@api.errorhandler(ApiError)
def api_error(error: ApiError):
    body = {"code": error.code, "message": str(error.message), **error.extra}
    return jsonify({"error": body}), error.status


@api.errorhandler(Refusal)
def refused(refusal: Refusal):
    return api_error(ApiError(refusal.status, refusal.code, refusal.message))


@api.errorhandler(CSRFError)
def csrf_failed(error: CSRFError):
    return api_error(ApiError(400, "csrf_failed", CSRF_MESSAGE))


@api.errorhandler(m.ManagementError)
def auth0_failed(error: m.ManagementError):
    if isinstance(error, m.TokenRejected):
        account.forget_identities()
        return api_error(_login_required())
    failure = describe(error)
    code = AUTH0_CODES.get(failure.status, "auth0_error")
    if not failure.retry_after:
        return api_error(ApiError(failure.status, code, failure.message))
    body, status = api_error(
        ApiError(failure.status, code, failure.message, retry_after=failure.retry_after)
    )
    body.headers["Retry-After"] = str(failure.retry_after)
    return body, status


def _signed_in(*, csrf: bool = False) -> Account:
    if csrf:
        try:
            validate_csrf(request.headers.get("X-CSRFToken", ""))
        except ValidationError as exc:
            raise ApiError(400, "csrf_failed", CSRF_MESSAGE) from exc
    acct = account.current()
    if acct is None:
        raise ApiError(
            401,
            "not_authenticated",
            _("Log in first."),
            redirect_to=url_for("linked_accounts.login", next=_return_to()),
        )
    if acct.token_expired:
        raise _login_required()
    return acct


def _login_required() -> ApiError:
    return ApiError(
        401,
        "login_required",
        _("Your sign-in has expired; the browser must visit Auth0 again."),
        redirect_to=url_for("linked_accounts.relogin_page", next=_return_to()),
    )


def _require_fresh_login(acct: Account) -> None:
    if not reauth.is_fresh(acct):
        raise ApiError(
            403,
            "session_refresh_required",
            _("Sign in again to confirm it is you, then repeat the request."),
            redirect_to=url_for("linked_accounts.reauthenticate", next=_return_to()),
        )


def _return_to() -> str | None:
    """Where the browser comes back to after a trip to Auth0: the SPA's own path."""
    if request.method == "POST":
        return safe_next(_text(_body(), "return_to"))
    return safe_next(request.args.get("return_to"))


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_request", _("Send a JSON object."))
    return body


def _text(body: dict[str, Any], name: str, *, required: bool = False) -> str:
    """Return a string field of the request body ("" when absent), or refuse its type."""
    value = body.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise ApiError(400, "invalid_request", _("`%(field)s` must be a string.", field=name))
    return value


def _listing(items: list[Identity]) -> dict[str, Any]:
    read_at = account.last_read_at() or time.time()
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
        "display_name": operations.name_of(identity),
        "detail": identity.detail,
        "is_primary": identity.is_primary,
        "is_social": identity.is_social,
    }
