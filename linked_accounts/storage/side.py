"""The side store: what is kept per user rather than per session (the identities cache, the
single-flight locks), beside the sessions but in a key space of its own.

Shaped like Flask-Dance's storage: `get`, `set`, `add` (only if absent, atomically: a lock) and
`delete`, with one serialisation (JSON) for every store. No cookie can name an entry: session ids
are accepted only in the shape the session store issues (no `:`, no `/`), the Redis keys carry a
prefix of their own with a `:` after it, and the file store is a folder of its own. An entry that
does not parse counts as absent, so a damaged or foreign entry is read again, never served.
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
import time
from contextlib import suppress
from typing import Any, Protocol

import msgspec

from .read_ahead import MISSING, ReadAhead

PREFIX = "linked-accounts-side:"  # Redis: beside the sessions' "linked-accounts:<id>", never one


class SideStore(Protocol):
    """Per-user data shared by every session, worker and instance."""

    def get(self, key: str) -> Any | None:
        """Return the value stored under `key`, or None (absent, expired or unreadable)."""

    def set(self, key: str, value: Any, ttl: float) -> None:
        """Store `value` under `key` for `ttl` seconds."""

    def add(self, key: str, value: Any, ttl: float) -> bool:
        """Store `value` under `key` for `ttl` seconds only if nothing is there; say if it was."""

    def delete(self, key: str) -> None:
        """Remove `key`, if present."""


def _encode(value: Any) -> bytes:
    return msgspec.json.encode(value)


def _decode(raw: bytes | str | None) -> Any | None:
    # msgspec, as Flask-Session's own serialiser: read on every view, several times faster than
    # the json module. Its DecodeError is a ValueError.
    if raw is None:
        return None
    try:
        return msgspec.json.decode(raw)
    except (ValueError, UnicodeDecodeError):
        return None


class RedisSideStore:
    """The side store in the sessions' Redis, under `PREFIX`; Redis expires each entry. What the
    session store fetched ahead with the session (`read_ahead`) is served without asking again."""

    def __init__(self, client, read_ahead: ReadAhead | None = None) -> None:
        self.client = client
        self.read_ahead = read_ahead or ReadAhead(PREFIX, kept=0)
        self.prefix = self.read_ahead.prefix

    def get(self, key: str) -> Any | None:
        raw = self.read_ahead.take(key)
        if raw is MISSING:
            raw = self.client.get(self.prefix + key)
        return _decode(raw)  # type: ignore[arg-type]

    def set(self, key: str, value: Any, ttl: float) -> None:
        self.read_ahead.drop(key)
        self.client.set(self.prefix + key, _encode(value), px=_ms(ttl))

    def add(self, key: str, value: Any, ttl: float) -> bool:
        self.read_ahead.drop(key)
        return bool(self.client.set(self.prefix + key, _encode(value), nx=True, px=_ms(ttl)))

    def delete(self, key: str) -> None:
        self.read_ahead.drop(key)
        self.client.delete(self.prefix + key)


class FileSideStore:
    """The side store in a folder of its own: one file per entry, named by the key's hash,
    holding its expiry and value as JSON; written whole (rename, link) so no reader sees half."""

    SWEEP_EVERY = 3600  # seconds between removals of expired entries

    def __init__(self, folder: str) -> None:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        self.folder = folder
        self._swept_at = time.time()

    def get(self, key: str) -> Any | None:
        entry = self._read(self._path(key))
        return entry["value"] if entry else None

    def set(self, key: str, value: Any, ttl: float) -> None:
        os.replace(self._write(value, ttl), self._path(key))
        self._sweep()

    def add(self, key: str, value: Any, ttl: float) -> bool:
        path, written = self._path(key), self._write(value, ttl)
        try:
            for _ in range(2):
                try:
                    os.link(written, path)  # atomic, and fails if the entry exists
                    return True
                except FileExistsError:
                    if self._read(path) is not None:
                        return False
                    # Expired (its holder died) or unreadable: it counts as absent.
                    with suppress(FileNotFoundError):
                        os.unlink(path)
            return False
        finally:
            os.unlink(written)

    def delete(self, key: str) -> None:
        with suppress(FileNotFoundError):
            os.unlink(self._path(key))

    def _path(self, key: str) -> str:
        return os.path.join(self.folder, hashlib.sha256(key.encode()).hexdigest())

    def _write(self, value: Any, ttl: float) -> str:
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")  # mode 0600
        with os.fdopen(fd, "wb") as f:
            f.write(_encode({"expires": time.time() + ttl, "value": value}))
        return tmp

    @staticmethod
    def _read(path: str) -> dict | None:
        try:
            with open(path, "rb") as f:
                entry = _decode(f.read())
        except OSError:
            return None
        if not isinstance(entry, dict) or not isinstance(entry.get("expires"), (int, float)):
            return None
        return entry if entry["expires"] > time.time() and "value" in entry else None

    def _sweep(self) -> None:
        """Remove expired entries now and then: nothing else prunes the folder."""
        if time.time() - self._swept_at < self.SWEEP_EVERY:
            return
        self._swept_at = time.time()
        for name in os.listdir(self.folder):
            path = os.path.join(self.folder, name)
            if not name.startswith(".tmp-") and self._read(path) is None:
                with suppress(FileNotFoundError):
                    os.unlink(path)


def _ms(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))
