"""Small JSON values kept per Auth0 user (suggestions found, suggestions dismissed), beside the
identities cache: in Redis or the cachelib store the sessions use, so every session and device of
the user, and every instance of the site, sees the same value.

Keys are `linked-accounts:{kind}:{sha256(user id)}`: no user id (an email, for some connections)
in key names, and no key any cookie value can name. Each value carries the user id it was kept
for and is ignored for anyone else. With a session store of another kind there is nothing shared
to keep it in, so it falls back to the session (one value per session). This module is the one
place that knows where such values live, so it can move onto a shared side store unchanged for
its callers.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from cachelib import BaseCache
from flask import session

from .identity_cache import _store as shared_store


def get(kind: str, user_id: str) -> Any:
    """Return the value of `kind` kept for `user_id`, or None."""
    store = shared_store()
    if store is None:
        entry = session.get(_session_key(kind))
    elif isinstance(store, BaseCache):
        entry = store.get(_key(kind, user_id))
    else:
        raw = store.get(_key(kind, user_id))
        entry = json.loads(raw) if raw else None
    if not isinstance(entry, dict) or entry.get("user_id") != user_id:
        return None
    return entry.get("value")


def put(kind: str, user_id: str, value: Any, seconds: int) -> None:
    """Keep `value` (JSON-serialisable) for `user_id`, for `seconds`."""
    entry = {"user_id": user_id, "value": value}
    store = shared_store()
    if store is None:
        session[_session_key(kind)] = entry
    elif isinstance(store, BaseCache):
        store.set(_key(kind, user_id), entry, timeout=seconds)
    else:
        store.set(_key(kind, user_id), json.dumps(entry), ex=seconds)


def delete(kind: str, user_id: str) -> None:
    """Forget the value of `kind` kept for `user_id`."""
    store = shared_store()
    if store is None:
        session.pop(_session_key(kind), None)
    else:
        store.delete(_key(kind, user_id))


def _key(kind: str, user_id: str) -> str:
    return f"linked-accounts:{kind}:{hashlib.sha256(user_id.encode()).hexdigest()}"


def _session_key(kind: str) -> str:
    return f"linked_accounts.{kind}"
