"""The signed-in user's state, kept in the server-side session (never in the cookie).

Everything the extension keeps is under the keys `keys.py` names (and Authlib's entry for each
trip it knows). Standalone, the session is the extension's; in host sign-in mode it is the
host's, so the extension only ever adds or drops those keys, and drops them all as soon as the
host's signed-in user is not the one they were kept for. The store's own start stamp is not
among them: dropping the extension's keys never restarts the host's session lifetime.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, session

from .. import identity_cache
from ..auth0 import scopes
from ..purposes import Trip
from ..state import state
from ..storage import keys

KEY = keys.ACCOUNT


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
    sid: str | None = None  # Auth0's session id from the ID token: the logout_hint
    scope: str | None = None  # what Auth0 granted (None: it did not say, so all that was asked)
    # The ID token's own claim; None for a session stored before it was kept (ask Auth0 then).
    email_verified: bool | None = None

    def granted(self, scope: str) -> bool:
        """Tell whether Auth0 granted `scope` to this token: it may grant fewer than asked."""
        return scopes.granted(scope, self.scope)

    @property
    def token_expired(self) -> bool:
        # A margin, so a token does not expire between this check and Auth0 reading it; a
        # tenth of the lifetime at most, so a short-lived token is not "expired" at birth.
        return time.time() >= self.expires_at - min(30.0, self.lifetime / 10)


def sign_in(token: dict[str, Any], claims: dict[str, Any]) -> Account:
    """Start a fresh session for the user: clear the old one and rotate its id.

    As the host's guest, only the extension's own keys are replaced: the host signed the browser
    in (and rotated its session) itself.
    """
    if state().host_signs_in:
        _forget_own_keys()
    else:
        # Messages flashed for this browser on its way here (the at-login door's "nothing was
        # linked") are the person's to read after signing in; everything else goes.
        flashes = session.get("_flashes")
        session.clear()
        if flashes:
            session["_flashes"] = flashes
    identity_cache.forget(str(claims["sub"]))  # a new sign-in shows the list as it is now
    session[KEY] = {
        "user_id": str(claims["sub"]),
        "name": claims.get("name"),
        "email": claims.get("email"),
        "auth_time": claims.get("auth_time"),
        "sid": claims.get("sid"),
        "email_verified": _verified(claims),
        **_token_fields(token),
    }
    _keep_login(token, claims)
    _rotate_session_id()
    return current()  # type: ignore[return-value]


def renew_token(token: dict[str, Any], claims: dict[str, Any]) -> Account:
    """Take the newer token (and auth_time, if any) from a new login of the same user.

    A silent login (`prompt=none`) carries no auth_time: the last real one still stands.
    """
    data = dict(session[KEY])
    data.update(_token_fields(token))
    if claims.get("auth_time"):
        data["auth_time"] = claims["auth_time"]
        _keep_login(token, claims)  # a new login: its ID token replaces the older one's
    if "email_verified" in claims:  # the person may have verified their email since
        data["email_verified"] = _verified(claims)
    session[KEY] = data
    _rotate_session_id()
    return current()  # type: ignore[return-value]


@dataclass(frozen=True)
class Login:
    """The ID token of the sign-in that made the account's `auth_time`, kept server-side only."""

    id_token: str = field(repr=False)
    user_id: str
    auth_time: float
    expires_at: float  # the ID token's `exp`


def kept_login() -> Login | None:
    """Return the ID token kept from the session's own login, or None."""
    data = session.get(keys.LOGIN)
    try:
        return Login(**data) if isinstance(data, dict) else None
    except TypeError:
        return None


def _keep_login(token: dict[str, Any], claims: dict[str, Any]) -> None:
    """Keep the ID token of a sign-in Authlib has just verified, with the claims that say whose,
    when and until when; a sign-in that cannot say all of them leaves none kept (never an
    older login's token beside a newer auth_time)."""
    id_token, auth_time, exp = token.get("id_token"), claims.get("auth_time"), claims.get("exp")
    if isinstance(id_token, str) and id_token and _number(auth_time) and _number(exp):
        session[keys.LOGIN] = {
            "id_token": id_token,
            "user_id": str(claims["sub"]),
            "auth_time": float(auth_time),  # type: ignore[arg-type]
            "expires_at": float(exp),  # type: ignore[arg-type]
        }
    else:
        session.pop(keys.LOGIN, None)


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def keep_auth0_session(claims: dict[str, Any]) -> None:
    """Keep the `sid` of the latest ID token this browser received, whoever's it is: any trip
    (a login to the other account to link or delete it included) may replace Auth0's session in
    this browser, and only the current one's `sid` spares the user Auth0's "log out?" prompt.
    Nothing else of another account's sign-in is kept."""
    data = session.get(KEY)
    sid = claims.get("sid")
    if isinstance(data, dict) and isinstance(sid, str) and sid and data.get("sid") != sid:
        session[KEY] = {**data, "sid": sid}


def expire_token() -> None:
    """Count the token as expired (Auth0 refused it), so that the next request renews it."""
    data = session.get(KEY)
    if isinstance(data, dict):
        session[KEY] = {**data, "expires_at": 0.0}


def _verified(claims: dict[str, Any]) -> bool | None:
    value = claims.get("email_verified")
    return value if isinstance(value, bool) else None


def _rotate_session_id() -> None:
    # A new id stops a session fixed before login from being used after it. Not as a guest:
    # the session and its id are the host's, rotated at the host's own sign-in.
    if not state().host_signs_in:
        current_app.session_interface.regenerate(session)


def _token_fields(token: dict[str, Any]) -> dict[str, Any]:
    lifetime = float(token.get("expires_in") or 0)
    return {
        "access_token": token["access_token"],
        "expires_at": time.time() + lifetime,
        "lifetime": lifetime,
        "scope": token.get("scope") if isinstance(token.get("scope"), str) else None,
    }


def current() -> Account | None:
    """Return the signed-in account, or None; in host sign-in mode, only the host's user's."""
    data = session.get(KEY)
    try:
        acct = Account(**data) if isinstance(data, dict) else None
    except TypeError:
        return None  # stored by an older release: log in again
    st = state()
    if acct is not None and st.host_signs_in and acct.user_id != st.host_user():
        return None
    return acct


def forget_identities() -> None:
    """Make the signed-in user's next view re-read their identities from Auth0 (their token was
    refused or expired; a sign-in may have been replaced meanwhile, so there may be nobody)."""
    acct = current()
    if acct is not None:
        identity_cache.forget(acct.user_id)


def sign_out() -> None:
    """Drop everything (Flask-Session then deletes the stored session); as the host's guest,
    drop only what the extension keeps."""
    if state().host_signs_in:
        _forget_own_keys()
    else:
        session.clear()


def forget_another_users_data() -> None:
    """Before each request in host sign-in mode: drop what was kept for another person (the
    host signed someone else in, or out), so none of it is ever shown or used."""
    data = session.get(KEY)
    kept_for = data.get("user_id") if isinstance(data, dict) else None
    host_user = state().host_user()
    if kept_for is not None and kept_for != host_user:
        _forget_own_keys()
    elif kept_for is None and not host_user:
        # Nobody is signed in: a login suspended at Auth0 for the at-login door belongs to no
        # one yet, and its proof sign-in must come back to it, as its answer to Auth0 must.
        _forget_own_keys(spare_door=True)


def _forget_own_keys(*, spare_door: bool = False) -> None:
    trips = session.get(keys.PENDING_TRIPS)
    trips = trips if isinstance(trips, dict) else {}
    door_trips = {
        state_: trip
        for state_, trip in trips.items()
        if spare_door and isinstance(trip, dict) and trip.get("purpose") == Trip.AT_LOGIN
    }
    spared = {keys.AT_LOGIN, keys.AT_LOGIN_ANSWER} if spare_door else set()
    spared |= {keys.authlib_state(state_) for state_ in door_trips}
    for key in keys.owned(list(session), trips):
        if key not in spared:
            session.pop(key)
    if door_trips:
        session[keys.PENDING_TRIPS] = door_trips
