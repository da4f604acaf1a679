"""A sign-in that came back as another account than the one it asked for.

Nothing of it is kept but what the page needs to say so and to try again: who was asked for (in
the person's own words: the email or name the extension or the host knows them by, or the
account a merge or a deletion named, with its sign-in method; never a URL's), who signed in
instead, and the trip to start again. It lives in the session, bound to the person it was asked
for, for no longer than a trip may take, so the page can be reloaded and its "Try again" form (a
POST with a CSRF token) starts the very same trip: nothing of it comes from a form.
"""

from __future__ import annotations

import time
from typing import Any

from flask import session

from ..purposes import Trip
from ..state import state
from ..storage import keys
from . import account

KEY = keys.WRONG_ACCOUNT


def person() -> str | None:
    """The user id of whoever this browser is signed in as: the host's user as its guest, else
    the extension's own sign-in."""
    st = state()
    if st.host_signs_in:
        return st.host_user()
    acct = account.current()
    return acct.user_id if acct else None


def known_as() -> str:
    """How the signed-in person knows their own account: an email or a name, from the sign-in the
    extension kept, else from the host (`current_user_name`); "" when neither knows."""
    acct = account.current()
    if acct is not None and (acct.email or acct.name):
        return acct.email or acct.name or ""
    named = state().current_user_name
    return str(named() or "") if named is not None else ""


def remember(
    purpose: Trip, claims: dict[str, Any], asked_for: str, *, method: str = "", **trip: Any
) -> None:
    """Keep what the page says about this sign-in, and the trip `purpose` to start again (its
    `again` in `init_app`'s table). `method`: the sign-in method asked for, when the trip named
    one (a merge's or a deletion's, whose account is not the one signed in here)."""
    session[KEY] = {
        "purpose": purpose.value,
        "for": person(),
        "asked_for": asked_for,
        "method": method,
        "signed_in_as": str(claims.get("email") or claims.get("name") or claims.get("sub", "")),
        "at": time.time(),
        "trip": trip,
    }


def kept() -> dict[str, Any] | None:
    """What `remember` kept, if it is still this person's and recent enough to try again."""
    data = session.get(KEY)
    if not isinstance(data, dict) or data.get("for") is None or data.get("for") != person():
        return None
    at = data.get("at")
    if not isinstance(at, (int, float)) or time.time() - at > keys.TRIP_LIFETIME:
        return None
    return data


def take() -> dict[str, Any] | None:
    """Return what was kept (as `kept`) and forget it: a trip is started again once."""
    data = kept()
    session.pop(KEY, None)
    return data
