"""The tenant's user store: seeded users, lookup by identity, and Auth0's link/unlink semantics."""

from __future__ import annotations

import copy
import threading
from datetime import UTC, datetime
from typing import Any

# `method`: how the login page names the way of signing in, where two accounts look alike.
CONNECTIONS: dict[str, dict[str, Any]] = {
    "Username-Password-Authentication": {
        "provider": "auth0",
        "isSocial": False,
        "method": "password",
    },
    "google-oauth2": {"provider": "google-oauth2", "isSocial": True, "method": "Google"},
    "github": {"provider": "github", "isSocial": True, "method": "GitHub"},
    "acme-saml": {"provider": "samlp", "isSocial": False, "method": "Acme SAML"},
}

# Profile fields copied into profileData when a user becomes a secondary identity, and back out
# when it is unlinked again.
PROFILE_FIELDS = (
    "email",
    "email_verified",
    "name",
    "nickname",
    "given_name",
    "family_name",
    "picture",
)

SEED_TIME = "2023-09-12T10:00:00.000Z"


def iso(ts: float) -> str:
    """Auth0's timestamp format, e.g. 2023-09-12T10:00:00.000Z."""
    moment = datetime.fromtimestamp(ts, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def identity_id(identity: dict[str, Any]) -> str:
    """The full id `{provider}|{user_id}` of an identity (numeric ids compared as strings)."""
    return f"{identity['provider']}|{identity['user_id']}"


def root_id(user: dict[str, Any]) -> str:
    """A user's root user_id, always derived from identities[0]."""
    return identity_id(user["identities"][0])


def _identity(connection: str, user_id: str | int, profile: dict[str, Any] | None = None) -> dict:
    """One identity entry on a known connection."""
    conn = CONNECTIONS[connection]
    entry: dict[str, Any] = {
        "provider": conn["provider"],
        "user_id": user_id,
        "connection": connection,
        "isSocial": conn["isSocial"],
    }
    if profile is not None:
        entry["profileData"] = profile
    return entry


def _user(identities: list[dict], profile: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A stored user record (root user_id is derived, never stored separately)."""
    record = {
        "identities": identities,
        "created_at": SEED_TIME,
        "updated_at": SEED_TIME,
        "last_login": SEED_TIME,
        "logins_count": 1,
        **profile,
    }
    record.update(extra)
    return record


def seed_users() -> list[dict[str, Any]]:
    """The five seeded users with the exact ids other tests rely on."""
    ada_google = {
        "email": "ada.lovelace@gmail.com",
        "email_verified": True,
        "name": "Ada Lovelace",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "picture": "https://lh3.googleusercontent.com/a/ada-lovelace",
    }
    ada_github = {
        "email": "ada@users.noreply.github.com",
        "email_verified": True,
        "name": "Ada Lovelace",
        "nickname": "ada-codes",
    }
    ada_saml = {"email": "ada@acme.test", "name": "Ada Lovelace"}

    def avatar(initials: str) -> str:
        return f"https://cdn.auth0.com/avatars/{initials}.png"

    return [
        _user(
            [
                _identity("Username-Password-Authentication", "6500a1b2c3d4e5f600000001"),
                _identity("google-oauth2", "109876543210987654321", ada_google),
                _identity("github", 1234567, ada_github),
                _identity("acme-saml", "acme-saml|ada@acme.test", ada_saml),
            ],
            {
                "email": "ada@example.com",
                "email_verified": True,
                "name": "Ada Lovelace",
                "nickname": "ada",
                "given_name": "Ada",
                "family_name": "Lovelace",
                "picture": avatar("al"),
            },
            user_metadata={"theme": "dark"},
            app_metadata={"plan": "pro"},
        ),
        _user(
            [_identity("Username-Password-Authentication", "6500a1b2c3d4e5f600000002")],
            {
                "email": "ben@example.com",
                "email_verified": True,
                "name": "Ben Carter",
                "nickname": "ben",
                "given_name": "Ben",
                "family_name": "Carter",
                "picture": avatar("bc"),
            },
        ),
        _user(
            [_identity("github", 7654321)],
            {
                "email": "grace@example.com",
                "email_verified": True,
                "name": "Grace Hopper",
                "nickname": "grace-h",
                "picture": avatar("gh"),
            },
        ),
        _user(
            [_identity("google-oauth2", "300000000000000000003")],
            {
                "email": "linus@example.com",
                "email_verified": True,
                "name": "Linus Google",
                "nickname": "linus",
                "given_name": "Linus",
                "family_name": "Google",
                "picture": avatar("lg"),
            },
        ),
        _user(
            [_identity("google-oauth2", "200000000000000000002")],
            {
                "email": "eve@example.com",
                "email_verified": False,
                "name": "Eve Unverified",
                "nickname": "eve",
                "given_name": "Eve",
                "family_name": "Unverified",
                "picture": avatar("eu"),
            },
        ),
    ]


def public_user(user: dict[str, Any]) -> dict[str, Any]:
    """The user as Auth0's GET /api/v2/users/{id} shows it (a deep copy)."""
    body: dict[str, Any] = {"user_id": root_id(user)}
    for key in (
        "email",
        "email_verified",
        "name",
        "nickname",
        "picture",
        "given_name",
        "family_name",
        "created_at",
        "updated_at",
        "last_login",
        "logins_count",
        "identities",
        "user_metadata",
        "app_metadata",
    ):
        if key in user:
            body[key] = copy.deepcopy(user[key])
    return body


# Auth0's own wording (its Management API reference, 404 of GET /api/v2/users/{id}).
USER_NOT_FOUND = "The user does not exist."


class LinkError(Exception):
    """A link or unlink refused with an Auth0 status and message."""

    def __init__(self, status: int, message: str, error_code: str | None = None) -> None:
        """Remember the HTTP status, the message and Auth0's errorCode (if it sends one)."""
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_code = error_code


def demo_duplicates() -> list[dict[str, Any]]:
    """Maya's two accounts (a password one, and a GitHub one made later with the same verified
    email: what Auth0 does when someone forgets how they signed up) and a look-alike whose
    email is the same but unverified, which must never be suggested.

    The GitHub account has never logged in (logins_count 0, no last_login: Auth0 made it at the
    sign-up), so its first login is the one a post-login Action that asks about duplicates on a
    first login asks about; the password account has logged in often."""
    maya = {"email": "maya@example.com", "given_name": "Maya", "family_name": "Patel"}
    newcomer = _user(
        [_identity("github", 8765432)],
        {**maya, "email_verified": True, "name": "maya-patel", "nickname": "maya-patel"},
        created_at="2026-10-20T18:05:00.000Z",
        user_metadata={"theme": "dark", "editor": "vim"},
        logins_count=0,
    )
    del newcomer["last_login"]
    return [
        _user(
            [_identity("Username-Password-Authentication", "6500a1b2c3d4e5f600000006")],
            {**maya, "email_verified": True, "name": "Maya Patel", "nickname": "maya"},
            created_at="2024-03-04T09:30:00.000Z",
            last_login="2026-10-18T08:12:00.000Z",
            logins_count=14,
            user_metadata={"newsletter": "monthly", "theme": "light"},
        ),
        newcomer,
        _user(
            [_identity("google-oauth2", "400000000000000000004")],
            {**maya, "email_verified": False, "name": "M. Patel", "nickname": "mpatel"},
            created_at="2026-11-02T07:45:00.000Z",
        ),
    ]


class UserStore:
    """Thread-safe users; every public method takes the lock (the server is threaded)."""

    def __init__(self) -> None:
        """Start from the seed."""
        self.lock = threading.RLock()
        self.users: list[dict[str, Any]] = seed_users() + demo_duplicates()

    def reset(self) -> None:
        """Back to the seeded users."""
        with self.lock:
            self.users = seed_users() + demo_duplicates()

    def _find(self, user_id: str) -> dict[str, Any] | None:
        """The stored record whose root id is user_id (caller holds the lock)."""
        for user in self.users:
            if root_id(user) == str(user_id):
                return user
        return None

    def get(self, user_id: str) -> dict[str, Any] | None:
        """The public JSON of one user, or None."""
        with self.lock:
            user = self._find(user_id)
            return public_user(user) if user else None

    def all(self) -> list[dict[str, Any]]:
        """Every user's public JSON."""
        with self.lock:
            return [public_user(user) for user in self.users]

    def owner_of(self, full_identity_id: str) -> str | None:
        """The root user_id of whoever holds this identity (primary or secondary)."""
        with self.lock:
            for user in self.users:
                if any(identity_id(i) == full_identity_id for i in user["identities"]):
                    return root_id(user)
        return None

    def by_email(self, email: str) -> list[dict[str, Any]]:
        """Every user whose root email is exactly `email`: case-sensitive, as Auth0 matches."""
        with self.lock:
            return [public_user(u) for u in self.users if u.get("email") == email]

    def update_metadata(
        self, user_id: str, changes: dict[str, dict[str, Any]], now: float
    ) -> dict[str, Any] | None:
        """Merge metadata as Auth0 does; return the public user, or None when there is none."""
        with self.lock:
            user = self._find(user_id)
            if user is None:
                return None
            for key, patch in changes.items():
                if not patch:
                    user.pop(key, None)  # an empty object removes the metadata altogether
                    continue
                merged = {**(user.get(key) or {}), **patch}
                user[key] = {k: v for k, v in merged.items() if v is not None}
            user["updated_at"] = iso(now)
            return public_user(user)

    def record_login(self, user_id: str, now: float) -> None:
        """Bump last_login and logins_count like a real login does."""
        with self.lock:
            user = self._find(user_id)
            if user:
                user["last_login"] = iso(now)
                user["logins_count"] = int(user.get("logins_count", 0)) + 1

    def delete(self, user_id: str) -> bool:
        """Delete a user; False when there was none."""
        with self.lock:
            user = self._find(user_id)
            if user is None:
                return False
            self.users.remove(user)
            return True

    def unlink(self, primary_id: str, provider: str, secondary_user_id: str, now: float) -> list:
        """Unlink a secondary; it becomes a new user with no metadata. Returns the identities."""
        with self.lock:
            user = self._find(primary_id)
            if user is None:
                # Unconfirmed: Auth0 documents 400, 401, 403 and 429 here, not 404.
                raise LinkError(404, USER_NOT_FOUND, "inexistent_user")
            wanted = f"{provider}|{secondary_user_id}"
            if identity_id(user["identities"][0]) == wanted:
                raise LinkError(400, "Main identity cannot be removed.")
            match = next((i for i in user["identities"][1:] if identity_id(i) == wanted), None)
            if match is None:
                # Unconfirmed: Auth0 does not document its answer for an identity that is not
                # linked; a 400 is the documented status nearest to it.
                raise LinkError(400, "Identity not found.")
            user["identities"].remove(match)
            user["updated_at"] = iso(now)
            profile = match.pop("profileData", {}) or {}
            fresh = {k: v for k, v in profile.items() if k in PROFILE_FIELDS}
            if "nickname" not in fresh and "email" in fresh:
                fresh["nickname"] = str(fresh["email"]).split("@")[0]
            stamp = iso(now)
            self.users.append(
                {
                    "identities": [match],
                    "created_at": stamp,
                    "updated_at": stamp,
                    "last_login": stamp,
                    "logins_count": 1,
                    **fresh,
                }
            )
            return copy.deepcopy(user["identities"])

    def link(self, primary_id: str, secondary_id: str, now: float) -> list:
        """Link the user secondary_id into primary_id; its metadata is discarded."""
        with self.lock:
            user = self._find(primary_id)
            if user is None:
                # Unconfirmed: Auth0 documents 400, 401, 403, 409 and 429 here, not 404.
                raise LinkError(404, USER_NOT_FOUND, "inexistent_user")
            if str(secondary_id) == primary_id:
                raise LinkError(400, "Main identity and the new one are the same.")
            if any(identity_id(i) == str(secondary_id) for i in user["identities"]):
                raise LinkError(409, "Specified identity already exists.", "identity_conflict")
            other = self._find(secondary_id)
            if other is None:
                # Unconfirmed wording; the status is a documented one.
                raise LinkError(400, "The user specified by the secondary identity does not exist.")
            if len(other["identities"]) > 1:
                raise LinkError(409, "Specified identity already exists.", "identity_conflict")
            identity = copy.deepcopy(other["identities"][0])
            identity.pop("profileData", None)
            identity["profileData"] = {k: other[k] for k in PROFILE_FIELDS if k in other}
            self.users.remove(other)
            user["identities"].append(identity)
            user["updated_at"] = iso(now)
            return copy.deepcopy(user["identities"])

    def login_choices(self, connection: str | None) -> list[dict[str, Any]]:
        """Accounts to offer on the login page: by connection, or every user by primary."""
        choices = []
        with self.lock:
            for user in self.users:
                for index, ident in enumerate(user["identities"]):
                    if connection is None and index > 0:
                        break
                    if connection is not None and ident["connection"] != connection:
                        continue
                    profile = user if index == 0 else ident.get("profileData", {})
                    choices.append(
                        {
                            "identity": identity_id(ident),
                            "connection": ident["connection"],
                            "name": profile.get("name") or identity_id(ident),
                            "email": profile.get("email", ""),
                            "user_id": root_id(user),
                        }
                    )
        return choices
