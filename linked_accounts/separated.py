"""The accounts this session has just split off by unlinking, which it may offer to delete.

Kept in the session for DELETE_SEPARATED_WINDOW seconds: only an account this same session
separated recently can be deleted from here.
"""

from __future__ import annotations

import time
from typing import Any

from flask import session

from .identities import Identity
from .keys import SEPARATED as KEY
from .names import display_name
from .state import state


def remember(identity: Identity) -> None:
    """Note that this session just split `identity` off into a user of its own."""
    kept = {k: v for k, v in (session.get(KEY) or {}).items() if _recent(v)}
    kept[identity.key] = {
        "provider": identity.provider,
        "user_id": identity.user_id,
        "connection": identity.connection,
        "detail": identity.detail,
        "at": time.time(),
    }
    session[KEY] = kept


def offers() -> list[dict[str, Any]]:
    """Return the separated accounts the user may still delete, newest first."""
    if not state().settings.offer_delete_separated:
        return []
    recent = [
        {"key": key, "name": display_name(v["provider"], v["connection"]), **v}
        for key, v in (session.get(KEY) or {}).items()
        if _recent(v)
    ]
    return sorted(recent, key=lambda v: -v["at"])


def find(key: str) -> dict[str, Any] | None:
    """Return the separated account named `key` if this session split it off recently."""
    return next((o for o in offers() if o["key"] == key), None)


def forget(key: str) -> None:
    """Stop offering `key` (it was deleted)."""
    kept = dict(session.get(KEY) or {})
    kept.pop(key, None)
    session[KEY] = kept


def _recent(entry: dict[str, Any]) -> bool:
    return time.time() - entry["at"] <= state().settings.delete_separated_window
