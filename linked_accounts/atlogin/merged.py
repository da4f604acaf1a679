"""Telling the product about a merge the Action made at login.

The Action links after the page's answer, inside Auth0; the login then ends as the account that
stays, and the Action puts `{"primary_id", "merged_id"}` in that login's ID token under `CLAIM`.
Whoever finishes that login reads it once: the extension itself (standalone, through the
`login_finished` signal of its own sign-in), or, in host sign-in mode, the host's own callback with
`linked_accounts.merged_at_login(claims)`. Either way the product hears `accounts_merged` once.
"""

from __future__ import annotations

from typing import Any

from .. import events

CLAIM = "https://linked-accounts/merged"


def merged_at_login(claims: dict[str, Any]) -> tuple[str, str] | None:
    """If this login's verified ID token says the Action merged an account into it, send
    `accounts_merged` and return (primary_id, merged_id). Call it once per login, in a request."""
    value = claims.get(CLAIM)
    if not isinstance(value, dict):
        return None
    primary, merged = value.get("primary_id"), value.get("merged_id")
    if not (isinstance(primary, str) and isinstance(merged, str)) or primary != claims.get("sub"):
        return None  # a merge into another account than this login's is not this login's news
    events.merged(primary, merged)
    return primary, merged


def announce_from_claims(sender: Any, claims: dict[str, Any], **_: Any) -> None:
    merged_at_login(claims)
