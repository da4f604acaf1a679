"""The one way to say "no": a Refusal, whatever the reason, shown as a page or as JSON.

Operations raise it; `pages` and `api` each turn it into an answer in one place, by its type.
Three ask the browser to go somewhere rather than read a message: `NotAuthenticated` (log in),
`LoginRequired` (the token must be renewed) and `SessionRefreshRequired` (sign in again before a
change; it names the confirmed action to carry out afterwards). The handlers only translate: what
they need (where to come back to) is on the refusal, so they never read the request again.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from .auth0 import management as m
from .i18n import _, lazy_gettext, ngettext, provider_name
from .purposes import Resumable

log = logging.getLogger(__name__)


class Refusal(Exception):
    """The request was not carried out, and nothing was changed. Handlers dispatch on the
    subclass (as Flask-WTF's `CSRFError(BadRequest)`); `code` is what the JSON API names it."""

    def __init__(
        self,
        code: str,
        title: str,
        message: str,
        status: int = 400,
        *,
        retry_after: int | None = None,
    ):
        super().__init__(message)
        self.code, self.title, self.message, self.status = code, title, message, status
        self.retry_after = retry_after


class GoElsewhere(Refusal):
    """A refusal the browser answers by going somewhere (a login), then back to `return_to`:
    worked out before raising, so that no handler reads the request again."""

    def __init__(self, code: str, title: str, message: str, status: int, return_to: str | None):
        super().__init__(code, title, message, status)
        self.return_to = return_to


class NotAuthenticated(GoElsewhere):
    """Nobody is signed in: log in, then come back."""

    def __init__(self, return_to: str | None = None):
        super().__init__("not_authenticated", _("Log in first"), _("Log in first."), 401, return_to)


class LoginRequired(GoElsewhere):
    """The Management API token expired or was refused: renew it at Auth0, then come back."""

    def __init__(self, return_to: str | None = None):
        super().__init__(
            "login_required",
            _("Sign in again"),
            _("Your sign-in has expired. Sign in at %(provider)s again.", provider=provider_name()),
            401,
            return_to,
        )


class SessionRefreshRequired(GoElsewhere):
    """A change needs a fresh login; `resume` names the confirmed action to carry out after it,
    `resume_with` its arguments (not `args`: that is every exception's own)."""

    def __init__(
        self, resume: Resumable, args: dict[str, Any], return_to: str | None = None
    ) -> None:
        super().__init__(
            "session_refresh_required",
            _("Sign in again"),
            _("Sign in again to confirm it is you, then repeat the request."),
            403,
            return_to,
        )
        self.resume, self.resume_with = resume, args


class SignedInAsOther(GoElsewhere):
    """A sign-in came back as another account than the one its trip asked for: nothing was done,
    and the browser goes to the page that says so and names the account asked for. What that page
    says, and the trip its "Try again" starts, were kept before raising (signin/wrong_account.py);
    `code` stays the refused change's own ("not_linked", "not_deleted")."""

    def __init__(self, code: str, title: str, message: str) -> None:
        super().__init__(code, title, message, 409, None)


class AlreadyUnlinked(Refusal):
    """The identity is not (any more) linked to the user's profile: the pages say so quietly."""

    def __init__(self, name: str | None = None):
        if name:
            message = _("%(name)s was already unlinked.", name=name)
        else:
            message = _("That account was already unlinked.")
        super().__init__("identity_not_found", _("Already unlinked"), message, 404)


class InvalidRequest(Refusal):
    """The request itself could not be used: a forged or stale form, a body of the wrong shape."""

    def __init__(self, message: str, code: str = "invalid_request"):
        super().__init__(code, _("This request could not be used"), message)


def scope_not_granted(scope: str) -> Refusal:
    """Auth0 granted the sign-in fewer scopes than asked: the user is told it is the site's
    setup, the administrator (in the log) which permission the tenant must allow."""
    log.error(
        "the Auth0 tenant did not grant the scope %s: allow this application to ask for it on "
        "the Auth0 Management API",
        scope,
    )
    return Refusal(
        "scope_not_granted",
        _("Not possible on this site"),
        _(
            "This site is not set up to make this change, so nothing was changed. Please tell "
            "the site's support what you tried to do."
        ),
        403,
    )


def self_deletion_not_granted(name: str) -> Refusal:
    """The tenant does not let an account delete itself (no delete:current_user)."""
    log.error(
        "the Auth0 tenant did not grant delete:current_user: separated accounts can be deleted "
        "with LINKED_ACCOUNTS_DELETE_SEPARATED_MODE=server"
    )
    return Refusal(
        "scope_not_granted",
        _("Not possible on this site"),
        _(
            "This site cannot delete the separate %(name)s account for you, so it was not "
            "deleted. Your unlink stands. Please ask the site's support to delete it.",
            name=name,
        ),
        403,
    )


# Auth0's failures that need nothing but a message: (code, status, title, message).
_AUTH0_FAILURES: dict[type[m.ManagementError], tuple[str, int, object, object]] = {
    m.Forbidden: (
        "auth0_forbidden",
        403,
        lazy_gettext("Not allowed"),
        lazy_gettext(
            "This change was not allowed with your current sign-in. Nothing was changed. "
            "Log out and in again; if it keeps happening, contact support."
        ),
    ),
    m.NotFound: (
        "auth0_not_found",
        404,
        lazy_gettext("Not found"),
        lazy_gettext("Your profile or that account was not found at %(provider)s."),
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
        lazy_gettext("No answer in time"),
        lazy_gettext(
            "No answer came from %(provider)s in time. Go back to your linked accounts: they "
            "are read again, so check them and try again in a moment."
        ),
    ),
    m.ConnectionFailed: (
        "auth0_unreachable",
        503,
        lazy_gettext("Cannot connect right now"),
        lazy_gettext(
            "There is no connection to %(provider)s just now. Please try again in a moment."
        ),
    ),
}
_AUTH0_ERROR = (
    "auth0_error",
    502,
    lazy_gettext("Something went wrong"),
    lazy_gettext(
        "An error came back from %(provider)s. Nothing was changed. Please try again in a moment."
    ),
)


def _wait(error: m.RateLimited, now: float) -> int:
    """Seconds until Auth0 takes calls again: Retry-After when sent, else x-ratelimit-reset,
    else a minute (the window of the per-user limit in Auth0's older docs: the longest known)."""
    if error.retry_after is not None:
        return max(1, error.retry_after)
    if error.reset_at:
        return max(1, int(error.reset_at - now))
    return 60


def log_auth0_failure(error: m.ManagementError) -> None:
    """Tell the administrator what Auth0 answered (its own words included): the user is told
    only what it means for them. A rejected token is routine (the user signs in again)."""
    if not isinstance(error, m.TokenRejected):
        log.warning(
            "management API failed: %s status=%s code=%s message=%r",
            type(error).__name__,
            error.status,
            error.code,
            error.message[:200],
        )


def from_auth0(error: m.ManagementError, now: float | None = None) -> Refusal:
    """Map a Management API error to what the user is told, and tell the administrator what
    Auth0 said (`log_auth0_failure`): every page and API answer of a failure comes through here.
    Nothing was changed by any of them."""
    log_auth0_failure(error)
    if isinstance(error, m.TokenRejected):
        return LoginRequired()
    if isinstance(error, m.RateLimited):
        wait = _wait(error, now or time.time())
        return Refusal(
            "rate_limited",
            _("Too many requests"),
            ngettext(
                "There were too many requests for your account just now. Nothing was changed. "
                "Please try again in %(num)d second.",
                "There were too many requests for your account just now. Nothing was changed. "
                "Please try again in %(num)d seconds.",
                wait,
            ),
            429,
            retry_after=wait,
        )
    if isinstance(error, m.Forbidden) and error.code == "insufficient_scope":
        # Auth0 names the scopes it expected ("..., expected any of: a,b"): pass them on.
        expected = error.message.partition("expected any of:")[2].strip(" .")
        if expected:
            return scope_not_granted(", ".join(s.strip() for s in expected.split(",")))
    if isinstance(error, m.BadRequest):
        # Auth0's reason is written for developers, in English: the log has it (pages.py).
        return Refusal(
            "auth0_bad_request",
            _("Not possible"),
            _("This change was refused, so nothing was changed."),
        )
    code, status, title, message = _AUTH0_FAILURES.get(type(error), _AUTH0_ERROR)
    return Refusal(code, str(title), str(message) % {"provider": provider_name()}, status)
