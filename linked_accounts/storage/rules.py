"""The rules every session store here follows, over Flask-Session's own interfaces.

- A session id is accepted only in the exact shape the store issues (`secrets.token_urlsafe`):
  any other cookie value is a new, empty session, so no cookie can name another kind of entry;
  a stored session that does not parse counts as absent.
- An absolute lifetime (`LINKED_ACCOUNTS_SESSION_MAX_AGE`, 8 hours), counted from when the
  session got its content (a standalone sign-in clears the session, so: from sign-in). Neither
  requests nor silent token renewal extend it: the cookie and the store's TTL both end then, and
  an older session is refused when loaded. So an unchanged session need not be written again
  (`SESSION_REFRESH_EACH_REQUEST` is off). The start stamp (`STARTED`) is the store's own key,
  outside the extension's (`keys.SESSION_KEYS`), so nothing the extension drops restarts it.
- Where a session lives depends on whether someone is signed in (to the extension, or in host
  sign-in mode to the host: `when_signed_in`). A session nobody is signed in to (a login on its
  way to Auth0, a flood of cookieless requests) is kept no longer than a trip lasts, in every
  store, and the file store keeps such sessions apart, bounded.
- A session deleted (logout) or given a new id (sign-in) while another request was in flight is
  never written back by that request.
- A session never grows past `MAX_BYTES` (the identities cache, which can be re-read, goes first).
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from flask_session.base import ServerSideSession

from ..settings import DEFAULTS
from . import keys

log = logging.getLogger(__name__)

MAX_AGE = DEFAULTS["LINKED_ACCOUNTS_SESSION_MAX_AGE"]  # unless the config says otherwise
MAX_BYTES = 16 * 1024
STARTED = "_session_started_at"  # the store's own: when the session got its content
_LEGACY_STARTED = "linked_accounts.session_started_at"  # its name up to release 2
# What a session holds on its way to Auth0 and before any sign-in: trips (and Authlib's entries
# for them), a CSRF token, its start, flashed messages, Flask-Session's permanence flag.
IN_TRANSIT = frozenset({keys.PENDING_TRIPS, "csrf_token", STARTED, "_flashes", "_permanent"})


class SessionRules:
    """The rules above, over any Flask-Session interface (mixed in before it)."""

    max_age: int
    sid_length: int
    permanent: bool
    # Host sign-in mode: tells whether the host has signed someone in (reading the request's
    # session, as the host's own code does). Unset, any data but a trip's counts as a sign-in.
    host_signed_in: Callable[[], bool] | None = None

    def open_session(self, app: Flask, request) -> ServerSideSession:
        cookie = request.cookies.get(self.get_cookie_name(app))
        if cookie is not None and not self.issued(cookie):
            return self._new_session()  # not an id this store made: it names nothing here
        session = super().open_session(app, request)
        if session:  # loaded from the store (a new session is empty)
            if _LEGACY_STARTED in session:
                session.setdefault(STARTED, session.pop(_LEGACY_STARTED))
            started = session.get(STARTED)
            if isinstance(started, (int, float)) and time.time() - started > self.max_age:
                self._delete_session(self._get_store_id(session.sid))
                return self._new_session()
            session.stored_sid = session.sid
            session.accessed = False
        return session

    def issued(self, sid: str) -> bool:
        """Tell whether `sid` has the exact shape of the ids this store issues."""
        length = math.ceil(self.sid_length * 4 / 3)  # token_urlsafe's unpadded base64
        return len(sid) == length and _URLSAFE.fullmatch(sid) is not None

    def get_expiration_time(self, app: Flask, session: ServerSideSession) -> datetime | None:
        if not session.permanent:
            return None
        return datetime.fromtimestamp(self._ends_at(session), UTC)

    def should_set_cookie(self, app: Flask, session: ServerSideSession) -> bool:
        if getattr(session, "gone", False):
            return False  # logged out or rotated meanwhile: keep the browser's newer cookie
        return super().should_set_cookie(app, session)

    def signed_in(self, session: ServerSideSession) -> bool:
        """Tell whether someone is signed in to this session: it then lives its whole lifetime,
        apart from the sessions nobody is signed in to."""
        if keys.ACCOUNT in session:
            return True
        if self.host_signed_in is not None:
            return bool(self.host_signed_in())
        return not in_transit_only(session)

    def _new_session(self) -> ServerSideSession:
        return self.session_class(sid=self._generate_sid(self.sid_length), permanent=self.permanent)

    def _ends_at(self, session: ServerSideSession) -> float:
        started = session.get(STARTED)
        return (started if isinstance(started, (int, float)) else time.time()) + self.max_age

    def _prepare(self, session: ServerSideSession) -> tuple[dict, int, bool, bool]:
        """Stamp the start, bound the size; return the data, its TTL, whether it must exist
        already (a session loaded under this id is only updated, never recreated) and whether
        nobody is signed in to it (then it is kept no longer than a trip lasts)."""
        if STARTED not in session:
            session[STARTED] = time.time()
        if len(self.serializer.encode(session)) > MAX_BYTES and keys.IDENTITIES in session:
            log.warning("session over %d bytes: dropping its identities cache", MAX_BYTES)
            session.pop(keys.IDENTITIES)
        ttl = max(1, math.ceil(self._ends_at(session) - time.time()))  # never before its end
        pending = not self.signed_in(session)
        if pending:
            ttl = min(ttl, keys.TRIP_LIFETIME)
        return dict(session), ttl, getattr(session, "stored_sid", None) == session.sid, pending


_URLSAFE = re.compile(r"[A-Za-z0-9_-]+")


def in_transit_only(session: ServerSideSession) -> bool:
    """Tell whether the session holds nothing but a trip to Auth0 (or less): no sign-in, ours
    or the host's. Authlib's entries count only for the trips the session holds, by exact key."""
    trips = session.get(keys.PENDING_TRIPS)
    states = {keys.authlib_state(s) for s in trips} if isinstance(trips, dict) else set()
    return all(key in IN_TRANSIT or key in states for key in session)


def session_data(value: Any) -> dict | None:
    """Return a stored session as a dict, or None if it is not one (counts as absent)."""
    return value if isinstance(value, dict) else None
