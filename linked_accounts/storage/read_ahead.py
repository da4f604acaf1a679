"""Read-ahead: a session's side-store entries fetched together with the session, in one round trip.

A cached view reads Redis twice: the session, then the user's identities from the side store (with
suggestions on, two more per-user values). The side keys come from the user in the session, so
they cannot be named before it is read; but a session reads the same ones on every view. So each
worker remembers, per session, the side keys its requests read (a bounded map in memory: nothing
in the cookie or the store), and the session's next request fetches them with the session itself,
in one MGET.

A value fetched ahead is served once, to the first read of its key in that request, and a write
to the key in the request drops it: it is what a read a moment later would have found. `per_user`
still checks whose entry it is, and the keys are the session's own reads, so a session is never
served another's entry. Without Redis (the file stores) there is no round trip to save.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from cachetools import LRUCache
from flask import g, has_app_context

# Sessions a worker remembers the side keys of (the most recently seen; ~300 bytes each), and the
# keys kept per session (a view reads one, three with suggestions on).
SESSIONS_KEPT = 1024
KEYS_PER_SESSION = 4

MISSING = object()  # nothing fetched ahead for that key in this request
_REQUEST = "_la_read_ahead"  # on `g`: (the session's store id, {key: what MGET answered})


class ReadAhead:
    """The side keys each session reads, and what was fetched ahead for this request."""

    def __init__(self, prefix: str, kept: int = SESSIONS_KEPT) -> None:
        self.prefix = prefix  # the side store's, before each of its keys in Redis
        self.kept = kept  # 0: nothing is learned (no Redis, or one that refuses MGET)
        # The most recently seen sessions; a read or a write makes a session the most recent.
        self._keys: LRUCache[str, tuple[str, ...]] = LRUCache(maxsize=max(1, kept))
        self._lock = threading.Lock()  # a gthread worker's threads share the map (LRUCache
        # is not thread-safe: even a read reorders it)

    def keys_for(self, store_id: str) -> tuple[str, ...]:
        """The side keys the session `store_id` read before (none for a session not seen)."""
        with self._lock:
            return self._keys.get(store_id, ())

    def names(self, keys: Iterable[str]) -> list[str]:
        """The Redis names of side keys."""
        return [self.prefix + key for key in keys]

    def opened(self, store_id: str, fetched: dict[str, bytes | None]) -> None:
        """Note, for this request, the session it opened and what was fetched with it."""
        if has_app_context():
            setattr(g, _REQUEST, (store_id, fetched))

    def take(self, key: str) -> bytes | None | object:
        """What was fetched ahead for `key` in this request (once), or MISSING; and remember
        that the request's session reads `key`."""
        state = g.get(_REQUEST) if has_app_context() else None
        if state is None:
            return MISSING
        store_id, fetched = state
        self._learn(store_id, key)
        return fetched.pop(key, MISSING)

    def drop(self, key: str) -> None:
        """Forget what was fetched ahead for `key`: the request is writing it."""
        state = g.get(_REQUEST) if has_app_context() else None
        if state is not None:
            state[1].pop(key, None)

    def _learn(self, store_id: str, key: str) -> None:
        if not self.kept:
            return
        with self._lock:
            known = self._keys.get(store_id, ())
            if key not in known:
                self._keys[store_id] = (*known, key)[-KEYS_PER_SESSION:]
