"""What a trip to Auth0 is for, what finishes it, and which confirmed actions a fresh login
resumes: the kinds `init_app`'s two tables must each cover (checked at start-up)."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any, NamedTuple


class Trip(StrEnum):
    """Why the browser went to Auth0: each purpose has a handler in `init_app`'s table."""

    LOGIN = "login"
    RENEW = "renew"  # a new Management API token for the same user
    REAUTH = "reauth"  # a fresh login before a change, which then resumes it
    LINK = "link"  # a login to the other account, whose ID token is linked
    DELETE_SEPARATED = "delete_separated"  # a login to a separated account, to delete it
    MERGE = "merge"  # a sign-in of a suggested merge: the signed-in account's own, or the other's
    AT_LOGIN = "at_login"  # the proof sign-in of the at-login door, while Auth0 waits


class Resumable(StrEnum):
    """The confirmed actions a re-authentication trip carries out once it comes back: each has
    an entry in `init_app`'s table."""

    UNLINK = "unlink"
    LINK = "link"
    DELETE_SEPARATED = "delete_separated"
    MERGE = "merge"  # start merging a suggested account
    RETURN_TO = "return_to"  # nothing to carry out: back to the page, which repeats its request


class TripHandler(NamedTuple):
    """What to do when a trip comes back: `finish(token, claims, trip)` after Auth0 signed the
    user in, `fail(trip, status, reason, error)` when it did not (`error`: Auth0's error code
    when Auth0 refused, e.g. `login_required`). `again(trip)`, for a trip that asks for one
    account: start it again after it came back as another, from what it carried (the
    wrong-account page's "Try again")."""

    finish: Callable[[dict[str, Any], dict[str, Any], dict[str, Any]], Any]
    fail: Callable[..., Any]
    again: Callable[[dict[str, Any]], Any] | None = None
