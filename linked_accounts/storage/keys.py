"""Every key the extension keeps in the session, named once (as Flask-Login's `SESSION_KEYS`).

In host sign-in mode the session is the host's: the extension adds, reads and drops these keys
and no other, never by a prefix match. The store's own bookkeeping (when the session started)
is not among them, so nothing the extension does can restart a session's lifetime.
"""

from __future__ import annotations

from collections.abc import Iterable

ACCOUNT = "linked_accounts"  # who is signed in to the extension, and their token
PENDING_TRIPS = "linked_accounts.flows"  # trips to Auth0 started and not yet back, by state
SEPARATED = "linked_accounts.separated"  # accounts this session split off, it may delete
# The identities cache, kept in the session only with a session store `init_sessions` did not
# build (otherwise it lives in the side store, once per user).
IDENTITIES = "linked_accounts.identities"
# Link suggestions found, and those dismissed: likewise in the session only without a side store.
SUGGESTIONS = "linked_accounts.same-email"
DISMISSED = "linked_accounts.dismissed"
# Auth0's answer on the person's own email, when their ID token did not say: likewise.
EMAIL_VERIFIED = "linked_accounts.email-verified"
# The at-login door this browser opened: a login suspended at Auth0, waiting for an answer.
AT_LOGIN = "linked_accounts.at-login"
# ...and, once it is answered, the signed answer the page sends to Auth0's /continue.
AT_LOGIN_ANSWER = "linked_accounts.at-login-answer"
# A sign-in that came back as another account than the one asked for: what its page says, and
# the trip its "Try again" starts (signin/wrong_account.py).
WRONG_ACCOUNT = "linked_accounts.wrong-account"
# The ID token of the sign-in that made the account's `auth_time` (its user, auth_time and
# expiry beside it): a merge right after it uses it as `link_with` instead of asking again.
LOGIN = "linked_accounts.login"

SESSION_KEYS = frozenset(
    {
        ACCOUNT,
        PENDING_TRIPS,
        SEPARATED,
        IDENTITIES,
        SUGGESTIONS,
        DISMISSED,
        EMAIL_VERIFIED,
        AT_LOGIN,
        AT_LOGIN_ANSWER,
        WRONG_ACCOUNT,
        LOGIN,
    }
)

# The extension's Authlib client. Authlib keeps each trip's state, nonce and PKCE verifier in
# the session under `_state_<client>_<state>`: one entry per pending trip.
AUTHLIB_CLIENT = "linked_accounts"
AUTHLIB_STATE_PREFIX = f"_state_{AUTHLIB_CLIENT}_"

# How long a trip to Auth0 may take; a session holding nothing more lasts no longer.
TRIP_LIFETIME = 600


def authlib_state(state: str) -> str:
    """Return the session key under which Authlib keeps what it needs to check trip `state`."""
    return AUTHLIB_STATE_PREFIX + state


def owned(session_keys: Iterable[str], trip_states: Iterable[str]) -> list[str]:
    """Return which of `session_keys` the extension owns: its own keys, and Authlib's entries
    for the trips it knows (`trip_states`), never anyone else's."""
    mine = SESSION_KEYS | {authlib_state(s) for s in trip_states}
    return [key for key in session_keys if key in mine]
