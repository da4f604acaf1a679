"""The scopes a user login may be granted, and the profile claims each scope reveals."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

OIDC_SCOPES = ("openid", "profile", "email")
API_USER_SCOPES = (
    "openid",
    "profile",
    "email",
    "read:current_user",
    "update:current_user_identities",
    "update:current_user_metadata",
    "delete:current_user",
)

# Auth0's published list of scopes for user tokens leaves `delete:current_user` out, and public
# captures of what a real tenant grants do not have it either: withheld unless a test (or
# `--grant-scope delete:current_user`, or POST /__dev/scopes) grants it.
WITHHELD_BY_DEFAULT = ("delete:current_user",)


def granted_scopes(
    requested: str, audience: str | None, withheld: Collection[str] = ()
) -> list[str]:
    """The requested scopes this tenant grants a user login (order kept, duplicates dropped).

    `withheld` models a tenant that grants fewer scopes than asked (Auth0 then says so only in
    the token response's `scope`): its scopes are left out silently, as Auth0 does.
    """
    allowed = API_USER_SCOPES if audience else OIDC_SCOPES
    granted: list[str] = []
    for scope in requested.split():
        if scope in allowed and scope not in granted and scope not in withheld:
            granted.append(scope)
    return granted


def profile_claims(user: dict[str, Any], scopes: list[str]) -> dict[str, Any]:
    """Standard claims about a user, by scope."""
    claims: dict[str, Any] = {}
    if "profile" in scopes:
        for key in ("name", "nickname", "picture", "given_name", "family_name", "updated_at"):
            if key in user:
                claims[key] = user[key]
    if "email" in scopes:
        for key in ("email", "email_verified"):
            if key in user:
                claims[key] = user[key]
    return claims
