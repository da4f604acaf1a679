"""A fresh login before any change to linked accounts, then the change the user had confirmed.

Changing sign-in methods is what an attacker with a stolen session wants, so (as Ory Kratos,
django-allauth and Clerk do) a change needs a login within REAUTH_MAX_AGE seconds. Otherwise the
same user signs in again (`prompt=login`, `max_age=0`), we check the answer ourselves (Authlib does
not check `auth_time`), and resume exactly the confirmed action, named in the `resumable` table
that `init_app` builds. The action is handed a `FreshLogin`: proof of that verified login, which
only `finish` can make (a flag any caller could set would be no proof at all).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from flask import redirect, url_for

from ..i18n import _
from ..navigation import to_accounts
from ..purposes import Resumable, Trip
from ..refusals import SessionRefreshRequired
from ..state import state
from . import account, trips, wrong_account
from .account import Account

_MINT = object()  # FreshLogin's constructor token: never leaves this module


@dataclass(frozen=True)
class FreshLogin:
    """Proof that `user_id` has just signed in again, checked by `finish` against Auth0's
    verified ID token (same user, `auth_time` during the trip)."""

    user_id: str
    auth_time: float
    _mint: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._mint is not _MINT:
            raise TypeError("only reauth.finish makes a FreshLogin, from a verified re-login")


def is_fresh(acct: Account, proof: FreshLogin | None = None) -> bool:
    """Tell whether the user logged in recently enough to change their linked accounts.

    `proof`: this request resumes an action right after a verified fresh login of this user,
    which goes ahead even with REAUTH_MAX_AGE=0.
    """
    if isinstance(proof, FreshLogin) and proof.user_id == acct.user_id:
        return True
    if not isinstance(acct.auth_time, (int, float)):
        return False
    return time.time() - acct.auth_time <= state().settings.reauth_max_age


def still_fresh(acct: Account) -> bool:
    """Tell whether a change started after a fresh login may still finish: the login is at most
    REAUTH_MAX_AGE plus one trip's lifetime old. Checked again when a link or deletion comes back
    from Auth0, so an abandoned trip cannot ride on a login from hours ago."""
    return signed_in_recently(acct.auth_time)


def signed_in_recently(auth_time: object) -> bool:
    """Tell whether a login made at `auth_time` may still finish a change (`still_fresh`'s rule):
    also what a merge's `link_with` ID token stands for, whichever login gave it."""
    if not isinstance(auth_time, (int, float)):
        return False
    return time.time() - auth_time <= state().settings.reauth_max_age + trips.LIFETIME


def login_id_token(acct: Account, proof: FreshLogin | None = None) -> str | None:
    """Return the ID token of `acct`'s own login when it may stand in for signing in again (a
    merge's `link_with`), else None: the login is fresh by `is_fresh`, the token is the one that
    login gave this session (same user, same `auth_time`), and it stays valid for as long as the
    trip it goes on may take (Auth0 refuses an expired `link_with`)."""
    kept = account.kept_login()
    if kept is None or kept.user_id != acct.user_id or kept.auth_time != acct.auth_time:
        return None
    if not is_fresh(acct, proof) or kept.expires_at <= time.time() + trips.LIFETIME:
        return None
    return kept.id_token


class Unproven(StrEnum):
    """Why a sign-in that came back from Auth0 does not prove what its trip asked."""

    OTHER_ACCOUNT = "other_account"  # it is not the account the trip asked for
    NOT_AGAIN = "not_again"  # no login during the trip: Auth0's session was reused
    STALE = "stale"  # the person's own login is no longer recent enough to finish a change


def unproven(
    claims: dict[str, Any],
    trip: dict[str, Any],
    user_id: str | None,
    acct: Account | None = None,
) -> Unproven | None:
    """The one check of a sign-in that came back from a trip: it is `user_id` (None: any
    account), it was made during the trip (`auth_time`, which Authlib does not check), and, for a
    change of `acct`'s, `acct`'s own login is still fresh enough (`still_fresh`). None: proven."""
    if user_id is not None and str(claims.get("sub")) != user_id:
        return Unproven.OTHER_ACCOUNT
    if not trips.signed_in_during(claims, trip):
        return Unproven.NOT_AGAIN
    if acct is not None and not still_fresh(acct):
        return Unproven.STALE
    return None


def require_fresh(
    acct: Account, resume: Resumable, args: dict[str, Any], proof: FreshLogin | None = None
) -> None:
    """Refuse with SessionRefreshRequired (resuming `resume` afterwards) unless fresh."""
    if not is_fresh(acct, proof):
        raise SessionRefreshRequired(resume, args)


def start(acct: Account, resume: Resumable, args: dict[str, Any]) -> str:
    """Return the URL of a same-user re-login that resumes `resume(acct, **args)` afterwards."""
    params = {
        "audience": state().settings.audience,
        "prompt": "login",
        "max_age": 0,
        "login_hint": acct.email or "",
    }
    return trips.start(Trip.REAUTH, params, action=resume.value, args=args)


def return_to(acct: Account, next: str, proof: FreshLogin | None = None):
    """Go back to where the user was once the login is fresh; they repeat their request."""
    require_fresh(acct, Resumable.RETURN_TO, {"next": next}, proof)
    return redirect(next)


def finish(token: dict[str, Any], claims: dict[str, Any], trip: dict[str, Any]):
    """Check the re-login was the same user, just now; then carry out the confirmed action."""
    acct = account.current()
    if acct is None:
        return redirect(url_for("linked_accounts.login"))
    problem = unproven(claims, trip, acct.user_id)
    if problem is Unproven.OTHER_ACCOUNT:
        # Nothing changes; the page names the account to sign in as, and can try again.
        asked_for = acct.email or acct.name or ""
        args = {"action": trip.get("action"), "args": trip.get("args")}
        wrong_account.remember(Trip.REAUTH, claims, asked_for, **args)
        return redirect(url_for("linked_accounts.other_account"), 303)
    if problem is Unproven.NOT_AGAIN:
        return _not_changed(_("Your sign-in was not confirmed again, so nothing was changed."))
    acct = account.renew_token(token, claims)
    try:
        action = state().resumable[Resumable(trip.get("action"))]
    except ValueError:  # started by an older release: nothing to resume
        return to_accounts()
    proof = FreshLogin(acct.user_id, float(claims["auth_time"]), _MINT)
    return action(acct, proof=proof, **trip["args"])


def _not_changed(message: str):
    return to_accounts(message, "error")
