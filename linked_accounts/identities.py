"""The domain: a user's linked identities, which one is primary, and how Auth0 names them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import msgspec

# Lists a worker remembers read (see profile_identities): one per user viewing their page now.
LISTS_REMEMBERED = 32


class IdentityFormatError(ValueError):
    """Auth0 answered with an identity list this code cannot read."""


@dataclass(frozen=True)
class Identity:
    """One sign-in method linked to the user's profile."""

    provider: str
    user_id: str
    connection: str
    is_social: bool
    is_primary: bool
    email: str | None = None
    name: str | None = None
    username: str | None = None

    @property
    def key(self) -> str:
        """Return the id this identity has as an Auth0 user of its own: `{provider}|{user_id}`."""
        return f"{self.provider}|{self.user_id}"

    @property
    def detail(self) -> str | None:
        """Return what tells the user which account of that provider this is."""
        return self.email or self.username or self.name


def parse_identities(raw: object) -> list[Identity]:
    """Read Auth0's `identities` array; the first item is the primary.

    Raises IdentityFormatError when the shape is not Auth0's, so a bad upstream answer is
    reported instead of drawing a wrong page.
    """
    if not isinstance(raw, list) or not raw:
        raise IdentityFormatError("identities must be a non-empty list")
    identities = []
    for position, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise IdentityFormatError("each identity must be an object")
        provider, user_id = item.get("provider"), item.get("user_id")
        # GitHub's ids arrive as JSON numbers; everything is compared as a string.
        if not isinstance(provider, str) or not provider or isinstance(user_id, bool):
            raise IdentityFormatError("identity without a provider")
        if not isinstance(user_id, (str, int)) or str(user_id) == "":
            raise IdentityFormatError("identity without a user_id")
        profile = item.get("profileData") if isinstance(item.get("profileData"), Mapping) else {}
        identities.append(
            Identity(
                provider=provider,
                user_id=str(user_id),
                connection=str(item.get("connection") or provider),
                is_social=bool(item.get("isSocial")),
                is_primary=position == 0,
                email=_text(profile.get("email")),
                name=_text(profile.get("name")),
                username=_text(profile.get("username") or profile.get("nickname")),
            )
        )
    return identities


# What `parse_identities` reads of an identity, and of its profileData: all the cache keeps.
READ_FIELDS = ("provider", "user_id", "connection", "isSocial")
READ_PROFILE_FIELDS = ("email", "name", "username", "nickname")


def read_fields(raw: object) -> object:
    """Auth0's identities array with only what `parse_identities` reads, which parses exactly as
    the whole: what the cache keeps of it. Less to store and to read on every view, and no more
    of each person's profile (pictures, family names) than the page shows. What is not shaped as
    Auth0's is left as it is, for `parse_identities` to refuse."""
    if not isinstance(raw, list):
        return raw
    return [_read_fields(item) if isinstance(item, Mapping) else item for item in raw]


def _read_fields(item: Mapping) -> dict[str, Any]:
    kept = {key: item[key] for key in READ_FIELDS if key in item}
    profile = item.get("profileData")
    if isinstance(profile, Mapping):
        kept["profileData"] = {key: profile[key] for key in READ_PROFILE_FIELDS if key in profile}
    return kept


def with_primary_profile(
    identities: Sequence[Identity], email: str | None, name: str | None
) -> list[Identity]:
    """Give the primary the profile's email and name: Auth0 sends no profileData for it."""
    return [
        replace(i, email=i.email or email, name=i.name or name) if i.is_primary else i
        for i in identities
    ]


def profile_identities(raw: object, email: str | None, name: str | None) -> Sequence[Identity]:
    """What the user's page lists: `parse_identities`, then `with_primary_profile`.

    A cached view reads the same list on every view, so the last lists read are remembered,
    keyed by their JSON (equal JSON, equal list): reading one again costs one encoding.
    """
    if not isinstance(raw, list):  # JSON has no other sequence: a list alone keys by its text
        return with_primary_profile(parse_identities(raw), email, name)
    try:
        text = msgspec.json.encode(raw)
    except (TypeError, ValueError, msgspec.EncodeError):  # not JSON's values: read as it is
        return with_primary_profile(parse_identities(raw), email, name)
    return _profile_of(text, email, name)


class IdentityList(tuple[Identity, ...]):
    """A list `profile_identities` remembered: a tuple, so no view can change what the next one
    reads, and pickled as what it was made from (its JSON, the profile's email and name) rather
    than identity by identity: as exact, since equal sources make equal lists."""

    source: tuple[bytes, str | None, str | None]

    def __reduce__(self) -> tuple[Any, tuple[bytes, str | None, str | None]]:
        return (_profile_of, self.source)


@lru_cache(maxsize=LISTS_REMEMBERED, typed=True)  # typed: a Markup email is not a str one
def _profile_of(text: bytes, email: str | None, name: str | None) -> IdentityList:
    listed = IdentityList(
        with_primary_profile(parse_identities(msgspec.json.decode(text)), email, name)
    )
    listed.source = (text, email, name)
    return listed


def primary(identities: Iterable[Identity]) -> Identity | None:
    """Return the primary identity (Auth0 lists it first; a malformed list may lack it)."""
    return next((i for i in identities if i.is_primary), None)


def find(identities: Iterable[Identity], key: str) -> Identity | None:
    """Return the identity whose `{provider}|{user_id}` is `key`, if the user has it."""
    return next((i for i in identities if i.key == key), None)


def split_user_id(user_id: str) -> tuple[str, str]:
    """Split an Auth0 user id at its first `|`: the rest may hold more (`samlp|conn|a@b`)."""
    provider, sep, rest = user_id.partition("|")
    if not sep or not provider or not rest:
        raise ValueError(f"not an Auth0 user id: {user_id!r}")
    return provider, rest


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
