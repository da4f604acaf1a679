"""Which users-by-email answers may ever be suggested: the rules `lookup._candidate` applies to
each profile, one at a time (the journeys over HTTP are in test_suggestions.py)."""

from __future__ import annotations

import pytest

from linked_accounts.suggestions.lookup import _candidate

MAYA = {
    "user_id": "github|8765432",
    "email": "maya@example.com",
    "email_verified": True,
    "created_at": "2025-06-01T10:00:00.000Z",
    "identities": [{"provider": "github", "user_id": 8765432, "connection": "github"}],
}


def test_a_verified_single_account_is_a_candidate():
    candidate = _candidate(MAYA)
    assert candidate is not None
    assert (candidate.user_id, candidate.provider, candidate.connection) == (
        "github|8765432",
        "github",
        "github",
    )


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"email_verified": False}, "unverified email"),
        ({"blocked": True}, "blocked: it cannot sign in to prove itself"),
        ({"identities": MAYA["identities"] * 2}, "links of its own: never a secondary"),
        (
            {
                "user_id": "email|6500a1",
                "identities": [{"provider": "email", "user_id": "6500a1", "connection": "email"}],
            },
            "passwordless email: the proof cannot reach it",
        ),
        (
            {
                "user_id": "sms|6500a2",
                "identities": [{"provider": "sms", "user_id": "6500a2", "connection": "sms"}],
            },
            "passwordless SMS",
        ),
        ({"user_id": "no-provider"}, "not an Auth0 user id"),
    ],
)
def test_never_suggested(change, why):
    assert _candidate({**MAYA, **change}) is None, why
