"""The identities as Auth0 last answered them, cached once per Auth0 user, not once per session.

A user's sessions (phone, laptop, two tabs after a new login) all draw the same list, so they share
one read of the Management API per cache period instead of one each: that keeps a user far below
any of Auth0's rate limits (the tenant's bucket, or the older 10 calls a minute per user). Every
link and unlink answer (the user's whole list) replaces the entry, so every session sees the change
at once.

The entry is one of the user's `per_user` values: in the side store, keyed by a hash of the
tenant and the Auth0 user id, which comes from the session's own verified sign-in, never from a
request; an entry kept for another user or tenant (two deployments sharing one Redis) is never
shown. With a session store `init_sessions` did not build, it falls back to the session itself
(one cache per session, under `keys.IDENTITIES`). One view reads the entry once: it is kept on `g`
for the rest of the request.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from flask import current_app, g

from . import per_user
from .identities import IdentityFormatError, parse_identities, read_fields

log = logging.getLogger(__name__)

# A claim bigger than this was never sent by the Action (it leaves it out), so it is not read.
MAX_CLAIM_BYTES = 2048

KIND = "identities"


def cached(user_id: str, max_age: float) -> list[dict[str, Any]] | None:
    """Return the user's identities read from Auth0 less than `max_age` seconds ago, if any."""
    entry = _entry(user_id)
    if entry is None or time.time() - entry["at"] > max_age:
        return None
    return entry["items"]


def read_at(user_id: str) -> float | None:
    """Return when the user's identities were last read from Auth0 (by any of their sessions)."""
    entry = _entry(user_id)
    return entry["at"] if entry else None


def remember(user_id: str, items: list[dict[str, Any]], at: float | None = None) -> Any:
    """Cache identities as Auth0 just returned them (from GET, DELETE or POST; or as they were
    at `at`), for every session of the user: what the page reads of them (`read_fields`), which
    is returned, the list the user's next views are served."""
    entry = {"items": read_fields(items), "at": time.time() if at is None else at}
    per_user.put(KIND, user_id, entry, _keep_seconds())
    g._la_identities = (user_id, entry)
    return entry["items"]


def seed(user_id: str, value: object, issued_at: object, max_age: float) -> bool:
    """Cache the identities a sign-in's verified ID token carried (the post-login Action's claim)
    as read at the token's `iat`, so the first view reads no Management API; they expire by the
    usual period from then. Ignored, with a log line, unless they parse as Auth0's answer, name
    `user_id` as the primary, fit in MAX_CLAIM_BYTES, and are younger than `max_age`."""
    if value is None:
        return False
    why = _not_seedable(user_id, value, issued_at, max_age)
    if why:
        log.warning("identities claim ignored: %s", why)
        return False
    remember(user_id, value, at=float(issued_at))  # type: ignore[arg-type]
    return True


def _not_seedable(user_id: str, value: object, issued_at: object, max_age: float) -> str | None:
    if not isinstance(issued_at, (int, float)) or time.time() - issued_at > max_age:
        return "the sign-in is older than the cache period"
    try:
        size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
        listed = parse_identities(value)
    except (TypeError, ValueError, IdentityFormatError):
        return "not Auth0's identities array"
    if size > MAX_CLAIM_BYTES:
        return f"bigger than {MAX_CLAIM_BYTES} bytes"
    if not listed or listed[0].key != user_id:
        return "its primary is not the signed-in user"
    return None


def forget(user_id: str) -> None:
    """Make the user's next view read from Auth0: after an answer we could not trust, or a new
    sign-in."""
    per_user.delete(KIND, user_id)
    g._la_identities = (user_id, None)


def flight_key(user_id: str) -> str:
    """The single-flight key of the user's reads: one read at a time across all their sessions."""
    return "user:" + per_user.user_hash(user_id)


def entry_key(user_id: str) -> str:
    """The side-store key of the user's entry."""
    return per_user.key(KIND, user_id)


def _entry(user_id: str) -> dict[str, Any] | None:
    memo = g.get("_la_identities")
    if memo is not None and memo[0] == user_id:
        return memo[1]
    entry = per_user.get(KIND, user_id)  # None when kept for another user or tenant
    if not _whole(entry):
        entry = None  # from an older release, or damaged: read from Auth0
    g._la_identities = (user_id, entry)
    return entry


def _whole(entry: Any) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("items"), list)
        and isinstance(entry.get("at"), (int, float))
    )


def _keep_seconds() -> int:
    # As long as a session lasts: while one session re-reads an expired list, the others show
    # the last one (see single_flight); a fresher read replaces it long before.
    return int(current_app.permanent_session_lifetime.total_seconds())
