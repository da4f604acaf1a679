"""What the user is told when Auth0 fails: a clear message, a status, and a next step."""

from __future__ import annotations

import time
from dataclasses import dataclass

from . import management as m
from .i18n import _, ngettext


@dataclass(frozen=True)
class Failure:
    """How one failure is shown: HTTP status, headline and what to do next."""

    status: int
    title: str
    message: str
    retry_after: int | None = None


def describe(error: m.ManagementError, now: float | None = None) -> Failure:
    """Map a Management API error to what the user sees. Nothing was changed by any of them."""
    if isinstance(error, m.RateLimited):
        wait = max(1, int((error.reset_at or 0) - (now or time.time()))) if error.reset_at else 60
        return Failure(
            429,
            _("Too many requests"),
            ngettext(
                "Auth0 is limiting how often your account can be changed. "
                "Please try again in %(num)d second.",
                "Auth0 is limiting how often your account can be changed. "
                "Please try again in %(num)d seconds.",
                wait,
            ),
            retry_after=wait,
        )
    if isinstance(error, m.Forbidden):
        return Failure(
            403,
            _("Not allowed"),
            _(
                "Auth0 did not allow this change with your current sign-in. "
                "Log out and in again; if it keeps happening, contact support."
            ),
        )
    if isinstance(error, m.NotFound):
        return Failure(404, _("Not found"), _("Auth0 could not find your profile or that account."))
    if isinstance(error, m.Conflict):
        return Failure(
            409,
            _("Already linked"),
            _("That account is already linked to a profile, so it cannot be linked here."),
        )
    if isinstance(error, m.BadRequest):
        return Failure(
            400, _("Not possible"), _("Auth0 refused the change: %(reason)s", reason=error.message)
        )
    if isinstance(error, m.Timeout):
        return Failure(
            504,
            _("Auth0 is slow to answer"),
            _(
                "Auth0 did not answer in time. Your list below is re-read before anything else "
                "happens, so check it and try again in a moment."
            ),
        )
    if isinstance(error, m.ConnectionFailed):
        return Failure(
            503,
            _("Auth0 is unreachable"),
            _("We could not reach Auth0. Please try again in a moment."),
        )
    return Failure(
        502,
        _("Auth0 had a problem"),
        _("Auth0 answered with an error. Nothing was changed. Please try again in a moment."),
    )
