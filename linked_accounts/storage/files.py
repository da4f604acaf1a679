"""Sessions in files (cachelib), the store that needs no setup: signed-in sessions in one
folder, never evicted; sessions nobody is signed in to (a login on its way to Auth0) in another,
with a size limit, so a flood of cookieless requests can push out only its own kind."""

from __future__ import annotations

import itertools
import os
import time
from datetime import timedelta

from cachelib.file import FileSystemCache
from flask import Flask
from flask_session.base import ServerSideSession
from flask_session.cachelib import CacheLibSessionInterface

from .rules import SessionRules, session_data

PENDING_THRESHOLD = 10_000  # sessions on their way to Auth0 the file store keeps at most
SWEEP_EVERY = 3600  # seconds between removals of expired signed-in sessions


class PendingFiles(FileSystemCache):
    """cachelib's file cache, with a prune that stays cheap when full.

    cachelib prunes by reading every file (expired ones first, then the oldest): under a flood
    that keeps the folder at its threshold, every write would read the whole folder. Here a
    write over the threshold drops a few entries, the first the folder lists (its order follows
    the file names, hashes of the session ids, so it picks no one in particular): a flood then
    pushes out arbitrary sessions of its own kind, at a fixed cost per write. Entries live a
    trip's lifetime at most, so an expired one is gone at the latest when it is pushed out.
    """

    EVICT = 4  # entries dropped per write over the threshold (more than one: a burst catches up)

    def _prune(self) -> None:
        if not self._over_threshold():
            return
        with os.scandir(self._path) as entries:
            names = (e for e in entries if e.is_file() and not self._is_mgmt(e.name))
            victims = [e.path for e in itertools.islice(names, self.EVICT)]
        for path in victims:
            try:
                os.remove(path)
            except FileNotFoundError:
                continue  # another worker took it
            self._update_count(delta=-1)


class FileSessions(SessionRules, CacheLibSessionInterface):
    """Signed-in sessions in `cache` (no threshold), the rest in `pending`."""

    def __init__(
        self, app: Flask, cache: FileSystemCache, pending: PendingFiles, max_age: int, **options
    ) -> None:
        super().__init__(app, cache, **options)
        self.pending = pending
        self.max_age = max_age
        self._swept_at = time.time()

    def _retrieve_session_data(self, store_id: str) -> dict | None:
        data = self.cache.get(store_id)
        return session_data(data if data is not None else self.pending.get(store_id))

    def _delete_session(self, store_id: str) -> None:
        self.cache.delete(store_id)
        self.pending.delete(store_id)

    def _upsert_session(
        self, session_lifetime: timedelta, session: ServerSideSession, store_id: str
    ) -> None:
        data, ttl, update_only, pending = self._prepare(session)
        if update_only and not (self.cache.has(store_id) or self.pending.has(store_id)):
            session.gone = True
            return
        if pending:
            store, other = self.pending, self.cache
        else:
            # Someone is signed in (to the extension, or in host sign-in mode to the host): not
            # ours to cut short, nor for a flood to push out.
            store, other = self.cache, self.pending
            self._sweep()
        store.set(store_id, data, timeout=ttl)
        other.delete(store_id)

    def _sweep(self) -> None:
        """Remove expired signed-in sessions now and then: a store without a threshold never
        prunes by itself (cachelib has no public call for it)."""
        if time.time() - self._swept_at > SWEEP_EVERY:
            self._swept_at = time.time()
            self.cache._remove_expired(time.time())
