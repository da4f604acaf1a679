"""What the user is told when Auth0 fails: a clear message, a status, and a next step."""

from __future__ import annotations

import time
from dataclasses import dataclass

from . import management as m


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
            "Too many requests",
            f"Auth0 is limiting how often your account can be changed. "
            f"Please try again in {wait} second{'s' if wait != 1 else ''}.",
            retry_after=wait,
        )
    if isinstance(error, m.Forbidden):
        return Failure(
            403,
            "Not allowed",
            "Auth0 did not allow this change with your current sign-in. "
            "Log out and in again; if it keeps happening, contact support.",
        )
    if isinstance(error, m.NotFound):
        return Failure(404, "Not found", "Auth0 could not find your profile or that account.")
    if isinstance(error, m.Conflict):
        return Failure(
            409,
            "Already linked",
            "That account is already linked to a profile, so it cannot be linked here.",
        )
    if isinstance(error, m.BadRequest):
        return Failure(400, "Not possible", f"Auth0 refused the change: {error.message}")
    if isinstance(error, m.Timeout):
        return Failure(
            504,
            "Auth0 is slow to answer",
            "Auth0 did not answer in time. Your list below is re-read before anything else "
            "happens, so check it and try again in a moment.",
        )
    if isinstance(error, m.ConnectionFailed):
        return Failure(
            503, "Auth0 is unreachable", "We could not reach Auth0. Please try again in a moment."
        )
    return Failure(
        502,
        "Auth0 had a problem",
        "Auth0 answered with an error. Nothing was changed. Please try again in a moment.",
    )
