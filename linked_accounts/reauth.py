"""A fresh login before any change to linked accounts, then the change the user had confirmed.

Changing sign-in methods is what an attacker with a stolen session wants, so (as Ory Kratos,
django-allauth and Clerk do) a change needs a login within REAUTH_MAX_AGE seconds. Otherwise the
same user signs in again (`prompt=login`, `max_age=0`), we check the answer ourselves (Authlib does
not check `auth_time`), and resume exactly the confirmed action, named in the `resumable` table
that `init_app` builds.
"""

from __future__ import annotations

import time
from typing import Any

from flask import redirect, request, url_for

from . import account, refusals, trips
from .account import Account
from .auth import signed_in
from .i18n import _
from .navigation import safe_next, to_settings
from .state import state


def is_fresh(acct: Account, *, reauthenticated: bool = False) -> bool:
    """Tell whether the user logged in recently enough to change their linked accounts.

    `reauthenticated`: this request resumes an action right after a verified fresh login, which
    must go ahead even with REAUTH_MAX_AGE=0.
    """
    if reauthenticated:
        return True
    if not isinstance(acct.auth_time, (int, float)):
        return False
    return time.time() - acct.auth_time <= state().settings.reauth_max_age


def still_fresh(acct: Account) -> bool:
    """Tell whether a change started after a fresh login may still finish: the login is at most
    REAUTH_MAX_AGE plus one trip's lifetime old. Checked again when a link or deletion comes back
    from Auth0, so an abandoned trip cannot ride on a login from hours ago."""
    if not isinstance(acct.auth_time, (int, float)):
        return False
    return time.time() - acct.auth_time <= state().settings.reauth_max_age + trips.LIFETIME


def require_fresh(
    acct: Account, action: str, args: dict[str, Any], *, reauthenticated: bool = False
) -> None:
    """Refuse with `session_refresh_required` (resuming `action` afterwards) unless fresh."""
    if not is_fresh(acct, reauthenticated=reauthenticated):
        raise refusals.session_refresh_required(action, args)


def start(acct: Account, action: str, args: dict[str, Any]) -> str:
    """Return the URL of a same-user re-login that resumes `action(acct, **args)` afterwards."""
    params = {
        "audience": state().settings.audience,
        "prompt": "login",
        "max_age": 0,
        "login_hint": acct.email or "",
    }
    return trips.start("reauth", params, action=action, args=args)


def reauthenticate():
    """Sign in again, then return to `next`: where the JSON API sends a browser to confirm."""
    acct = signed_in()
    target = safe_next(request.args.get("next")) or url_for("linked_accounts.settings")
    require_fresh(acct, "return_to", {"next": target})
    return redirect(target)


def return_to(acct: Account, next: str, *, reauthenticated: bool = False):
    """Go back to where the user was; they repeat their request, now with a fresh login."""
    return redirect(next)


def finish(token: dict[str, Any], claims: dict[str, Any], trip: dict[str, Any]):
    """Check the re-login was the same user, just now; then carry out the confirmed action."""
    acct = account.current()
    if acct is None:
        return redirect(url_for("linked_accounts.login"))
    if str(claims.get("sub")) != acct.user_id:
        return _not_changed(_("You signed in as a different account, so nothing was changed."))
    if not trips.signed_in_during(claims, trip):
        return _not_changed(_("Auth0 did not confirm a fresh sign-in, so nothing was changed."))
    acct = account.renew_token(token, claims)
    action = state().resumable.get(trip.get("action", ""))
    if action is None:  # started by an older release: nothing to resume
        return to_settings()
    return action(acct, reauthenticated=True, **trip["args"])


def _not_changed(message: str):
    return to_settings(message, "error")


def register(bp) -> None:
    """Add the re-authentication route to the extension's blueprint."""
    bp.add_url_rule("/reauthenticate", view_func=reauthenticate, methods=["GET"])
