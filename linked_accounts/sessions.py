"""Server-side sessions (Flask-Session): a file store with no setup, or Redis when configured.

Flask-Session's own interfaces, with four rules added for a session that holds Auth0 tokens:

- an absolute lifetime (`LINKED_ACCOUNTS_SESSION_MAX_AGE`, 8 hours), counted from when the session
  got its content (sign-in clears the session, so for a signed-in user: from sign-in). Neither
  requests nor silent token renewal extend it: the cookie and the store's TTL both end then, and
  an older session is refused when loaded. So an unchanged session need not be written again
  (`SESSION_REFRESH_EACH_REQUEST` is off);
- a session deleted (logout) or given a new id (sign-in) while another request was in flight is
  never written back by that request;
- the file store keeps sessions that hold no sign-in (a login on its way to Auth0) apart, in a
  store of their own with a size limit, so a flood of cookieless requests can push out only its
  own kind: cachelib evicts at its threshold, and must never evict a signed-in user;
- a session never grows past `MAX_BYTES` (the identity cache, which can be re-read, goes first).
"""

from __future__ import annotations

import logging
import os
import time
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask_session.base import ServerSideSession
from flask_session.cachelib import CacheLibSessionInterface

from . import identity_cache, trips
from .settings import DEFAULTS

log = logging.getLogger(__name__)

MAX_AGE = DEFAULTS["LINKED_ACCOUNTS_SESSION_MAX_AGE"]  # unless the host's config says otherwise
MAX_BYTES = 16 * 1024
PENDING_THRESHOLD = 10_000  # sessions on their way to Auth0 the file store keeps at most
STARTED = "linked_accounts.session_started_at"
# What a session holds on its way to Auth0 and before any sign-in: trips (and Authlib's entries
# for them), a CSRF token, its start, flashed messages, Flask-Session's permanence flag.
IN_TRANSIT = (
    trips.PENDING,
    "_state_linked_accounts_",
    "csrf_token",
    STARTED,
    "_flashes",
    "_permanent",
)


class SessionRules:
    """The rules above, over any Flask-Session interface (mixed in before it)."""

    max_age: int

    def open_session(self, app: Flask, request) -> ServerSideSession:
        session = super().open_session(app, request)
        if session:  # loaded from the store (a new session is empty)
            started = session.get(STARTED)
            if isinstance(started, (int, float)) and time.time() - started > self.max_age:
                self._delete_session(self._get_store_id(session.sid))
                session = self.session_class(
                    sid=self._generate_sid(self.sid_length), permanent=self.permanent
                )
            else:
                session.stored_sid = session.sid
            session.accessed = False
        return session

    def get_expiration_time(self, app: Flask, session: ServerSideSession) -> datetime | None:
        if not session.permanent:
            return None
        return datetime.fromtimestamp(self._ends_at(session), UTC)

    def should_set_cookie(self, app: Flask, session: ServerSideSession) -> bool:
        if getattr(session, "gone", False):
            return False  # logged out or rotated meanwhile: keep the browser's newer cookie
        return super().should_set_cookie(app, session)

    def _ends_at(self, session: ServerSideSession) -> float:
        started = session.get(STARTED)
        return (started if isinstance(started, (int, float)) else time.time()) + self.max_age

    def _prepare(self, session: ServerSideSession) -> tuple[dict, int, bool]:
        """Stamp the start, bound the size; return the data, its TTL and whether it must exist
        already (a session loaded under this id is only updated, never recreated)."""
        if STARTED not in session:
            session[STARTED] = time.time()
        cached_list = identity_cache.SESSION_KEY  # kept in the session only by other stores
        if len(self.serializer.encode(session)) > MAX_BYTES and cached_list in session:
            log.warning("session over %d bytes: dropping its identity cache", MAX_BYTES)
            session.pop(cached_list)
        ttl = max(1, int(self._ends_at(session) - time.time()))
        return dict(session), ttl, getattr(session, "stored_sid", None) == session.sid


class FileSessions(SessionRules, CacheLibSessionInterface):
    """Signed-in sessions in `cache` (never evicted: no threshold), the rest in `pending`."""

    def __init__(self, app: Flask, cache, pending, max_age: int, **options) -> None:
        super().__init__(app, cache, **options)
        self.pending = pending
        self.max_age = max_age
        self._swept_at = time.time()

    def _retrieve_session_data(self, store_id: str) -> dict | None:
        data = self.cache.get(store_id)
        return data if data is not None else self.pending.get(store_id)

    def _delete_session(self, store_id: str) -> None:
        self.cache.delete(store_id)
        self.pending.delete(store_id)

    def _upsert_session(
        self, session_lifetime: timedelta, session: ServerSideSession, store_id: str
    ) -> None:
        data, ttl, update_only = self._prepare(session)
        if update_only and not (self.cache.has(store_id) or self.pending.has(store_id)):
            session.gone = True
            return
        if _in_transit_only(session):
            # Only a trip to Auth0 (or less): worth keeping no longer than a trip lasts.
            store, other, ttl = self.pending, self.cache, min(ttl, trips.LIFETIME)
        else:
            # A sign-in: ours, or (host sign-in mode) the host's own data, which is not ours to
            # cut short or to let a flood push out.
            store, other = self.cache, self.pending
            self._sweep()
        store.set(store_id, data, timeout=ttl)
        other.delete(store_id)

    def _sweep(self) -> None:
        """Remove expired signed-in sessions now and then: a store without a threshold never
        prunes by itself (cachelib has no public call for it)."""
        if time.time() - self._swept_at > 3600:
            self._swept_at = time.time()
            self.cache._remove_expired(time.time())


def _in_transit_only(session: ServerSideSession) -> bool:
    return all(key.startswith(IN_TRANSIT) for key in session)


def init_sessions(app: Flask, redis_url: str | None = None) -> None:
    """Keep session data on the server; the cookie carries only a random session id.

    Redis when `redis_url` is given, so several instances share sessions; otherwise cachelib file
    stores in the instance folder, which need no setup. Call it after choosing
    SESSION_COOKIE_SECURE: a Secure cookie gets the `__Host-` name prefix.
    """
    # Flask's own defaults already fill these keys (SameSite unset, 31 days), so setdefault
    # would never apply: replace Flask's default values, keep whatever the host app chose.
    _default(app, "SESSION_COOKIE_HTTPONLY", True)
    _default(app, "SESSION_COOKIE_SAMESITE", "Lax")
    _default(app, "PERMANENT_SESSION_LIFETIME", timedelta(seconds=MAX_AGE))
    # The lifetime is absolute, so writing an unchanged session again would only cost time.
    _default(app, "SESSION_REFRESH_EACH_REQUEST", False)
    if app.config.get("SESSION_COOKIE_SECURE") and app.config["SESSION_COOKIE_NAME"] == "session":
        # __Host-: the browser takes it only from https, for this host alone, on Path=/, so a
        # sibling subdomain or a plain-http page cannot plant or overwrite it.
        prefix = "__Secure-" if app.config.get("SESSION_COOKIE_DOMAIN") else "__Host-"
        app.config["SESSION_COOKIE_NAME"] = prefix + "session"
    max_age = int(
        app.config.get("LINKED_ACCOUNTS_SESSION_MAX_AGE")
        or app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
    )
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=max_age)
    app.config.setdefault("SESSION_KEY_PREFIX", "linked-accounts:")
    options = {
        "key_prefix": app.config["SESSION_KEY_PREFIX"],
        "permanent": app.config.get("SESSION_PERMANENT", True),
        "sid_length": app.config.get("SESSION_ID_LENGTH", 32),
        "serialization_format": app.config.get("SESSION_SERIALIZATION_FORMAT", "msgpack"),
    }
    if redis_url:
        import redis  # the [redis] extra: only hosts that keep sessions in Redis need it

        from .redis_sessions import RedisSessions

        app.config["SESSION_TYPE"] = "redis"
        app.config["SESSION_REDIS"] = redis.Redis.from_url(
            redis_url, socket_connect_timeout=2, socket_timeout=2
        )
        app.session_interface = RedisSessions(app, app.config["SESSION_REDIS"], max_age, **options)
    else:
        from cachelib.file import FileSystemCache

        folder = os.path.join(app.instance_path, "sessions")
        os.makedirs(folder, exist_ok=True)
        app.config["SESSION_TYPE"] = "cachelib"
        app.config["SESSION_CACHELIB"] = FileSystemCache(folder, threshold=0, mode=0o600)
        pending = FileSystemCache(folder + "-pending", threshold=PENDING_THRESHOLD, mode=0o600)
        app.session_interface = FileSessions(
            app, app.config["SESSION_CACHELIB"], pending, max_age, **options
        )


def _default(app: Flask, key: str, value: object) -> None:
    if key not in app.config or app.config[key] == Flask.default_config.get(key):
        app.config[key] = value


def is_server_side(app: Flask) -> bool:
    """Tell whether the app keeps session data off the cookie (tokens must never reach it)."""
    interface = app.session_interface
    return not isinstance(interface, SecureCookieSessionInterface) and hasattr(
        interface, "regenerate"
    )
