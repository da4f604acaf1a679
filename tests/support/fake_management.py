"""An in-memory Management API with the client's methods and typed errors, for fast tests of
`operations`: each user's identities, primary first, changed as Auth0 changes them.

It checks what Auth0 checks for a user token (the token is its user's, the path names that user,
the primary cannot be unlinked, a linked account cannot be linked twice) and records every call.
The development tenant remains the strict peer over real HTTP; this one is for the operations'
own rules, and for faults (`fail_next`) without a server.
"""

from __future__ import annotations

import copy
from typing import Any

from linked_accounts.auth0 import management as m


def identity(key: str, connection: str | None = None, **profile: Any) -> dict[str, Any]:
    """An identity as Auth0 lists it, from its `{provider}|{user_id}` key."""
    provider, _, user_id = key.partition("|")
    item = {"provider": provider, "user_id": user_id, "connection": connection or provider}
    if profile:
        item["profileData"] = profile
    return item


def token_of(user_id: str) -> str:
    """The (fake) access token of `user_id`."""
    return f"token-of:{user_id}"


class FakeManagement:
    """`ManagementClient`'s methods over a dict of users."""

    timeout = (1.0, 1.0)

    def __init__(self, users: dict[str, list[dict[str, Any]]]) -> None:
        self.users = copy.deepcopy(users)
        self.calls: list[tuple[str, str]] = []
        self._faults: dict[str, m.ManagementError] = {}

    def fail_next(self, method: str, error: m.ManagementError) -> None:
        """Make the next call of `method` raise `error` (once), before doing anything."""
        self._faults[method] = error

    def get_user(self, token: str, user_id: str) -> dict[str, Any]:
        self._enter("get_user", token, user_id)
        if user_id not in self.users:
            raise m.NotFound("The user does not exist.", status=404, code="inexistent_user")
        return {"user_id": user_id, "identities": copy.deepcopy(self.users[user_id])}

    def unlink(
        self, token: str, primary_id: str, provider: str, secondary_user_id: str
    ) -> list[dict[str, Any]]:
        self._enter("unlink", token, primary_id)
        items = self.users[primary_id]
        if (items[0]["provider"], str(items[0]["user_id"])) == (provider, secondary_user_id):
            raise m.BadRequest("Main identity cannot be removed.", status=400)
        gone = [
            i for i in items if (i["provider"], str(i["user_id"])) == (provider, secondary_user_id)
        ]
        if not gone:
            raise m.BadRequest("Identity not linked.", status=400)  # undocumented at Auth0
        self.users[primary_id] = [i for i in items if i not in gone]
        self.users[f"{provider}|{secondary_user_id}"] = gone  # a separate user now
        return copy.deepcopy(self.users[primary_id])

    def link(self, token: str, primary_id: str, id_token: str) -> list[dict[str, Any]]:
        """`id_token` stands for the other account's ID token: here, its user id."""
        self._enter("link", token, primary_id)
        if any(f"{i['provider']}|{i['user_id']}" == id_token for i in self.users[primary_id]):
            raise m.Conflict("Specified identity already exists.", status=409)
        self.users[primary_id].extend(self.users.pop(id_token))
        return copy.deepcopy(self.users[primary_id])

    def delete_user(self, token: str, user_id: str) -> None:
        self._enter("delete_user", token, user_id)
        self.users.pop(user_id, None)  # 204 either way, as Auth0 answers

    def _enter(self, method: str, token: str, user_id: str) -> None:
        self.calls.append((method, user_id))
        fault = self._faults.pop(method, None)
        if fault is not None:
            raise fault
        if not token.startswith("token-of:") and token != "m2m-token":
            raise m.TokenRejected("Invalid token", status=401)
        if token.startswith("token-of:") and token != token_of(user_id):
            raise m.Forbidden(
                "User to be acted on does not match subject in bearer token.",
                status=403,
                code="unowned_resource",
            )


class FakeClientCredentials:
    """The M2M token source: one fixed token."""

    def token(self) -> str:
        return "m2m-token"
