"""Linking needs the signed-in person's own email verified, not only the other account's.

Auth0's "verified email usage" takeover: an attacker signs up with the victim's email, never
verifies it, links their own social login to that account, and keeps a way in once the victim
claims the account by a password reset. So under LINK_REQUIRE_VERIFIED_EMAIL an account whose own
email is unverified links nothing, and is told why and what to do.
"""

from __future__ import annotations

from typing import Any

from . import per_user, single_flight
from .i18n import _
from .refusals import Refusal
from .signin.account import Account
from .state import state

KIND = "email-verified"


def own_email_verified(acct: Account) -> bool:
    """Tell whether the signed-in user's own email is verified: from their ID token, or (for a
    session kept before the claim was, or an ID token without a boolean claim) from Auth0's
    answer, kept per user like the identities: one read per period, one at a time, whatever the
    views, the listing and the confirmations ask meanwhile."""
    if acct.email_verified is not None:
        return acct.email_verified
    kept = per_user.get(KIND, acct.user_id)
    if isinstance(kept, bool):
        return kept
    st = state()
    # Keyed by the user's hash, as every per-user entry is: no user id (an email) in key names.
    flight = f"{KIND}:{per_user.user_hash(acct.user_id)}"
    if not single_flight.claim(sum(st.management.timeout), flight):
        return False  # another request is asking right now: not verified until it knows
    return remember(acct.user_id, st.management.get_user(acct.access_token, acct.user_id))


def remember(user_id: str, user: dict[str, Any]) -> bool:
    """Keep what Auth0's user answer says of the email, for the cache period; return it."""
    verified = user.get("email_verified") is True
    per_user.put(KIND, user_id, verified, max(1, int(state().settings.cache_seconds)))
    return verified


def require_own_verified(acct: Account) -> None:
    """Refuse linking when LINK_REQUIRE_VERIFIED_EMAIL is on and the own email is unverified."""
    if not state().settings.require_verified_email or own_email_verified(acct):
        return
    raise Refusal("own_email_unverified", _("Verify your email address first"), why_not(acct))


def why_not(acct: Account) -> str:
    """Say why nothing can be linked to an unverified account, and what to do about it."""
    if acct.email:
        return _(
            "Your own email address (%(email)s) is not verified, so no other account can be "
            "linked to this profile. Verify it first (follow the link in the verification email, "
            "or ask the site for a new one), then sign in again and link the account.",
            email=acct.email,
        )
    return _(
        "Your profile has no verified email address, so no other account can be linked to it. "
        "Verify your email address first, then sign in again and link the account."
    )
