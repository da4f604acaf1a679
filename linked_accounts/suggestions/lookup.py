"""Link suggestions: the other Auth0 users with the signed-in person's email, found through
`GET /api/v2/users-by-email` (exact and immediately consistent: what Auth0 recommends for
linking) with an M2M token that holds `read:users` and is used for nothing else.

Only when the person's own email is verified, only candidates whose email is verified, never the
person themself, an account already linked, or an account with linked identities of its own
(Auth0 would refuse it as a secondary). Looked up at most once per user per cache period, shared
by all the user's sessions (`per_user`), one lookup at a time (`single_flight`).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app

from .. import per_user, single_flight, verified_email
from ..auth0 import management as m
from ..auth0.m2m import ClientCredentials
from ..i18n import _
from ..identities import Identity, split_user_id
from ..names import display_name
from ..refusals import Refusal
from ..signals import accounts_merged, list_refreshed
from ..signin.account import Account
from ..state import state
from . import dismissals
from .settings import SuggestSettings

log = logging.getLogger(__name__)

EXTENSION = "linked_accounts.suggestions"
KIND = "same-email"
# Only what deciding and drawing a suggestion needs: no metadata, no tokens, kept small.
FIELDS = "user_id,email,email_verified,name,nickname,created_at,identities,blocked"
# Passwordless connections: a proof sign-in cannot name them with `connection` and `prompt=login`
# the way it does every other, so they are never suggested.
PASSWORDLESS = frozenset({"email", "sms"})

# The host's rule for which account stays primary: (signed-in profile, other profile) -> user id.
ChoosePrimary = Callable[[dict[str, Any], dict[str, Any]], str]


@dataclass(frozen=True)
class Suggester:
    """Per-app state of suggestions and merging (in `app.extensions`)."""

    settings: SuggestSettings
    m2m: ClientCredentials | None  # read:users, only with SUGGEST_LINKS
    choose_primary: ChoosePrimary | None = None
    # read:users update:users_app_metadata, only with MERGE_APP_METADATA
    app_metadata: ClientCredentials | None = None


@dataclass(frozen=True)
class Candidate:
    """Another Auth0 user with the same verified email."""

    user_id: str
    provider: str
    connection: str
    email: str
    name: str | None
    created_at: str | None
    profile: dict[str, Any]  # as users-by-email answered it (FIELDS only)

    @property
    def method(self) -> str:
        """The sign-in method's display name ("GitHub", "Password")."""
        return display_name(self.provider, self.connection)


@dataclass(frozen=True)
class Suggestions:
    """What the settings page shows: the suggestions, and how many the person dismissed."""

    candidates: list[Candidate]
    dismissed: int = 0
    unavailable: bool = False  # Auth0 could not be asked just now
    not_mine: int = 0  # of the dismissed, those the person said are not theirs

    @property
    def not_now(self) -> int:
        """How many of the dismissed are only hidden for a while."""
        return self.dismissed - self.not_mine


def init_app(
    app: Flask,
    settings: SuggestSettings,
    m2m: ClientCredentials | None,
    choose_primary: ChoosePrimary | None,
    app_metadata: ClientCredentials | None = None,
) -> Suggester:
    """Keep this app's suggester (`m2m`: a token source with read:users, when suggestions are
    on; `app_metadata`: one that may merge app_metadata), and look a person's suggestions up
    again after any merge, whoever made it."""
    suggester = Suggester(settings, m2m, choose_primary, app_metadata)
    app.extensions[EXTENSION] = suggester
    accounts_merged.connect(_forget_merged, sender=app, weak=False)
    list_refreshed.connect(_forget_refreshed, sender=app, weak=False)
    return suggester


def _forget_merged(sender: Flask, primary_id: str, merged_id: str, **_: object) -> None:
    for user_id in (primary_id, merged_id):
        forget(user_id)


def _forget_refreshed(sender: Flask, user_id: str, **_: object) -> None:
    forget(user_id)  # Refresh re-checks the suggestions too, not only the list


def suggester() -> Suggester:
    return current_app.extensions[EXTENSION]


def enabled() -> bool:
    return suggester().m2m is not None


def for_user(acct: Account, identities: Sequence[Identity]) -> Suggestions:
    """Return the accounts to suggest linking to the signed-in user (none when turned off)."""
    if not enabled() or not acct.email:
        return Suggestions([])
    try:
        if not verified_email.own_email_verified(acct):
            return Suggestions([])  # an unverified address proves nothing about the others
        users = same_email(acct)
    except m.ManagementError as exc:
        # Suggestions are a help, never a reason for the page to fail.
        log.warning("link suggestions unavailable: %s status=%s", type(exc).__name__, exc.status)
        return Suggestions([], unavailable=True)
    linked = {i.key for i in identities}
    hidden = dismissals.hidden(acct.user_id)
    candidates, dismissed, not_mine = [], 0, 0
    for user in users or []:
        candidate = _candidate(user)
        if candidate is None or candidate.user_id == acct.user_id or candidate.user_id in linked:
            continue
        if candidate.user_id in hidden:
            dismissed += 1
            not_mine += hidden[candidate.user_id] == "not_mine"
            continue
        candidates.append(candidate)
    return Suggestions(candidates, dismissed, not_mine=not_mine)


def find(acct: Account, key: str, identities: Sequence[Identity]) -> Candidate:
    """Return the user's own suggestion `key` (never trusting a form), or refuse."""
    found = for_user(acct, identities)
    if found.unavailable:
        raise Refusal(
            "suggestion_lookup_failed",
            _("Not checked"),
            _(
                "The accounts with your email address could not be looked up just now, so "
                "nothing was changed. Please try again in a moment."
            ),
            503,
        )
    for candidate in found.candidates:
        if candidate.user_id == key:
            return candidate
    raise Refusal(
        "suggestion_not_found",
        _("No longer suggested"),
        _(
            "That account is not suggested for your profile (any more): it may have been linked "
            "or dismissed meanwhile. Nothing was changed."
        ),
        404,
    )


def own_profile(acct: Account) -> dict[str, Any] | None:
    """Return the signed-in user's own entry in the lookup (for its created_at), if any."""
    return next((u for u in same_email(acct) or [] if str(u.get("user_id")) == acct.user_id), None)


def same_email(acct: Account) -> list[dict[str, Any]] | None:
    """Return the users with the person's email, from the per-user cache unless it is stale.

    None when another request of the user is looking them up right now and nothing is cached.
    """
    st = state()
    uid = acct.user_id
    entry = per_user.get(KIND, uid)
    current = isinstance(entry, dict) and time.time() - entry["at"] <= st.settings.cache_seconds
    if current:
        return entry["users"]
    seconds = sum(st.management.timeout) * 2  # two lookups at most
    if not single_flight.claim(seconds, flight_key(uid)):
        return entry["users"] if isinstance(entry, dict) else None
    users = _look_up(acct, st.management)
    keep = int(current_app.permanent_session_lifetime.total_seconds())
    per_user.put(KIND, uid, {"at": time.time(), "users": users}, keep)
    return users


def forget(user_id: str) -> None:
    """Look the user's suggestions up again on their next view (after a link)."""
    per_user.delete(KIND, user_id)


def flight_key(user_id: str) -> str:
    return "suggest:" + hashlib.sha256(user_id.encode()).hexdigest()


def _look_up(acct: Account, client: m.ManagementClient) -> list[dict[str, Any]]:
    """Ask Auth0 for the email as given, and in lower case: users-by-email is case-sensitive,
    and Auth0 keeps its own database connections' emails in lower case (other providers' as
    they send them)."""
    token = suggester().m2m.token()  # type: ignore[union-attr]
    found: dict[str, dict[str, Any]] = {}
    for email in dict.fromkeys([acct.email, str(acct.email).lower()]):
        for user in client.users_by_email(token, str(email), FIELDS):
            found.setdefault(str(user.get("user_id")), user)
    return list(found.values())


def _candidate(user: dict[str, Any]) -> Candidate | None:
    """A user as a candidate, or None when it must never be suggested."""
    identities = user.get("identities")
    if user.get("email_verified") is not True or not isinstance(identities, list):
        return None
    if user.get("blocked") is True:
        return None  # it cannot sign in to prove itself, and its owner was shut out for a reason
    if len(identities) != 1 or not isinstance(identities[0], dict):
        return None  # it has linked identities of its own: Auth0 would not take it as secondary
    user_id = str(user.get("user_id") or "")
    try:
        provider, _sub = split_user_id(user_id)
    except ValueError:
        return None
    if provider in PASSWORDLESS:
        return None
    return Candidate(
        user_id=user_id,
        provider=provider,
        connection=str(identities[0].get("connection") or provider),
        email=str(user.get("email") or ""),
        name=user.get("name") if isinstance(user.get("name"), str) else None,
        created_at=user.get("created_at") if isinstance(user.get("created_at"), str) else None,
        profile=user,
    )
