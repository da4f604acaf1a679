"""The one way to say "no": a Refusal, whatever the reason, shown as a page or as JSON.

Operations raise it; `pages` and `api` each turn it into an answer in one place. A few codes ask the
browser to go somewhere rather than read a message: `not_authenticated` (log in),
`login_required` (the token must be renewed) and `session_refresh_required` (sign in again before
a change; `resume` names the confirmed action to carry out afterwards).
"""

from __future__ import annotations

import time
from typing import Any

from . import management as m
from .i18n import _, lazy_gettext, ngettext


class Refusal(Exception):
    """The request was not carried out, and nothing was changed."""

    def __init__(
        self,
        code: str,
        title: str,
        message: str,
        status: int = 400,
        *,
        retry_after: int | None = None,
        resume: tuple[str, dict[str, Any]] | None = None,
    ):
        super().__init__(message)
        self.code, self.title, self.message, self.status = code, title, message, status
        self.retry_after = retry_after
        self.resume = resume


def not_authenticated() -> Refusal:
    return Refusal("not_authenticated", _("Log in first"), _("Log in first."), 401)


def login_required() -> Refusal:
    return Refusal(
        "login_required",
        _("Sign in again"),
        _("Your sign-in has expired; the browser must visit Auth0 again."),
        401,
    )


def session_refresh_required(action: str, args: dict[str, Any]) -> Refusal:
    return Refusal(
        "session_refresh_required",
        _("Sign in again"),
        _("Sign in again to confirm it is you, then repeat the request."),
        403,
        resume=(action, args),
    )


# Auth0's failures that need nothing but a message: (code, status, title, message).
_AUTH0_FAILURES: dict[type[m.ManagementError], tuple[str, int, object, object]] = {
    m.Forbidden: (
        "auth0_forbidden",
        403,
        lazy_gettext("Not allowed"),
        lazy_gettext(
            "Auth0 did not allow this change with your current sign-in. "
            "Log out and in again; if it keeps happening, contact support."
        ),
    ),
    m.NotFound: (
        "auth0_not_found",
        404,
        lazy_gettext("Not found"),
        lazy_gettext("Auth0 could not find your profile or that account."),
    ),
    m.Conflict: (
        "conflict",
        409,
        lazy_gettext("Already linked"),
        lazy_gettext("That account is already linked to a profile, so it cannot be linked here."),
    ),
    m.Timeout: (
        "auth0_timeout",
        504,
        lazy_gettext("Auth0 is slow to answer"),
        lazy_gettext(
            "Auth0 did not answer in time. Your list below is re-read before anything else "
            "happens, so check it and try again in a moment."
        ),
    ),
    m.ConnectionFailed: (
        "auth0_unreachable",
        503,
        lazy_gettext("Auth0 is unreachable"),
        lazy_gettext("We could not reach Auth0. Please try again in a moment."),
    ),
}
_AUTH0_ERROR = (
    "auth0_error",
    502,
    lazy_gettext("Auth0 had a problem"),
    lazy_gettext(
        "Auth0 answered with an error. Nothing was changed. Please try again in a moment."
    ),
)


def from_auth0(error: m.ManagementError, now: float | None = None) -> Refusal:
    """Map a Management API error to what the user is told. Nothing was changed by any of them."""
    if isinstance(error, m.TokenRejected):
        return login_required()
    if isinstance(error, m.RateLimited):
        wait = max(1, int((error.reset_at or 0) - (now or time.time()))) if error.reset_at else 60
        return Refusal(
            "rate_limited",
            _("Too many requests"),
            ngettext(
                "Auth0 is limiting how often your account can be changed. "
                "Please try again in %(num)d second.",
                "Auth0 is limiting how often your account can be changed. "
                "Please try again in %(num)d seconds.",
                wait,
            ),
            429,
            retry_after=wait,
        )
    if isinstance(error, m.BadRequest):
        return Refusal(
            "auth0_bad_request",
            _("Not possible"),
            _("Auth0 refused the change: %(reason)s", reason=error.message),
        )
    code, status, title, message = _AUTH0_FAILURES.get(type(error), _AUTH0_ERROR)
    return Refusal(code, str(title), str(message), status)
