"""The signed-in user's state, kept in the server-side session (never in the cookie)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from flask import current_app, session

from . import identity_cache

KEY = "linked_accounts"


@dataclass(frozen=True)
class Account:
    """Who is signed in, and the Management API token they act with."""

    user_id: str
    name: str | None
    email: str | None
    access_token: str
    expires_at: float
    lifetime: float
    auth_time: float | None

    @property
    def token_expired(self) -> bool:
        # A margin, so a token does not expire between this check and Auth0 reading it; a
        # tenth of the lifetime at most, so a short-lived token is not "expired" at birth.
        return time.time() >= self.expires_at - min(30.0, self.lifetime / 10)


def sign_in(token: dict[str, Any], claims: dict[str, Any]) -> Account:
    """Start a fresh session for the user: clear the old one and rotate its id."""
    session.clear()
    identity_cache.forget(str(claims["sub"]))  # a new sign-in shows the list as it is now
    session[KEY] = {
        "user_id": str(claims["sub"]),
        "name": claims.get("name"),
        "email": claims.get("email"),
        "auth_time": claims.get("auth_time"),
        **_token_fields(token),
    }
    # Rotating the id stops a session fixed before login from being used after it.
    current_app.session_interface.regenerate(session)
    return current()  # type: ignore[return-value]


def renew_token(token: dict[str, Any], claims: dict[str, Any]) -> Account:
    """Take the newer token (and auth_time, if any) from a new login of the same user.

    A silent login (`prompt=none`) carries no auth_time: the last real one still stands.
    """
    data = dict(session[KEY])
    data.update(_token_fields(token))
    if claims.get("auth_time"):
        data["auth_time"] = claims["auth_time"]
    session[KEY] = data
    current_app.session_interface.regenerate(session)
    return current()  # type: ignore[return-value]


def _token_fields(token: dict[str, Any]) -> dict[str, Any]:
    lifetime = float(token.get("expires_in") or 0)
    return {
        "access_token": token["access_token"],
        "expires_at": time.time() + lifetime,
        "lifetime": lifetime,
    }


def current() -> Account | None:
    """Return the signed-in account, or None."""
    data = session.get(KEY)
    try:
        return Account(**data) if isinstance(data, dict) else None
    except TypeError:
        return None  # stored by an older release: log in again


def sign_out() -> None:
    """Drop everything; Flask-Session then deletes the stored session."""
    session.clear()
