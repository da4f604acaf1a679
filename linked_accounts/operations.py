"""What a signed-in user can do to their linked accounts: see and refresh the list, unlink, link,
and delete an account an unlink split off. HTML pages and the JSON API both call these.

They know neither HTML nor JSON: each returns a result or raises a `Refusal`. Every change starts
from the user's own identities (never from what a form says), needs a fresh login (`fresh`: the
proof `reauth.finish` hands an action it resumes), and leaves the cache holding exactly what
Auth0 answered (one cache per user: `identity_cache`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from . import events, identity_cache, metrics, refusals, separated, single_flight, verified_email
from .auth0 import management as m
from .i18n import _
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
from .refusals import AlreadyUnlinked, Refusal
from .separated import Separated
from .signin import reauth, trips
from .signin.account import Account
from .signin.reauth import FreshLogin
from .state import state
from .suggestions import lookup as suggestions
from .suggestions import merging

DELETE_SCOPES = "openid profile email read:current_user delete:current_user"
READ_SCOPE = "read:current_user"
CHANGE_SCOPE = "update:current_user_identities"
DELETE_SCOPE = "delete:current_user"


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
class Deleted:
    name: str


@dataclass(frozen=True)
class SignInAtAuth0:
    """The operation goes on after the browser signs in at `url` (a trip to Auth0)."""

    url: str


def identities(acct: Account, *, fresh: bool = False) -> Sequence[Identity]:
    """Return the user's identities, from the user's cache unless stale or `fresh` is asked."""
    _require_scope(acct, READ_SCOPE)
    st = state()
    uid = acct.user_id
    raw = None if fresh else identity_cache.cached(uid, st.settings.cache_seconds)
    metrics.cache_lookup(found=raw is not None, bypassed=fresh)
    if raw is None and not fresh:
        stale = identity_cache.cached(uid, float("inf"))
        # Another request of this user is reading them right now: show what we have.
        flight = identity_cache.flight_key(uid)
        if stale is not None and not single_flight.claim(sum(st.management.timeout), flight):
            raw = stale
    if raw is None:
        user = st.management.get_user(acct.access_token, acct.user_id)
        raw = user.get("identities")
        _check(raw)  # refuse a malformed answer before caching it
        raw = identity_cache.remember(uid, raw)  # as kept: the same list the next views read
    return profile_identities(raw, acct.email, acct.name)


def refresh(acct: Account) -> Sequence[Identity]:
    """Re-read the identities from Auth0, at most once per REFRESH_MIN_INTERVAL."""
    last = identity_cache.read_at(acct.user_id)
    due = last is None or time.time() - last >= state().settings.refresh_interval
    return identities(acct, fresh=due)


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


def unlink(acct: Account, key: str, fresh: FreshLogin | None = None) -> Unlinked:
    """DELETE the user's own secondary `key` after a fresh login; return what remains."""
    metrics.attempt("unlink")
    _require_scope(acct, CHANGE_SCOPE)
    identity = secondary(acct, key)
    reauth.require_fresh(acct, Resumable.UNLINK, {"identity": identity.key}, fresh)
    try:
        remaining = state().management.unlink(
            acct.access_token, acct.user_id, identity.provider, identity.user_id
        )
        _check(remaining)
    except (m.BadRequest, m.NotFound):
        # Auth0 does not document its answer for an identity that is no longer linked (another
        # tab may have unlinked it): re-read and tell the truth either way.
        if find(identities(acct, fresh=True), identity.key) is None:
            raise AlreadyUnlinked(identity_name(identity)) from None
        raise
    except m.Timeout:
        # Auth0 may have done it without our hearing back: read the identities again to say
        # what happened, rather than "maybe".
        remaining = _after_timeout(acct, identity.key, expected=False, name=identity_name(identity))
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
    acct: Account, connection: str, fresh: FreshLogin | None = None, *, next: str | None = None
) -> SignInAtAuth0:
    """After a fresh login, send the user to sign in to the other account (`connection`, or
    Auth0's own chooser when empty); `next` is where a single-page app wants the browser back."""
    metrics.attempt("link")
    _require_scope(acct, CHANGE_SCOPE)
    if connection and connection not in state().settings.link_connections:
        raise Refusal(
            "connection_not_offered",
            _("Not available"),
            _("Linking that kind of account is not offered here."),
        )
    verified_email.require_own_verified(acct)  # say so before any trip to Auth0
    reauth.require_fresh(acct, Resumable.LINK, {"connection": connection}, fresh)
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
    """Check the other account's login, then POST its ID token as `link_with`. Its tokens are
    not kept."""
    sub = str(claims.get("sub", ""))
    reason = _why_not_linkable(acct, claims, sub, trip)
    if reason:
        raise Refusal("not_linkable", _("Not linked"), reason)
    provider, user_id = split_user_id(sub)
    try:
        raw = state().management.link(acct.access_token, acct.user_id, token["id_token"])
        _check(raw)
    except m.Timeout:
        raw = _after_timeout(acct, sub, expected=True, name=display_name(provider, provider))
    except (m.ConnectionFailed, m.BadResponse):
        identity_cache.forget(acct.user_id)  # it may have been linked: re-read before drawing
        raise
    identity_cache.remember(acct.user_id, raw)
    remaining = profile_identities(raw, acct.email, acct.name)
    linked = find(remaining, sub)
    if linked:
        events.emit(events.identity_linked, acct, linked)
    merging.announce(acct.user_id, sub)  # the product may move what it kept under `sub`
    suggestions.forget(acct.user_id)
    name = identity_name(linked) if linked else display_name(provider, provider)
    detail = claims.get("email") or claims.get("name") or user_id
    return Linked(name, str(detail), remaining)


def delete_separated(
    acct: Account, key: str, fresh: FreshLogin | None = None
) -> Deleted | SignInAtAuth0:
    """Delete an account this session just split off, after a fresh login: with the M2M token
    (server mode), or by sending the user to sign in to it (client mode, finished below)."""
    metrics.attempt("delete_separated")
    target = separated_target(acct, key)
    reauth.require_fresh(acct, Resumable.DELETE_SEPARATED, {"user": key}, fresh)
    st = state()
    if st.settings.delete_separated_mode == "server":
        return _delete(acct, target, st.m2m.token())
    params = {
        "audience": st.settings.audience,
        "scope": DELETE_SCOPES,
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
    if str(claims.get("sub")) != target.key:
        raise _not_deleted(
            _(
                "You signed in to a different account, not the separate %(name)s account, "
                "so nothing was deleted.",
                name=target.name,
            )
        )
    if not trips.signed_in_during(claims, trip):
        raise _not_deleted(_("Your sign-in was not confirmed again, so nothing was deleted."))
    if not reauth.still_fresh(acct):
        raise _not_deleted(_("Your own sign-in is no longer recent enough; nothing was deleted."))
    granted = str(token.get("scope", DELETE_SCOPES)).split()
    if DELETE_SCOPE not in granted or READ_SCOPE not in granted:
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
    if not reauth.still_fresh(acct):
        return _("Your own sign-in is no longer recent enough, so it was not linked.")
    if not trips.signed_in_during(claims, trip):
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


def _require_scope(acct: Account, scope: str) -> None:
    """Refuse before calling Auth0 when it did not grant the sign-in `scope` (it may grant fewer
    than asked, and says so only in the token response): a 403 later would explain nothing."""
    if not acct.granted(scope):
        raise refusals.scope_not_granted(scope)


def _after_timeout(acct: Account, key: str, *, expected: bool, name: str) -> list[dict[str, Any]]:
    """After a change timed out, read the identities once more and return them if the change
    was made (`key` is linked when `expected`, gone when not); otherwise refuse, saying whether
    nothing was changed or it cannot be told yet.

    Within the budget: one read, only if no other request of this user is reading them now
    (single flight); a read that fails or is refused leaves the answer "unknown"."""
    uid = acct.user_id
    identity_cache.forget(uid)  # whatever happens, the old list is no longer the truth
    raw: list[dict[str, Any]] | None = None
    if single_flight.claim(sum(state().management.timeout), identity_cache.flight_key(uid)):
        try:
            user = state().management.get_user(acct.access_token, uid)
            raw = user.get("identities")
            _check(raw)
        except m.ManagementError:
            raw = None
    if raw is None:
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
        raise Refusal("auth0_timeout", _("Not sure it was done"), check, 504)
    identity_cache.remember(uid, raw)
    done = (find(parse_identities(raw), key) is not None) == expected
    if not done:
        raise Refusal(
            "auth0_timeout",
            _("Nothing was changed"),
            _(
                "No answer came in time, and your linked accounts show that nothing was "
                "changed. Please try again in a moment."
            ),
            504,
        )
    return raw


def _not_deleted(message: str, status: int = 400) -> Refusal:
    return Refusal("not_deleted", _("Not deleted"), message, status)


def _check(raw: object) -> None:
    """Raise BadResponse unless `raw` is an identities array as Auth0 documents it."""
    try:
        parse_identities(raw)
    except IdentityFormatError as exc:
        raise m.BadResponse(str(exc)) from exc
