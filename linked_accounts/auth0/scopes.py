"""Every scope the extension asks Auth0 for, named once, and how to read what Auth0 granted."""

from __future__ import annotations

# The person's own Management API token (Auth0's "client-side scenario").
READ_CURRENT_USER = "read:current_user"
UPDATE_IDENTITIES = "update:current_user_identities"
UPDATE_METADATA = "update:current_user_metadata"  # only for a merge that copies user_metadata
DELETE_CURRENT_USER = "delete:current_user"  # which many tenants withhold
# Machine-to-machine tokens, each used for one thing only.
READ_USERS = "read:users"  # users-by-email, for link suggestions
UPDATE_APP_METADATA = "update:users_app_metadata"  # an opt-in merge of app_metadata
READ_CONNECTIONS = "read:connections"  # the connections' display names, when the host asks

# What each kind of sign-in asks for.
OPENID = "openid profile email"
LOGIN = f"{OPENID} {READ_CURRENT_USER} {UPDATE_IDENTITIES}"
PROOF = f"{OPENID} {READ_CURRENT_USER}"  # a proof sign-in of another account
DELETE = f"{OPENID} {READ_CURRENT_USER} {DELETE_CURRENT_USER}"


def granted(scope: str, answer: str | None) -> bool:
    """Tell whether a token response's `scope` (`answer`) grants `scope`. Auth0 may grant fewer
    than asked and says so there; no `scope` in the answer means all that was asked."""
    return answer is None or scope in answer.split()
