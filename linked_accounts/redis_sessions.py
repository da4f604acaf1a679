"""Sessions in Redis, under the rules of `sessions`: only for hosts with the [redis] extra
(Flask-Session's Redis interface imports redis-py)."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask_session.base import ServerSideSession
from flask_session.redis import RedisSessionInterface

from .sessions import SessionRules


class RedisSessions(SessionRules, RedisSessionInterface):
    """Redis expires every key at its TTL; set a `noeviction` (or `volatile-lru` with room)
    policy, so it never evicts sessions to make space."""

    def __init__(self, app: Flask, client, max_age: int, **options) -> None:
        super().__init__(app, client, **options)
        self.max_age = max_age

    def _upsert_session(
        self, session_lifetime: timedelta, session: ServerSideSession, store_id: str
    ) -> None:
        data, ttl, update_only = self._prepare(session)
        encoded = self.serializer.encode(session)
        # XX: written only if still there, atomically: a logout meanwhile stays a logout.
        if not self.client.set(store_id, encoded, ex=ttl, xx=update_only or None):
            session.gone = True
