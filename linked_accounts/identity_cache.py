"""The identities as Auth0 last answered them, cached once per Auth0 user, not once per session.

A user's sessions (phone, laptop, two tabs after a new login) all draw the same list, so they share
one read of the Management API per cache period instead of one each: that keeps a user far below
any of Auth0's rate limits (the tenant's bucket, or the older 10 calls a minute per user). Every
link and unlink answer (the user's whole list) replaces the entry, so every session sees the change
at once.

The entry lives beside the sessions: in Redis, or in a cachelib store (the file store). It is keyed
by a hash of the Auth0 user id, which comes from the session's own verified sign-in, never from a
request, and it carries that user id too: an entry that names someone else is never shown. With a
session store we do not know, it falls back to the session itself (one cache per session).
One view reads the entry once: it is kept on `g` for the rest of the request.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from cachelib import BaseCache
from flask import current_app, g, session

PREFIX = "linked-accounts:identities:"
SESSION_KEY = "linked_accounts.identities"  # the fallback: one entry in the session
_MISSING = object()


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


def remember(user_id: str, items: list[dict[str, Any]]) -> None:
    """Cache identities as Auth0 just returned them (from GET, DELETE or POST), for every session
    of the user."""
    entry = {"user_id": user_id, "items": items, "at": time.time()}
    store = _store()
    if store is None:
        session[SESSION_KEY] = entry
    elif isinstance(store, BaseCache):
        store.set(_key(user_id), entry, timeout=_keep_seconds())
    else:
        store.set(_key(user_id), json.dumps(entry), ex=_keep_seconds())
    g._la_identities = (user_id, entry)


def forget(user_id: str) -> None:
    """Make the user's next view read from Auth0: after an answer we could not trust, or a new
    sign-in."""
    store = _store()
    if store is None:
        session.pop(SESSION_KEY, None)
    else:
        store.delete(_key(user_id))
    g._la_identities = (user_id, None)


def flight_key(user_id: str) -> str:
    """The single-flight key of the user's reads: one read at a time across all their sessions."""
    return "user:" + hashlib.sha256(user_id.encode()).hexdigest()


def _entry(user_id: str) -> dict[str, Any] | None:
    memo = g.get("_la_identities")
    if memo is not None and memo[0] == user_id:
        return memo[1]
    store = _store()
    if store is None:
        entry = session.get(SESSION_KEY)
    elif isinstance(store, BaseCache):
        entry = store.get(_key(user_id))
    else:
        raw = store.get(_key(user_id))
        entry = json.loads(raw) if raw else None
    if not isinstance(entry, dict) or entry.get("user_id") != user_id:
        entry = None  # not this user's (or from an older release): read from Auth0
    g._la_identities = (user_id, entry)
    return entry


def _store() -> Any:
    """The session store's Redis client or cachelib cache, or None for any other store."""
    config = current_app.config
    if config.get("SESSION_TYPE") == "redis":
        return config.get("SESSION_REDIS")
    if config.get("SESSION_TYPE") == "cachelib":
        return config.get("SESSION_CACHELIB")
    return None


def _key(user_id: str) -> str:
    # Hashed: no user id (an email address, for some connections) in the store's key names.
    return PREFIX + hashlib.sha256(user_id.encode()).hexdigest()


def _keep_seconds() -> int:
    # As long as a session lasts: while one session re-reads an expired list, the others show
    # the last one (see single_flight); a fresher read replaces it long before.
    return int(current_app.permanent_session_lifetime.total_seconds())
