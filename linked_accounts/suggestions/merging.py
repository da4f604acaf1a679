"""Merging two accounts of one person the right way round.

Linking makes one account the primary (it keeps its user id, the one a product keys its data by)
and the other a secondary (its user id stops existing, its metadata is dropped). The account kept
is the one created first (Auth0's `created_at`), whichever the person is signed in with, unless the
host passes its own rule (`choose_primary`). An account with linked identities of its own cannot
become a secondary, so it stays primary.

The sequence, both ways (each trip: `prompt=login`, `max_age=0`, its `sub` and `auth_time` checked):
- Signed in with the older account (it stays): a fresh sign-in of it if the last is not recent
  (the usual re-authentication), then the proof sign-in of the other account; its ID token is the
  `link_with` of a link made with the signed-in user's own token.
- Signed in with the newer account: first a fresh sign-in of the signed-in account itself, whose
  ID token becomes the `link_with`; then the proof sign-in of the older account, which asks for a
  Management API token of its own (`update:current_user_identities`). The link is made with that
  token on the older account, and the person is then signed in as the older account, the primary;
  the last sign-in at Auth0 is the primary's too.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from flask import current_app

from .. import events, identity_cache, metrics, refusals
from ..auth0 import management as m
from ..i18n import _
from ..identities import Identity, find, parse_identities, with_primary_profile
from ..names import identity_name
from ..purposes import Resumable, Trip
from ..refusals import Refusal
from ..signin import account, reauth, trips
from ..signin.account import Account
from ..signin.reauth import FreshLogin
from ..state import state
from . import lookup as suggestions
from .lookup import Candidate

log = logging.getLogger(__name__)

SELF_SCOPES = "openid profile email"
PROOF_SCOPES = "openid profile email read:current_user"
LINK_SCOPE = "update:current_user_identities"
METADATA_SCOPE = "update:current_user_metadata"


@dataclass(frozen=True)
class Plan:
    """What linking a suggestion will do, for the confirmation page and the sequence."""

    candidate: Candidate
    keep_signed_in: bool  # the signed-in account stays primary
    reason: str  # "older", "newer", "has_links" or "host": why this one stays


@dataclass(frozen=True)
class Merged:
    primary_id: str
    merged_id: str
    method: str  # the merged account's sign-in method, e.g. "GitHub"
    email: str
    switched: bool  # the person is now signed in as the other (older) account


def plan(acct: Account, candidate: Candidate, identities: Sequence[Identity]) -> Plan:
    """Decide which of the two accounts stays primary."""
    if len(identities) > 1:
        return Plan(candidate, True, "has_links")
    own = suggestions.own_profile(acct) or {"user_id": acct.user_id}
    rule = suggestions.suggester().choose_primary
    if rule is not None:
        chosen = str(rule(own, candidate.profile))
        if chosen in (acct.user_id, candidate.user_id):
            return Plan(candidate, chosen == acct.user_id, "host")
        log.warning("choose_primary returned neither account; keeping the older one")
    other_first = _created(candidate.created_at) < _created(own.get("created_at"))
    return Plan(candidate, not other_first, "newer" if other_first else "older")


def start(
    acct: Account, plan_: Plan, identities: Sequence[Identity], fresh: FreshLogin | None = None
) -> str:
    """Return the URL of the first trip to Auth0 of the sequence."""
    metrics.attempt("link")
    _require_scope(acct, LINK_SCOPE)
    key = plan_.candidate.user_id
    if plan_.keep_signed_in:
        reauth.require_fresh(acct, Resumable.MERGE, {"account": key}, fresh)
        return _proof_trip(plan_.candidate, keep_signed_in=True)
    params: dict[str, Any] = {"prompt": "login", "max_age": 0, "scope": SELF_SCOPES}
    params["login_hint"] = acct.email or ""
    primary = next((i for i in identities if i.is_primary), None)
    if primary is not None:
        params["connection"] = primary.connection
    return trips.start(Trip.MERGE, params, step="self", account=key)


def after_self(
    acct: Account, token: dict[str, Any], claims: dict[str, Any], trip: dict[str, Any], plan_: Plan
) -> str:
    """The signed-in account proved itself just now: keep its ID token for `link_with` (in this
    trip's server-side record only) and go on to the proof sign-in of the older account."""
    if str(claims.get("sub")) != acct.user_id:
        raise _not_linked(_("You signed in as a different account, so nothing was linked."))
    if not trips.signed_in_during(claims, trip):
        raise _not_linked(_("Your sign-in was not confirmed again, so nothing was linked."))
    return _proof_trip(plan_.candidate, keep_signed_in=False, link_with=token["id_token"])


def after_proof(
    acct: Account, token: dict[str, Any], claims: dict[str, Any], trip: dict[str, Any], plan_: Plan
) -> Merged:
    """The person proved they hold the other account: merge, the older one staying primary."""
    other = plan_.candidate
    if str(claims.get("sub")) != other.user_id:
        raise _not_linked(
            _(
                "You signed in to a different account, not the %(method)s account "
                "(%(email)s), so nothing was linked.",
                method=other.method,
                email=other.email,
            )
        )
    if not trips.signed_in_during(claims, trip):
        raise _not_linked(_("Your sign-in was not confirmed again, so nothing was linked."))
    if claims.get("email_verified") is not True:
        raise _not_linked(_("That account's email address is not verified, so it was not linked."))
    if bool(trip.get("keep_signed_in")) != plan_.keep_signed_in:
        raise _not_linked(_("The accounts changed meanwhile, so nothing was linked."))
    if plan_.keep_signed_in:
        if not reauth.still_fresh(acct):
            raise _not_linked(
                _("Your own sign-in is no longer recent enough, so it was not linked.")
            )
        return _link(
            primary=(acct.user_id, acct.access_token),
            merged=(other.user_id, token["access_token"]),
            link_with=token["id_token"],
            acct=acct,
            other=other,
        )
    granted = str(token.get("scope") or "").split()
    if LINK_SCOPE not in granted:
        raise refusals.scope_not_granted(LINK_SCOPE)
    merged = _link(
        primary=(other.user_id, token["access_token"]),
        merged=(acct.user_id, acct.access_token),
        link_with=str(trip["link_with"]),
        acct=acct,
        other=other,
    )
    # The person is now the older account: its token, its ID token's claims, its session.
    account.sign_in(token, claims)
    return merged


def announce(primary_id: str, merged_id: str) -> None:
    """Tell the host that `merged_id` was linked into `primary_id` (after every link), so it can
    move what it keeps under the merged id: Auth0 does not, and the id no longer exists."""
    log.info(
        "accounts merged: %s into %s",
        merged_id,
        primary_id,
        extra={"event": "accounts-merged", "primary_id": primary_id, "merged_id": merged_id},
    )
    events.accounts_merged.send(
        current_app._get_current_object(), primary_id=primary_id, merged_id=merged_id
    )


def _link(
    *,
    primary: tuple[str, str],
    merged: tuple[str, str],
    link_with: str,
    acct: Account,
    other: Candidate,
) -> Merged:
    """Copy the metadata (if asked), link, and tell everyone; undo the copy if the link fails."""
    (primary_id, primary_token), (merged_id, merged_token) = primary, merged
    client = state().management
    added: list[str] = []
    if suggestions.suggester().settings.merge_metadata:
        added = _copy_metadata(client, merged_token, merged_id, primary_token, primary_id)
    try:
        raw = client.link(primary_token, primary_id, link_with)
        parse_identities(raw)
    except m.ManagementError:
        if added:
            _undo_copy(client, primary_token, primary_id, added)
        identity_cache.forget(acct.user_id)  # it may have been linked: re-read before drawing
        raise
    for uid in (primary_id, merged_id):
        identity_cache.forget(uid)
        suggestions.forget(uid)
    identity_cache.remember(primary_id, raw)
    listed = with_primary_profile(parse_identities(raw), None, None)
    linked = find(listed, merged_id)
    if linked is not None:
        # Told as the primary's change: after a switch that is the account now signed in.
        events.emit(events.identity_linked, replace(acct, user_id=primary_id), linked)
    announce(primary_id, merged_id)
    switched = primary_id != acct.user_id
    method = other.method if not switched else _method_of(acct, listed)
    email = other.email if not switched else (acct.email or "")
    return Merged(primary_id, merged_id, method, email, switched)


def _copy_metadata(
    client: m.ManagementClient, from_token: str, from_id: str, to_token: str, to_id: str
) -> list[str]:
    """Add the merged account's user_metadata keys the primary lacks (the primary wins), with
    each account's own token; return the keys added. Never app_metadata (server-side only)."""
    theirs = client.get_user(from_token, from_id).get("user_metadata") or {}
    ours = client.get_user(to_token, to_id).get("user_metadata") or {}
    missing = {k: v for k, v in theirs.items() if k not in ours and v is not None}
    if missing:
        client.update_user_metadata(to_token, to_id, missing)
    return list(missing)


def _undo_copy(client: m.ManagementClient, token: str, user_id: str, keys: list[str]) -> None:
    try:
        client.update_user_metadata(token, user_id, dict.fromkeys(keys))
    except m.ManagementError as exc:
        log.error("could not remove metadata copied before a failed link: %s", type(exc).__name__)


def _proof_trip(candidate: Candidate, *, keep_signed_in: bool, link_with: str = "") -> str:
    """Send the person to sign in to the candidate: its connection, its email, a new login."""
    settings = state().settings
    scopes = PROOF_SCOPES
    if not keep_signed_in:
        scopes += f" {LINK_SCOPE}"  # the link is made with the older account's own token
    if suggestions.suggester().settings.merge_metadata:
        scopes += f" {METADATA_SCOPE}"
    params = {
        "prompt": "login",
        "max_age": 0,
        "connection": candidate.connection,
        "login_hint": candidate.email,
        "audience": settings.audience,
        "scope": scopes,
    }
    data: dict[str, Any] = {"step": "proof", "account": candidate.user_id}
    data["keep_signed_in"] = keep_signed_in
    if link_with:
        data["link_with"] = link_with  # server-side, dropped with the trip
    return trips.start(Trip.MERGE, params, **data)


def _method_of(acct: Account, listed: Sequence[Identity]) -> str:
    found = find(listed, acct.user_id)
    return identity_name(found) if found else acct.user_id


def _created(value: object) -> datetime:
    """Auth0's created_at as a time; unknown sorts last, so it never wins "created first"."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
    return datetime.max.replace(tzinfo=UTC)


def _require_scope(acct: Account, scope: str) -> None:
    if not acct.granted(scope):
        raise refusals.scope_not_granted(scope)


def _not_linked(message: str) -> Refusal:
    return Refusal("not_linked", _("Not linked"), message)
