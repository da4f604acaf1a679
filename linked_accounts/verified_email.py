"""Linking needs the signed-in person's own email verified, not only the other account's.

Auth0's "verified email usage" takeover: an attacker signs up with the victim's email, never
verifies it, links their own social login to that account, and keeps a way in once the victim
claims the account by a password reset. So under LINK_REQUIRE_VERIFIED_EMAIL an account whose own
email is unverified links nothing, and is told why and what to do.
"""

from __future__ import annotations

from .i18n import _
from .refusals import Refusal
from .signin.account import Account
from .state import state


def own_email_verified(acct: Account) -> bool:
    """Tell whether the signed-in user's own email is verified: from their ID token, or (for a
    session kept before the claim was) from Auth0, with their own token."""
    if acct.email_verified is not None:
        return acct.email_verified
    user = state().management.get_user(acct.access_token, acct.user_id)
    return user.get("email_verified") is True


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
