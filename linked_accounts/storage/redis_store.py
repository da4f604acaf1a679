"""Sessions in Redis, under the rules of `rules`: only for hosts with the [redis] extra
(Flask-Session's Redis interface imports redis-py)."""

from __future__ import annotations

import logging
from datetime import timedelta

import msgspec
import redis
from flask import Flask
from flask_session.base import ServerSideSession
from flask_session.redis import RedisSessionInterface

from .read_ahead import ReadAhead
from .rules import SessionRules, session_data

log = logging.getLogger(__name__)


class RedisSessions(SessionRules, RedisSessionInterface):
    """Redis expires every key at its TTL; set a `noeviction` (or `volatile-lru` with room)
    policy, so it never evicts sessions to make space."""

    def __init__(self, app: Flask, client, max_age: int, read_ahead: ReadAhead, **options) -> None:
        super().__init__(app, client, **options)
        self.max_age = max_age
        self.read_ahead = read_ahead

    def _retrieve_session_data(self, store_id: str) -> dict | None:
        ahead = self.read_ahead.keys_for(store_id) if self.read_ahead.kept else ()
        fetched: dict[str, bytes | None] = {}
        if ahead:
            try:  # the session and the side entries it read last time, in one round trip
                raw, *values = self.client.mget([store_id, *self.read_ahead.names(ahead)])
                fetched = dict(zip(ahead, values, strict=True))
            except redis.ResponseError as exc:  # a proxy refusing multi-key commands
                log.warning("MGET refused (%s): reading each key on its own from now on", exc)
                self.read_ahead.kept = 0
                raw = self.client.get(store_id)
        else:
            raw = self.client.get(store_id)
        self.read_ahead.opened(store_id, fetched)
        if not raw:
            return None
        try:
            # The serializer's own decoder only: not Flask-Session's fallbacks (JSON, pickle),
            # so nothing but a session this store wrote is ever read as one.
            return session_data(self.serializer.decoder.decode(raw))
        except msgspec.DecodeError:
            return None

    def _upsert_session(
        self, session_lifetime: timedelta, session: ServerSideSession, store_id: str
    ) -> None:
        data, ttl, update_only, _ = self._prepare(session)
        encoded = self.serializer.encode(session)
        # XX: written only if still there, atomically: a logout meanwhile stays a logout.
        if not self.client.set(store_id, encoded, ex=ttl, xx=update_only or None):
            session.gone = True
