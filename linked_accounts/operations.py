"""What a signed-in user can do to their linked accounts: see and refresh the list, unlink, link,
and delete an account an unlink split off. HTML pages and the JSON API both call these.

They know neither HTML nor JSON: each returns a result or raises a `Refusal`. Every change starts
from the user's own identities (never from what a form says), needs a fresh login (`proof`: the
proof `reauth.finish` hands an action it resumes), and leaves the cache holding exactly what
Auth0 answered (one cache per user: `identity_cache`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from flask import current_app

from . import events, identity_cache, metrics, refusals, separated, single_flight, verified_email
from .auth0 import management as m
from .auth0 import scopes
from .i18n import _, provider_name
from .identities import (
    Identity,
    IdentityFormatError,
    find,
    parse_identities,
    profile_identities,
    split_user_id,
)
from .names import display_name, identity_name
from .purposes import Resumable, Trip
from .refusals import AlreadyUnlinked, Refusal, SignedInAsOther
from .separated import Separated
from .signals import list_refreshed
from .signin import reauth, trips, wrong_account
from .signin.account import Account
from .signin.reauth import FreshLogin, Unproven
from .state import state

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Unlinked:
    identity: Identity
    remaining: Sequence[Identity]


@dataclass(frozen=True)
class Linked:
    name: str  # the sign-in method's display name
    detail: str  # which account of it: email, name or id
    remaining: Sequence[Identity]


@dataclass(frozen=True)
class Party:
    """One account of a link: its user id, and the Management API token that acts for it (its
    own; empty for the account being linked when nothing is read with its token)."""

    user_id: str
    token: str = ""


@dataclass(frozen=True)
class Joined:
    """What a link made: `secondary_id` is now one of `primary_id`'s identities."""

    primary_id: str
    secondary_id: str
    identities: Sequence[Identity]  # the primary's, as Auth0 answered (or as read again)
    linked: Identity | None  # the secondary among them


@dataclass(frozen=True)
class Deleted:
    name: str


@dataclass(frozen=True)
class SignInAtAuth0:
    """The operation goes on after the browser signs in at `url` (a trip to Auth0)."""

    url: str


def identities(acct: Account, *, reread: bool = False) -> Sequence[Identity]:
    """Return the user's identities, from the user's cache unless stale or `reread` is asked."""
    require_scope(scopes.READ_CURRENT_USER, acct.scope)
    st = state()
    uid = acct.user_id
    raw = None if reread else identity_cache.cached(uid, st.settings.cache_seconds)
    metrics.cache_lookup(found=raw is not None, bypassed=reread)
    if raw is None:
        stale = identity_cache.cached(uid, float("inf"))
        # Another request of this user is reading them right now (a re-read asked for too:
        # several Refresh posts at once are one read): show what we have.
        flight = identity_cache.flight_key(uid)
        if stale is not None and not single_flight.claim(sum(st.management.timeout), flight):
            raw = stale
    if raw is None:
        raw = _read(acct)
    return profile_identities(raw, acct.email, acct.name)


def _read(acct: Account) -> list[dict[str, Any]]:
    """Read the user's identities from Auth0 now, and keep them for every session."""
    user = state().management.get_user(acct.access_token, acct.user_id)
    raw = user.get("identities")
    _check(raw)  # refuse a malformed answer before caching it
    kept = identity_cache.remember(acct.user_id, raw)  # as kept: what the next views read
    verified_email.remember(acct.user_id, user)  # the same answer says if the email is verified
    return kept


def refresh(acct: Account) -> Sequence[Identity]:
    """Re-read the identities from Auth0, at most once per REFRESH_MIN_INTERVAL, and have
    everything else the page shows checked again (`list_refreshed`)."""
    last = identity_cache.read_at(acct.user_id)
    due = last is None or time.time() - last >= state().settings.refresh_interval
    listed = identities(acct, reread=due)
    if due:
        list_refreshed.send(current_app._get_current_object(), user_id=acct.user_id)
    return listed


def secondary(acct: Account, key: str) -> Identity:
    """Return the user's own secondary identity `key`, or refuse."""
    found = find(identities(acct), key)
    if found is None:
        raise AlreadyUnlinked()
    if found.is_primary:
        raise Refusal(
            "primary_identity",
            _("This is your primary account"),
            _(
                "This is the account you sign in with; it cannot be unlinked from itself. "
                "You can unlink the other accounts."
            ),
        )
    return found


def unlink(acct: Account, key: str, proof: FreshLogin | None = None) -> Unlinked:
    """DELETE the user's own secondary `key` after a fresh login; return what remains."""
    metrics.attempt("unlink")
    require_scope(scopes.UPDATE_IDENTITIES, acct.scope)
    identity = secondary(acct, key)
    reauth.require_fresh(acct, Resumable.UNLINK, {"identity": identity.key}, proof)
    try:
        remaining = state().management.unlink(
            acct.access_token, acct.user_id, identity.provider, identity.user_id
        )
        _check(remaining)
    except (m.BadRequest, m.NotFound):
        # Auth0 does not document its answer for an identity that is no longer linked (another
        # tab may have unlinked it): re-read and tell the truth either way.
        # A read of its own, whoever else is reading: only Auth0's answer now tells the truth.
        if find(profile_identities(_read(acct), acct.email, acct.name), identity.key) is None:
            raise AlreadyUnlinked(identity_name(identity)) from None
        raise
    except m.Timeout as lost:
        # Auth0 may have done it without our hearing back: read the identities again to say
        # what happened, rather than "maybe".
        remaining = _after_lost_answer(
            lost,
            Party(acct.user_id, acct.access_token),
            identity.key,
            expected=False,
            name=identity_name(identity),
        )
    except (m.ConnectionFailed, m.BadResponse):
        # Auth0 may have done it without our hearing back: re-read before showing anything.
        identity_cache.forget(acct.user_id)
        raise
    identity_cache.remember(acct.user_id, remaining)
    if state().settings.offer_delete_separated:
        separated.remember(identity)  # so the page can offer to delete it
    events.emit(events.identity_unlinked, acct, identity)
    profile = profile_identities(remaining, acct.email, acct.name)
    return Unlinked(identity, profile)


def link_options() -> list[tuple[str, str]]:
    """Return the connections offered as "Link <name>" buttons, with their display names."""
    return [(c, display_name(c, c)) for c in state().settings.link_connections]


def start_link(
    acct: Account, connection: str, proof: FreshLogin | None = None, *, next: str | None = None
) -> SignInAtAuth0:
    """After a fresh login, send the user to sign in to the other account (`connection`, or
    Auth0's own chooser when empty); `next` is where a single-page app wants the browser back."""
    metrics.attempt("link")
    require_scope(scopes.UPDATE_IDENTITIES, acct.scope)
    if connection and connection not in state().settings.link_connections:
        raise Refusal(
            "connection_not_offered",
            _("Not available"),
            _("Linking that kind of account is not offered here."),
        )
    verified_email.require_own_verified(acct)  # say so before any trip to Auth0
    reauth.require_fresh(acct, Resumable.LINK, {"connection": connection}, proof)
    # prompt=login and max_age=0: the user must prove they hold the other account now, not
    # ride on whatever session Auth0 already has.
    params: dict[str, Any] = {"prompt": "login", "max_age": 0}
    if connection:
        params["connection"] = connection
    data = {"connection": connection, **({"next": next} if next else {})}
    return SignInAtAuth0(trips.start(Trip.LINK, params, **data))


def finish_link(
    acct: Account, token: dict[str, Any], claims: dict[str, Any], trip: dict[str, Any]
) -> Linked:
    """Check the other account's login, then link its ID token into the signed-in account. Its
    tokens are not kept."""
    sub = str(claims.get("sub", ""))
    reason = _why_not_linkable(acct, claims, sub, trip)
    if reason:
        raise Refusal("not_linkable", _("Not linked"), reason)
    provider, user_id = split_user_id(sub)
    joined = link(
        acct,
        primary=Party(acct.user_id, acct.access_token),
        secondary=Party(sub),
        link_with=token["id_token"],
        name=display_name(provider, provider),
    )
    linked = joined.linked
    name = identity_name(linked) if linked else display_name(provider, provider)
    detail = claims.get("email") or claims.get("name") or user_id
    return Linked(name, str(detail), joined.identities)


def link(
    acct: Account,
    *,
    primary: Party,
    secondary: Party,
    link_with: str,
    name: str,
    copy_metadata: bool = False,
    app_metadata_token: str | None = None,
) -> Joined:
    """Link `secondary` into `primary` with `primary`'s own token (`link_with`: the secondary's
    ID token): every link, whoever started it (the page, a suggestion), is this one.

    The host's `before_merge(primary_id, secondary_id)` runs first; if it raises, nothing is
    linked. With `copy_metadata`, the secondary's user_metadata keys the primary lacks are copied
    (read with each account's own token; Auth0 drops them on link); with `app_metadata_token`
    (an M2M token: no user token reaches app_metadata) its app_metadata keys too, as Auth0's
    linking guide does, the primary's values winning. The copy is removed again only
    when the link is known not to have been made: Auth0 refused it, or the identities read after
    a lost answer show it missing. After a lost answer (timeout, dropped connection, malformed body)
    the primary's identities are read once more to say done, not done, or not known yet
    (`name`: the sign-in method, for that message). When linked: the cache holds Auth0's answer,
    the secondary's entry is dropped (that user no longer exists), `identity_linked` and
    `accounts_merged` are sent once.
    """
    st = state()
    client = st.management
    if st.before_merge is not None:
        _prepare_merge(st.before_merge, primary.user_id, secondary.user_id)
    added: list[tuple[str, str, list[str]]] = []  # (kind, token, keys) copied into the primary
    try:
        if copy_metadata:
            keys = _copy_metadata(client, secondary, primary)
            added.append(("user_metadata", primary.token, keys))
        if app_metadata_token:  # both read and written with the M2M token
            source = Party(secondary.user_id, app_metadata_token)
            target = Party(primary.user_id, app_metadata_token)
            keys = _copy_metadata(client, source, target, "app_metadata")
            added.append(("app_metadata", app_metadata_token, keys))
    except m.ManagementError:
        _undo_copy(client, primary, added)  # nothing was linked: take back what was copied
        raise
    try:
        raw = client.link(primary.token, primary.user_id, link_with)
        _check(raw)  # a malformed answer is as good as a lost one: read again below
    except (m.Timeout, m.ConnectionFailed, m.BadResponse) as lost:
        # Auth0 may have linked without our hearing back: read the list again to say which.
        raw = _after_lost_answer(
            lost,
            primary,
            secondary.user_id,
            expected=True,
            name=name,
            undo=lambda: _undo_copy(client, primary, added),
        )
    except m.ManagementError:
        _undo_copy(client, primary, added)  # Auth0 answered, and did not link
        raise
    identity_cache.forget(secondary.user_id)
    identity_cache.remember(primary.user_id, raw)
    own = primary.user_id == acct.user_id  # the profile's email and name are the primary's
    listed = profile_identities(raw, acct.email if own else None, acct.name if own else None)
    linked = find(listed, secondary.user_id)
    if linked is not None:
        # Told as the primary's change: after a merge into the other account, that is the
        # account the person is signed in to next.
        events.emit(events.identity_linked, replace(acct, user_id=primary.user_id), linked)
    events.merged(primary.user_id, secondary.user_id)
    return Joined(primary.user_id, secondary.user_id, listed, linked)


def _prepare_merge(hook: Callable[[str, str], None], primary_id: str, secondary_id: str) -> None:
    """Run the host's `before_merge`; a host that cannot prepare stops the link, saying so."""
    try:
        hook(primary_id, secondary_id)
    except Exception:  # the host's code: whatever it raises, nothing is linked
        log.exception("before_merge refused or failed; nothing was linked")
        raise Refusal(
            "merge_not_prepared",
            _("Not linked"),
            _("This site could not get ready to merge the accounts, so nothing was linked."),
            503,
        ) from None


def _copy_metadata(
    client: m.ManagementClient, source: Party, target: Party, kind: str = "user_metadata"
) -> list[str]:
    """Add `source`'s `kind` keys that `target` lacks (the target's values win), each read with
    the token given for it; return the keys added."""
    theirs = client.get_user(source.token, source.user_id).get(kind) or {}
    ours = client.get_user(target.token, target.user_id).get(kind) or {}
    missing = {k: v for k, v in theirs.items() if k not in ours and v is not None}
    if missing:
        client.update_user_metadata(target.token, target.user_id, missing, kind=kind)
    return list(missing)


def _undo_copy(
    client: m.ManagementClient, target: Party, added: list[tuple[str, str, list[str]]]
) -> None:
    for kind, token, keys in added:
        if not keys:
            continue
        try:
            client.update_user_metadata(token, target.user_id, dict.fromkeys(keys), kind=kind)
        except m.ManagementError as exc:
            log.error(
                "could not remove %s copied before a failed link: %s", kind, type(exc).__name__
            )


def delete_separated(
    acct: Account, key: str, proof: FreshLogin | None = None
) -> Deleted | SignInAtAuth0:
    """Delete an account this session just split off, after a fresh login: with the M2M token
    (server mode), or by sending the user to sign in to it (client mode, finished below)."""
    metrics.attempt("delete_separated")
    target = separated_target(acct, key)
    reauth.require_fresh(acct, Resumable.DELETE_SEPARATED, {"user": key}, proof)
    st = state()
    if st.settings.delete_separated_mode == "server":
        return _delete(acct, target, st.m2m.token())
    params = {
        "audience": st.settings.audience,
        "scope": scopes.DELETE,
        "connection": target.connection,
        "prompt": "login",
        "max_age": 0,
    }
    if target.detail and "@" in target.detail:
        params["login_hint"] = target.detail
    return SignInAtAuth0(trips.start(Trip.DELETE_SEPARATED, params, user=key))


def finish_delete_separated(
    acct: Account, token: dict[str, Any], claims: dict[str, Any], trip: dict[str, Any]
) -> Deleted:
    """Delete with the separated account's own token, if it is exactly the one split off."""
    target = separated_target(acct, trip["user"])
    problem = reauth.unproven(claims, trip, target.key, acct)
    if problem is Unproven.OTHER_ACCOUNT:
        # Nothing is deleted; the page names the separate account, and "Try again" starts the
        # deletion's sign-in again.
        asked_for = target.detail or target.user_id
        wrong_account.remember(
            Trip.DELETE_SEPARATED, claims, asked_for, method=target.name, user=target.key
        )
        raise SignedInAsOther(
            "not_deleted",
            _("Not deleted"),
            _(
                "You signed in to a different account, not the separate %(name)s account, "
                "so nothing was deleted.",
                name=target.name,
            ),
        )
    if problem is Unproven.NOT_AGAIN:
        raise _not_deleted(_("Your sign-in was not confirmed again, so nothing was deleted."))
    if problem is Unproven.STALE:
        raise _not_deleted(_("Your own sign-in is no longer recent enough; nothing was deleted."))
    granted = token.get("scope")
    if not all(
        scopes.granted(s, granted) for s in (scopes.DELETE_CURRENT_USER, scopes.READ_CURRENT_USER)
    ):
        # Auth0's published list of user-token scopes leaves delete:current_user out: a tenant
        # may well withhold it. Say so now rather than fail with a 403 after signing in.
        raise refusals.self_deletion_not_granted(target.name)
    # Used for these two calls only, then dropped with this request: never put in the session.
    return _delete(acct, target, token["access_token"])


def _delete(acct: Account, target: Separated, token: str) -> Deleted:
    client = state().management
    try:
        user = client.get_user(token, target.key)
        if len(user.get("identities") or []) != 1:
            raise _not_deleted(
                _(
                    "The separate %(name)s account has other sign-in methods linked to it, "
                    "so it was not deleted.",
                    name=target.name,
                )
            )
        client.delete_user(token, target.key)
    except m.TokenRejected:
        raise _not_deleted(
            _("That sign-in was not accepted, so nothing was deleted."), 403
        ) from None
    except m.NotFound:
        pass  # already gone: the user's wish holds
    separated.forget(target.key)
    events.emit(events.separated_deleted, acct, target.identity)
    return Deleted(target.name)


def separated_target(acct: Account, key: str) -> Separated:
    """Return the separated account `key` if it may be deleted from here, or refuse."""
    target = separated.find(key)
    if target is None:
        raise Refusal(
            "not_offered",
            _("Not available"),
            _(
                "Only an account you unlinked a few minutes ago, in this session, can be deleted "
                "here. Nothing was deleted."
            ),
        )
    if target.key == acct.user_id or find(identities(acct), target.key):
        raise _not_deleted(
            _("That account is part of your profile again, so it cannot be deleted from here.")
        )
    return target


def _why_not_linkable(
    acct: Account, claims: dict[str, Any], sub: str, trip: dict[str, Any]
) -> str | None:
    if sub == acct.user_id:
        return _("That is the account you are signed in with, so there is nothing to link.")
    problem = reauth.unproven(claims, trip, None, acct)  # any account of the connection
    if problem is Unproven.STALE:
        return _("Your own sign-in is no longer recent enough, so it was not linked.")
    if problem is Unproven.NOT_AGAIN:
        return _("You were not asked to sign in to that account again, so it was not linked.")
    if find(identities(acct), sub):
        return _("That account is already linked to your profile.")
    if state().settings.require_verified_email and not verified_email.own_email_verified(acct):
        return verified_email.why_not(acct)
    if state().settings.require_verified_email and claims.get("email_verified") is not True:
        if not claims.get("email"):
            return _(
                "That account's email address is not verified, so it cannot be linked. "
                "Verify it with the provider first, then try again."
            )
        return _(
            "That account's email address (%(email)s) is not verified, so it cannot be linked. "
            "Verify it with the provider first, then try again.",
            email=claims["email"],
        )
    return None


def require_scope(scope: str, granted: str | None) -> None:
    """Refuse before calling Auth0 when a sign-in's token response (`granted`: its `scope`) does
    not grant `scope`: Auth0 may grant fewer than asked, and a 403 later would explain nothing."""
    if not scopes.granted(scope, granted):
        raise refusals.scope_not_granted(scope)


def _after_lost_answer(
    lost: m.ManagementError,
    owner: Party,
    key: str,
    *,
    expected: bool,
    name: str,
    undo: Callable[[], None] | None = None,
) -> list[dict[str, Any]]:
    """After a change's answer was `lost` (a timeout, a dropped connection, or a body that could
    not be read), read `owner`'s identities once more and return them if the change was made
    (`key` is linked when `expected`, gone when not); otherwise `undo` what came before it and
    refuse, saying nothing was changed; or refuse saying it cannot be told yet (undoing nothing).

    Within the budget: one read, only if no other request of this user is reading them now
    (single flight); a read that fails or is refused leaves the answer "unknown"."""
    uid = owner.user_id
    identity_cache.forget(uid)  # whatever happens, the old list is no longer the truth
    raw: list[dict[str, Any]] | None = None
    if single_flight.claim(sum(state().management.timeout), identity_cache.flight_key(uid)):
        try:
            user = state().management.get_user(owner.token, uid)
            raw = user.get("identities")
            _check(raw)
        except m.ManagementError:
            raw = None
    if raw is None:
        raise _unknown(lost, expected, name)
    identity_cache.remember(uid, raw)
    if (find(parse_identities(raw), key) is not None) != expected:
        if undo is not None:
            undo()
        raise _unchanged(lost)
    return raw


def _unknown(lost: m.ManagementError, expected: bool, name: str) -> Exception:
    """The refusal for a change whose answer was lost and that could not be checked yet."""
    if isinstance(lost, m.ConnectionFailed):
        return lost  # no connection at all just now: the usual answer, and a try later
    if isinstance(lost, m.BadResponse):
        check = _(
            "The answer from %(provider)s could not be read, and the change could not be "
            "checked yet. In a minute, go back to your linked accounts: if %(name)s is listed "
            "there, it was linked; if not, try again.",
            provider=provider_name(),
            name=name,
        )
        return Refusal("auth0_bad_answer", _("Not sure it was done"), check, 502)
    if expected:
        check = _(
            "No answer came in time, and the change could not be checked yet. In a minute, "
            "go back to your linked accounts: if %(name)s is listed there, it was linked; "
            "if not, try again.",
            name=name,
        )
    else:
        check = _(
            "No answer came in time, and the change could not be checked yet. In a minute, "
            "go back to your linked accounts: if %(name)s is no longer listed there, it was "
            "unlinked; if it still is, try again.",
            name=name,
        )
    return Refusal("auth0_timeout", _("Not sure it was done"), check, 504)


def _unchanged(lost: m.ManagementError) -> Refusal:
    """The refusal for a change whose answer was lost, and that the list shows was not made."""
    title = _("Nothing was changed")
    if isinstance(lost, m.ConnectionFailed):
        message = _(
            "The connection to %(provider)s was lost, and your linked accounts show that "
            "nothing was changed. Please try again in a moment.",
            provider=provider_name(),
        )
        return Refusal("auth0_unreachable", title, message, 503)
    if isinstance(lost, m.BadResponse):
        message = _(
            "The answer from %(provider)s could not be read, and your linked accounts show that "
            "nothing was changed. Please try again in a moment.",
            provider=provider_name(),
        )
        return Refusal("auth0_bad_answer", title, message, 502)
    message = _(
        "No answer came in time, and your linked accounts show that nothing was changed. "
        "Please try again in a moment."
    )
    return Refusal("auth0_timeout", title, message, 504)


def _not_deleted(message: str, status: int = 400) -> Refusal:
    return Refusal("not_deleted", _("Not deleted"), message, status)


def _check(raw: object) -> None:
    """Raise BadResponse unless `raw` is an identities array as Auth0 documents it."""
    try:
        parse_identities(raw)
    except IdentityFormatError as exc:
        raise m.BadResponse(str(exc)) from exc
