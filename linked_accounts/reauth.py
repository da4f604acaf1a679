"""A fresh login before any change to linked accounts, then the change the user had confirmed.

Changing sign-in methods is what an attacker with a stolen session wants, so (as Ory Kratos,
django-allauth and Clerk do) a change needs a login within REAUTH_MAX_AGE seconds. Otherwise the
same user signs in again (`prompt=login`, `max_age=0`), we check the answer ourselves (Authlib does
not check `auth_time`), and resume exactly the confirmed action.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flask import g, redirect, request, url_for

from . import account
from .account import Account
from .auth import (
    finisher,
    login_required,
    safe_next,
    signed_in_during,
    start_flow,
    to_settings,
)
from .blueprint import bp
from .i18n import _
from .state import state

Action = Callable[..., Any]
_actions: dict[str, Action] = {}


def resumable(name: str) -> Callable[[Action], Action]:
    """Register an action that can be resumed after a re-authentication: fn(acct, **args)."""

    def register(fn: Action) -> Action:
        _actions[name] = fn
        return fn

    return register


def is_fresh(acct: Account) -> bool:
    """Tell whether the user logged in recently enough to change their linked accounts."""
    if g.get("linked_accounts_reauthenticated"):
        return True  # just verified; even with REAUTH_MAX_AGE=0 the action must go ahead
    if not isinstance(acct.auth_time, (int, float)):
        return False
    return time.time() - acct.auth_time <= state().settings.reauth_max_age


def require_fresh_login(acct: Account, action: str, **args: Any):
    """Return None when fresh; else a redirect to re-authenticate, resuming `action` after."""
    if is_fresh(acct):
        return None
    params = {
        "audience": state().settings.audience,
        "prompt": "login",
        "max_age": 0,
        "login_hint": acct.email or "",
    }
    return start_flow("reauth", params, action=action, args=args)


@bp.get("/reauthenticate")
@login_required
def reauthenticate(acct: Account):
    """Sign in again, then return to `next`: where the JSON API sends a browser to confirm."""
    target = safe_next(request.args.get("next")) or url_for("linked_accounts.settings")
    return require_fresh_login(acct, "return_to", next=target) or redirect(target)


@resumable("return_to")
def return_to(acct: Account, next: str):
    """Go back to where the user was; they repeat their request, now with a fresh login."""
    return redirect(next)


@finisher("reauth")
def finish_reauth(token: dict[str, Any], claims: dict[str, Any], flow: dict[str, Any]):
    acct = account.current()
    if acct is None:
        return redirect(url_for("linked_accounts.login"))
    if str(claims.get("sub")) != acct.user_id:
        return _refused(_("You signed in as a different account, so nothing was changed."))
    if not signed_in_during(claims, flow):
        return _refused(_("Auth0 did not confirm a fresh sign-in, so nothing was changed."))
    acct = account.refresh_login(token, claims)
    g.linked_accounts_reauthenticated = True
    return _actions[flow["action"]](acct, **flow["args"])


def _refused(message: str):
    return to_settings(message, "error")
