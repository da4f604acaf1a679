"""What a signed-in user can do to their linked accounts, whatever the front end (HTML or JSON).

Views turn results into pages or JSON; these functions know neither. Every change starts from
the user's own identities (never from what a form says) and leaves the session cache holding
exactly what Auth0 answered.
"""

from __future__ import annotations

from . import account, events, refresh_claims
from . import management as m
from .account import Account
from .i18n import _
from .identities import (
    Identity,
    IdentityFormatError,
    display_name,
    find,
    parse_identities,
    with_primary_profile,
)
from .state import state


class Refusal(Exception):
    """The request will not be carried out; nothing was changed."""

    def __init__(self, code: str, title: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.title, self.message, self.status = code, title, message, status


def load_identities(acct: Account, *, fresh: bool = False) -> list[Identity]:
    """Return the user's identities, from the session cache unless stale or `fresh` is asked."""
    st = state()
    raw = None if fresh else account.cached_identities(st.settings.cache_seconds)
    if raw is None and not fresh:
        stale = account.cached_identities(float("inf"))
        # Another request of this session is refreshing right now: show what we have.
        if stale is not None and not refresh_claims.claim(sum(st.client.timeout)):
            raw = stale
    if raw is None:
        user = st.client.get_user(acct.access_token, acct.user_id)
        raw = user.get("identities")
        check_identities(raw)  # refuse a malformed answer before caching it
        account.remember_identities(raw)
    return with_primary_profile(parse_identities(raw), acct.email, acct.name)


def check_identities(raw: object) -> None:
    """Raise BadResponse unless `raw` is an identities array as Auth0 documents it."""
    try:
        parse_identities(raw)
    except IdentityFormatError as exc:
        raise m.BadResponse(str(exc)) from exc


def secondary(acct: Account, key: str) -> Identity:
    """Return the user's own secondary identity `key`, or refuse."""
    found = find(load_identities(acct), key)
    if found is None:
        raise already_unlinked()
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


def already_unlinked(name: str | None = None) -> Refusal:
    if name:
        message = _("%(name)s was already unlinked.", name=name)
    else:
        message = _("That account was already unlinked.")
    return Refusal("identity_not_found", _("Already unlinked"), message, status=404)


def unlink(acct: Account, identity: Identity) -> list[Identity]:
    """DELETE a secondary the user has; return the identities Auth0 says remain."""
    try:
        remaining = state().client.unlink(
            acct.access_token, acct.user_id, identity.provider, identity.user_id
        )
        check_identities(remaining)
    except (m.BadRequest, m.NotFound):
        # Auth0 does not document its answer for an identity that is no longer linked (another
        # tab may have unlinked it): re-read and tell the truth either way.
        if find(load_identities(acct, fresh=True), identity.key) is None:
            raise already_unlinked(name_of(identity)) from None
        raise
    except (m.Timeout, m.ConnectionFailed, m.BadResponse):
        # Auth0 may have done it without our hearing back: re-read before showing anything.
        account.forget_identities()
        raise
    account.remember_identities(remaining)
    events.emit(events.identity_unlinked, user_id=acct.user_id, identity=identity)
    return with_primary_profile(parse_identities(remaining), acct.email, acct.name)


def name_of(identity: Identity) -> str:
    """Return the sign-in method's display name, honouring the host's connection names."""
    return display_name(identity.provider, identity.connection, state().settings.connection_names)
