"""Small JSON values kept per Auth0 user (the identities cache, suggestions found, suggestions
dismissed), in the side store (`storage.side`), so every session and device of the user, and every
instance of the site, sees the same value.

Keys are `{kind}:{sha256(tenant, user id)}`: no user id (an email, for some connections) in key
names. Each value carries the user id and tenant it was kept for and is ignored for anyone else.
With a session store `init_sessions` did not build there is no side store, so it falls back to
the session (one value per session, under the key `keys` names for its kind).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

from flask import current_app, session

from .state import state
from .storage import keys, side_store

# The session key of each kind, for the fallback without a side store.
SESSION_KEYS = {
    "identities": keys.IDENTITIES,
    "same-email": keys.SUGGESTIONS,
    "dismissed": keys.DISMISSED,
    "email-verified": keys.EMAIL_VERIFIED,
}


def get(kind: str, user_id: str) -> Any:
    """Return the value of `kind` kept for `user_id`, or None."""
    store, tenant = side_store(current_app), _tenant()
    if store is None:
        entry = session.get(SESSION_KEYS[kind])
    else:
        entry = store.get(_key(kind, tenant, user_id))
    if not isinstance(entry, dict) or entry.get("user_id") != user_id:
        return None
    if entry.get("tenant") != tenant:
        return None
    return entry.get("value")


def put(kind: str, user_id: str, value: Any, seconds: int) -> None:
    """Keep `value` (JSON-serialisable) for `user_id`, for `seconds`."""
    store, tenant = side_store(current_app), _tenant()
    entry = {"tenant": tenant, "user_id": user_id, "value": value}
    if store is None:
        session[SESSION_KEYS[kind]] = entry
    else:
        store.set(_key(kind, tenant, user_id), entry, ttl=seconds)


def delete(kind: str, user_id: str) -> None:
    """Forget the value of `kind` kept for `user_id`."""
    store = side_store(current_app)
    if store is None:
        session.pop(SESSION_KEYS[kind], None)
    else:
        store.delete(key(kind, user_id))


def key(kind: str, user_id: str) -> str:
    """The side-store key of `kind` for `user_id`."""
    return _key(kind, _tenant(), user_id)


def user_hash(user_id: str) -> str:
    """Name `user_id` of this tenant without naming it (an email address, for some connections):
    two deployments sharing one Redis never meet."""
    return _hash(_tenant(), user_id)


@lru_cache(maxsize=256)  # read on every view: worked out once per user (and kind) a worker serves
def _key(kind: str, tenant: str, user_id: str) -> str:
    return f"{kind}:{_hash(tenant, user_id)}"


def _hash(tenant: str, user_id: str) -> str:
    return hashlib.sha256(f"{tenant}\n{user_id}".encode()).hexdigest()


def _tenant() -> str:
    # The tenant's own identifier: the same whichever (custom) domain people sign in at.
    return state().settings.canonical_url
