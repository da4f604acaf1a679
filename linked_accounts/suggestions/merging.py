"""Merging two accounts of one person the right way round.

Linking makes one account the primary (it keeps its user id, the one a product keys its data by)
and the other a secondary (its user id stops existing, its metadata is dropped). The account kept
is the one created first (Auth0's `created_at`), whichever the person is signed in with, unless the
host passes its own rule (`choose_primary`). An account with linked identities of its own cannot
become a secondary, so it stays primary.

The plan is decided once, when the person confirms (`start`), and carried by each trip; every leg
checks that it still holds rather than deciding again. The steps, both ways (each trip:
`prompt=login`, `max_age=0`, its `sub` and `auth_time` checked):
- Signed in with the older account (it stays): a fresh sign-in of it if the last is not recent
  (the usual re-authentication), then the proof sign-in of the other account; its ID token is the
  `link_with` of a link made with the signed-in user's own token.
- Signed in with the newer account: its `link_with` is an ID token of the signed-in account from
  a recent sign-in: the login's own, kept server-side, while the login is fresh by the same rule
  as any change (`reauth.login_id_token`); otherwise first a fresh sign-in of the signed-in
  account itself. Then the proof sign-in of the older account, which asks for a Management API
  token of its own (`update:current_user_identities`). The link is made with that token on the
  older account, and the person is then signed in as the older account, the primary; the last
  sign-in at Auth0 is the primary's too.
Which sign-ins a merge needs is decided once (`sign_ins`): the confirmation page words it and
`start` follows it. The link itself is `operations.link`, the one every link goes through.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from .. import metrics, operations
from ..auth0 import scopes
from ..i18n import _
from ..identities import Identity, find, primary
from ..names import identity_name
from ..operations import Party
from ..purposes import Resumable, Trip
from ..refusals import Refusal, SessionRefreshRequired, SignedInAsOther
from ..signin import account, reauth, trips, wrong_account
from ..signin.account import Account
from ..signin.reauth import FreshLogin, Unproven
from ..state import state
from . import lookup
from .lookup import Candidate

log = logging.getLogger(__name__)


class Step(StrEnum):
    """The sign-ins of a merge, in order; each trip to Auth0 names the one it is."""

    SELF = "self"  # the signed-in account again, when it is the one that stops being separate
    PROOF = "proof"  # the other account, proving the person holds it


class Reason(StrEnum):
    """Why the account that stays was chosen (the confirmation page says it)."""

    OLDER = "older"  # the signed-in account was created first
    NEWER = "newer"  # the other one was
    HAS_LINKS = "has_links"  # the signed-in account has links of its own: it cannot be a secondary
    HOST = "host"  # the host's choose_primary said so


@dataclass(frozen=True)
class Plan:
    """What linking a suggestion will do, for the confirmation page and the sequence."""

    candidate: Candidate
    keep_signed_in: bool  # the signed-in account stays primary
    reason: Reason


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
        return Plan(candidate, True, Reason.HAS_LINKS)
    own = lookup.own_profile(acct) or {"user_id": acct.user_id}
    rule = lookup.suggester().choose_primary
    if rule is not None:
        chosen = str(rule(own, candidate.profile))
        if chosen in (acct.user_id, candidate.user_id):
            return Plan(candidate, chosen == acct.user_id, Reason.HOST)
        log.warning("choose_primary returned neither account; keeping the older one")
    other_first = created(candidate.created_at) < created(own.get("created_at"))
    return Plan(candidate, not other_first, Reason.NEWER if other_first else Reason.OLDER)


def sign_ins(acct: Account, decided: Plan, proof: FreshLogin | None = None) -> tuple[Step, ...]:
    """Return the sign-ins the merge asks of the person, in order: the confirmation page says
    these, and `start` sends the person to the first of them."""
    return (Step.PROOF,) if _stand_in(acct, decided, proof) is not None else (Step.SELF, Step.PROOF)


def _stand_in(acct: Account, decided: Plan, proof: FreshLogin | None) -> str | None:
    """What spares the person signing in again as `acct`, or None: when `acct` stays, a fresh
    login ("": its own token makes the link); when it merges into the other, its login's own ID
    token (the `link_with`), which `reauth.login_id_token` gives only while that login is fresh."""
    if decided.keep_signed_in:
        return "" if reauth.is_fresh(acct, proof) else None
    return reauth.login_id_token(acct, proof)


def start(
    acct: Account, decided: Plan, identities: Sequence[Identity], proof: FreshLogin | None = None
) -> str:
    """Return the URL of the first trip to Auth0 of the sequence, which carries `decided`."""
    metrics.attempt("merge")
    operations.require_scope(scopes.UPDATE_IDENTITIES, acct.scope)
    if decided.keep_signed_in and lookup.suggester().settings.merge_metadata:
        # The person's own token writes the copied settings: say so now, not after two sign-ins.
        operations.require_scope(scopes.UPDATE_METADATA, acct.scope)
    stand_in = _stand_in(acct, decided, proof)
    if stand_in is not None:  # the login's own ID token (or "": none needed), of its auth_time
        return _proof_trip(decided, link_with=stand_in, signed_in_at=acct.auth_time)
    if decided.keep_signed_in:
        # The usual fresh login of any change; it resumes the merge, with its proof.
        raise SessionRefreshRequired(Resumable.MERGE, {"candidate": decided.candidate.user_id})
    return _self_trip(acct, decided, identities)


def again(
    acct: Account, decided: Plan, trip: dict[str, Any], identities: Sequence[Identity]
) -> str:
    """Return the URL of the merge's sign-in `trip` (one that came back as another account)
    started again with the plan it carried, which the caller checked still holds: the signed-in
    account's own sign-in, or the proof with the same `link_with` and the time of the login that
    gave it. Whether that login is still recent enough is checked when the proof comes back, as
    for the first proof: trying again never makes it younger."""
    if trip.get("step") == Step.SELF:
        return _self_trip(acct, decided, identities)
    link_with = str(trip.get("link_with") or "")
    return _proof_trip(decided, link_with=link_with, signed_in_at=trip.get("signed_in_at"))


def carried_plan(trip: dict[str, Any], candidate: Candidate) -> Plan:
    """The plan a trip carries, for `candidate` (the suggestion found again for this leg)."""
    try:
        reason = Reason(trip.get("reason"))
    except ValueError:  # a trip started by an older release carries no plan: start again
        raise _not_linked(_("The accounts changed meanwhile, so nothing was linked.")) from None
    return Plan(candidate, trip.get("keep_signed_in") is True, reason)


def still_holds(decided: Plan, identities: Sequence[Identity]) -> None:
    """Refuse when what the plan was decided on changed meanwhile: the signed-in account can
    stop being separate only while it has no links of its own."""
    if not decided.keep_signed_in and len(identities) > 1:
        raise _not_linked(_("The accounts changed meanwhile, so nothing was linked."))


def after_self(
    acct: Account,
    token: dict[str, Any],
    claims: dict[str, Any],
    trip: dict[str, Any],
    decided: Plan,
    identities: Sequence[Identity],
) -> str:
    """The signed-in account proved itself just now: keep its ID token for `link_with` (in this
    trip's server-side record only) and go on to the proof sign-in of the older account."""
    problem = reauth.unproven(claims, trip, acct.user_id)
    if problem is Unproven.OTHER_ACCOUNT:
        own = primary(identities)
        asked_for, method = acct.email or acct.name or "", identity_name(own) if own else ""
        message = _("You signed in as a different account, so nothing was linked.")
        raise _signed_in_as_other(claims, decided, Step.SELF, asked_for, method, message)
    if problem is Unproven.NOT_AGAIN:
        raise _not_linked(_("Your sign-in was not confirmed again, so nothing was linked."))
    return _proof_trip(decided, link_with=token["id_token"], signed_in_at=claims.get("auth_time"))


def after_proof(
    acct: Account,
    token: dict[str, Any],
    claims: dict[str, Any],
    trip: dict[str, Any],
    decided: Plan,
) -> Merged:
    """The person proved they hold the other account: merge, the planned one staying primary."""
    other = decided.candidate
    # The person's own login must still be fresh only when their own token makes the link.
    problem = reauth.unproven(claims, trip, other.user_id, acct if decided.keep_signed_in else None)
    if problem is Unproven.OTHER_ACCOUNT:
        # Tried again, the proof carries the same link_with (server-side, as in the trip), and
        # the time of the login that gave it.
        link_with = (
            {"link_with": trip["link_with"], "signed_in_at": trip.get("signed_in_at")}
            if trip.get("link_with")
            else {}
        )
        raise _signed_in_as_other(
            claims,
            decided,
            Step.PROOF,
            other.email,
            other.method,
            _(
                "You signed in to a different account, not the %(method)s account "
                "(%(email)s), so nothing was linked.",
                method=other.method,
                email=other.email,
            ),
            **link_with,
        )
    if problem is Unproven.NOT_AGAIN:
        raise _not_linked(_("Your sign-in was not confirmed again, so nothing was linked."))
    # When the signed-in account merges into the other, the link_with ID token stands for its
    # sign-in: the login that gave it must be as recent as any change's own login.
    stale_link_with = not decided.keep_signed_in and not reauth.signed_in_recently(
        trip.get("signed_in_at")
    )
    if problem is Unproven.STALE or stale_link_with:
        raise _not_linked(_("Your own sign-in is no longer recent enough, so it was not linked."))
    if claims.get("email_verified") is not True:
        raise _not_linked(_("That account's email address is not verified, so it was not linked."))
    suggester = lookup.suggester()
    copy = suggester.settings.merge_metadata
    app_token = suggester.app_metadata.token() if suggester.app_metadata else None
    theirs = Party(other.user_id, token["access_token"])
    ours = Party(acct.user_id, acct.access_token)
    if decided.keep_signed_in:
        joined = operations.link(
            acct,
            primary=ours,
            secondary=theirs,
            link_with=token["id_token"],
            name=other.method,
            copy_metadata=copy,
            app_metadata_token=app_token,
        )
        metrics.merged(keep_signed_in=True, reason=decided.reason)
        return Merged(joined.primary_id, joined.secondary_id, other.method, other.email, False)
    operations.require_scope(scopes.UPDATE_IDENTITIES, token.get("scope") or "")
    joined = operations.link(
        acct,
        primary=theirs,
        secondary=ours,
        link_with=str(trip["link_with"]),
        name=other.method,
        copy_metadata=copy,
        app_metadata_token=app_token,
    )
    metrics.merged(keep_signed_in=False, reason=decided.reason)
    # The person is now the older account: its token, its ID token's claims, its session.
    account.sign_in(token, claims)
    found = find(joined.identities, acct.user_id)
    method = identity_name(found) if found else acct.user_id
    return Merged(joined.primary_id, joined.secondary_id, method, acct.email or "", True)


def _carried(decided: Plan, step: Step) -> dict[str, Any]:
    """What a trip of the merge carries: its step, the account, and the plan as decided."""
    return {
        "step": step.value,
        "candidate": decided.candidate.user_id,
        "keep_signed_in": decided.keep_signed_in,
        "reason": decided.reason.value,
    }


def _self_trip(acct: Account, decided: Plan, identities: Sequence[Identity]) -> str:
    """Send the person to sign in again as the signed-in account itself (its connection, its
    email, a new login): its ID token is the `link_with` of a merge into the other account."""
    params: dict[str, Any] = {"prompt": "login", "max_age": 0, "scope": scopes.OPENID}
    params["login_hint"] = acct.email or ""
    own = primary(identities)
    if own is not None:
        params["connection"] = own.connection
    return trips.start(Trip.MERGE, params, **_carried(decided, Step.SELF))


def _proof_trip(decided: Plan, *, link_with: str = "", signed_in_at: object = None) -> str:
    """Send the person to sign in to the candidate: its connection, its email, a new login.
    `link_with`: the signed-in account's ID token, from its login at `signed_in_at`."""
    candidate = decided.candidate
    asked = [scopes.PROOF]
    if not decided.keep_signed_in:
        asked.append(scopes.UPDATE_IDENTITIES)  # the link is made with the older account's token
    if lookup.suggester().settings.merge_metadata:
        asked.append(scopes.UPDATE_METADATA)
    params = {
        "prompt": "login",
        "max_age": 0,
        "connection": candidate.connection,
        "login_hint": candidate.email,
        "audience": state().settings.audience,
        "scope": " ".join(asked),
    }
    data = _carried(decided, Step.PROOF)
    if link_with:
        data["link_with"] = link_with  # server-side, dropped with the trip
        data["signed_in_at"] = signed_in_at
    return trips.start(Trip.MERGE, params, **data)


def created(value: object) -> datetime:
    """Auth0's created_at as a time; unknown sorts last, so it never wins "created first"."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
    return datetime.max.replace(tzinfo=UTC)


def _not_linked(message: str) -> Refusal:
    return Refusal("not_linked", _("Not linked"), message)


def _signed_in_as_other(
    claims: dict[str, Any],
    decided: Plan,
    step: Step,
    asked_for: str,
    method: str,
    message: str,
    **more: Any,
) -> SignedInAsOther:
    """Keep what the wrong-account page says (the account `step` asked for: `method`, `asked_for`)
    and what its "Try again" starts (this leg, with the plan as carried); return the refusal
    that sends the person to that page."""
    carried = {**_carried(decided, step), **more}
    wrong_account.remember(Trip.MERGE, claims, asked_for, method=method, **carried)
    return SignedInAsOther("not_linked", _("Not linked"), message)
