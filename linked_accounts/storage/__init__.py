"""Where the extension keeps things: server-side sessions and the side store beside them.

`rules` (what every session store here enforces), `files` and `redis_store` (the two session
stores), `side` (per-user data in a key space no session id can name), `wiring`
(`init_sessions`, which builds both). This package imports nothing from the rest of the
extension but `keys`: the web layer and the operations use it, never the other way round.

The session stores are Flask-Session's interfaces with its private hooks overridden (reading,
deleting and writing one session: `_retrieve_session_data`, `_delete_session`,
`_upsert_session`), as no public API or setting does what they do; they were written for
Flask-Session 0.8, which pyproject.toml pins, and tests/test_session_overrides.py lists every
private part of Flask-Session and cachelib used here, failing by name if an upgrade drops one.
"""

from .wiring import init_sessions, is_server_side, side_store, when_signed_in

__all__ = ["init_sessions", "is_server_side", "side_store", "when_signed_in"]
