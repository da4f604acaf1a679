"""Where the extension keeps things: server-side sessions and the side store beside them.

`rules` (what every session store here enforces), `files` and `redis_store` (the two session
stores), `side` (per-user data in a key space no session id can name), `wiring`
(`init_sessions`, which builds both). This package imports nothing from the rest of the
extension but `keys`: the web layer and the operations use it, never the other way round.
"""

from .wiring import init_sessions, is_server_side, side_store, when_signed_in

__all__ = ["init_sessions", "is_server_side", "side_store", "when_signed_in"]
