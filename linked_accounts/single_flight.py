"""Single flight: one read of the identities at a time per user. When a user's cached identities
expire, the first request re-reads them from Auth0 and requests arriving meanwhile (other tabs,
other sessions of the user, other workers) serve the just-expired list instead of spending
more of Auth0's rate limit (the tenant's bucket, and any per-user limit) on the same answer.

The lock is an entry of the side store (`storage.side`: Redis `SET NX PX`, or a file linked into
place), so it holds across workers and instances. It is released once the response (and so the
new list) has been saved, and lapses if its holder dies.
"""

from __future__ import annotations

from flask import after_this_request, current_app, session

from . import metrics
from .storage import side_store

PREFIX = "single-flight:"


def claim(seconds: float, key: str | None = None) -> bool:
    """Try to become the one request reading the identities for `key` (by default this
    session's), for `seconds`."""
    store = side_store(current_app)
    name = key or getattr(session, "sid", None)
    if store is None or name is None:
        return True  # not a store we know: nothing to coordinate with
    lock = PREFIX + name
    if not store.add(lock, 1, ttl=max(1.0, seconds)):
        metrics.single_flight_wait()
        return False

    @after_this_request
    def release_after_saving(response):
        # After the response is sent, Flask-Session has saved the new list: then let go.
        response.call_on_close(lambda: store.delete(lock))
        return response

    return True
