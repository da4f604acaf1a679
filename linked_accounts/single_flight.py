"""Single flight: one read of the identities at a time per user. When a user's cached identities
expire, the first request re-reads them from Auth0 and requests arriving meanwhile (other tabs,
other sessions of the user, other workers) serve the just-expired list instead of spending
another of the user's 10 calls a minute.

The lock lives beside the sessions (Redis `SET NX PX`; with the file store, a file created with
O_EXCL in the instance folder), so it holds across workers and instances. It is released once the
response (and so the new list) has been saved, and lapses if its holder dies.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from contextlib import suppress

from cachelib.file import FileSystemCache
from flask import after_this_request, current_app, session

from . import metrics

PREFIX = "linked-accounts:single-flight:"


def claim(seconds: float, key: str | None = None) -> bool:
    """Try to become the one request reading the identities for `key` (by default this
    session's), for `seconds`."""
    store = _store()
    sid = key or getattr(session, "sid", None)
    if store is None or sid is None:
        return True  # not a store we know: nothing to coordinate with
    add, delete = store
    if not add(PREFIX + sid, max(1.0, seconds)):
        metrics.single_flight_wait()
        return False

    @after_this_request
    def release_after_saving(response):
        # After the response is sent, Flask-Session has saved the new list: then let go.
        response.call_on_close(lambda: delete(PREFIX + sid))
        return response

    return True


def _store() -> tuple[Callable[[str, float], bool], Callable[[str], object]] | None:
    config = current_app.config
    if config.get("SESSION_TYPE") == "redis" and config.get("SESSION_REDIS") is not None:
        redis = config["SESSION_REDIS"]
        return (lambda key, s: bool(redis.set(key, b"1", nx=True, px=int(s * 1000))), redis.delete)
    if config.get("SESSION_TYPE") == "cachelib" and isinstance(
        config.get("SESSION_CACHELIB"), FileSystemCache
    ):
        return _file_locks(os.path.join(current_app.instance_path, "single-flight"))
    return None


def _file_locks(directory: str) -> tuple[Callable[[str, float], bool], Callable[[str], None]]:
    # cachelib's own add() checks, then writes: not atomic. O_EXCL is, across processes too.
    os.makedirs(directory, exist_ok=True)

    def path(key: str) -> str:
        return os.path.join(directory, hashlib.sha256(key.encode()).hexdigest())

    def add(key: str, seconds: float) -> bool:
        with suppress(FileNotFoundError):
            if time.time() - os.path.getmtime(path(key)) > seconds:
                os.unlink(path(key))  # its holder died: the lock has lapsed
        try:
            os.close(os.open(path(key), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            return False
        return True

    def delete(key: str) -> None:
        with suppress(FileNotFoundError):
            os.unlink(path(key))

    return add, delete
