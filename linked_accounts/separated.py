"""The accounts this session has just split off by unlinking, which it may offer to delete.

Kept in the session for DELETE_SEPARATED_WINDOW seconds: only an account this same session
separated recently can be deleted from here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import session

from .identities import Identity
from .names import identity_name
from .state import state
from .storage.keys import SEPARATED as KEY


@dataclass(frozen=True)
class Separated:
    """An account an unlink in this session split off into a user of its own."""

    key: str  # its Auth0 user id now: `{provider}|{user_id}`
    provider: str
    user_id: str
    connection: str
    detail: str | None  # email, username or name, as the unlinked identity showed it
    at: float  # when it was separated

    @property
    def identity(self) -> Identity:
        """The identity it was, and now is the only one of its user."""
        return Identity(self.provider, self.user_id, self.connection, False, False)

    @property
    def name(self) -> str:
        """The name a person knows its sign-in method by."""
        return identity_name(self.identity)


def remember(identity: Identity) -> None:
    """Note that this session just split `identity` off into a user of its own."""
    kept = {
        key: entry
        for key, entry in (session.get(KEY) or {}).items()
        if (found := _parse(key, entry)) is not None and _recent(found.at)
    }
    kept[identity.key] = {
        "provider": identity.provider,
        "user_id": identity.user_id,
        "connection": identity.connection,
        "detail": identity.detail,
        "at": time.time(),
    }
    session[KEY] = kept


def offers() -> list[Separated]:
    """Return the separated accounts the user may still delete, newest first."""
    if not state().settings.offer_delete_separated:
        return []
    kept = (_parse(key, entry) for key, entry in (session.get(KEY) or {}).items())
    recent = [s for s in kept if s is not None and _recent(s.at)]
    return sorted(recent, key=lambda s: -s.at)


def find(key: str) -> Separated | None:
    """Return the separated account named `key` if this session split it off recently."""
    return next((s for s in offers() if s.key == key), None)


def forget(key: str) -> None:
    """Stop offering `key` (it was deleted)."""
    kept = dict(session.get(KEY) or {})
    kept.pop(key, None)
    session[KEY] = kept


def _parse(key: str, entry: object) -> Separated | None:
    """The entry as kept by `remember`, or None for one of another shape (an older release's)."""
    try:
        return Separated(key=key, **entry) if isinstance(entry, dict) else None
    except TypeError:
        return None


def _recent(at: float) -> bool:
    return time.time() - at <= state().settings.delete_separated_window
