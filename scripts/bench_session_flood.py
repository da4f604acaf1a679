"""What a flood of cookieless logins costs the session stores: the time of one write when the
file store's pending folder is full, with cachelib's own pruning and with ours, in the same run;
and, given a Redis URL, how many keys 20 such logins leave and for how long.

    .venv/bin/python scripts/bench_session_flood.py [--entries 10000] [--writes 50] [--redis URL]

Each write is what `GET /account/login` without a cookie stores: a session holding one trip to
Auth0 (Authlib's entry for it, the trip, the start stamp), saved through the app's session
interface. Figures vary with the disk and the machine's load: compare the two lines of one run.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile
import time

from cachelib.file import FileSystemCache
from flask import Flask, session

from linked_accounts import init_sessions
from linked_accounts.storage import keys


def app_with_sessions(instance: str, entries: int, redis_url: str | None = None) -> Flask:
    app = Flask(__name__, instance_path=instance)
    app.config.update(SECRET_KEY="x" * 32, LINKED_ACCOUNTS_PENDING_SESSIONS=entries)
    init_sessions(app, redis_url)
    return app


def cookieless_login(app: Flask) -> float:
    """Store one cookieless login's session; return the seconds the save took."""
    with app.test_request_context("/account/login"):
        state = secrets.token_urlsafe(22)
        session[keys.authlib_state(state)] = {"data": {"nonce": "n", "code_verifier": "v"}}
        session[keys.PENDING_TRIPS] = {state: {"purpose": "login", "started_at": time.time()}}
        started = time.perf_counter()
        app.session_interface.save_session(app, session, app.response_class())
        return time.perf_counter() - started


def fill(pending: FileSystemCache, entries: int) -> None:
    data = {"_session_started_at": time.time(), keys.PENDING_TRIPS: {}}
    for _ in range(entries):
        pending.set("linked-accounts:" + secrets.token_urlsafe(32), data, timeout=600)


def files(entries: int, writes: int) -> None:
    for name in ("cachelib's prune", "ours"):
        with tempfile.TemporaryDirectory() as instance:
            app = app_with_sessions(instance, entries)
            interface = app.session_interface
            if name == "cachelib's prune":
                interface.pending = FileSystemCache(
                    instance + "/sessions-pending-stock", threshold=entries, mode=0o600
                )
            fill(interface.pending, entries)
            ms = sorted(cookieless_login(app) * 1000 for _ in range(writes))
            left = interface.pending._file_count
            p50, p95 = statistics.median(ms), ms[int(len(ms) * 0.95)]
            print(
                f"files, {entries} pending, {name:16}: a write p50 {p50:6.2f} ms, "
                f"p95 {p95:7.2f} ms, max {ms[-1]:7.2f} ms; "
                f"{left} pending left after {writes} writes"
            )


def redis(url: str) -> None:
    import redis as redis_py

    with tempfile.TemporaryDirectory() as instance:
        app = app_with_sessions(instance, 10_000, url)
        client = redis_py.Redis.from_url(url)
        before = set(client.scan_iter("linked-accounts:*"))
        for _ in range(20):
            cookieless_login(app)
        new = set(client.scan_iter("linked-accounts:*")) - before
        ttls = [client.ttl(key) for key in new]
        print(f"redis: 20 cookieless logins left {len(new)} keys, TTL at most {max(ttls)} s")
        client.delete(*new)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--writes", type=int, default=50)
    parser.add_argument("--redis", help="a redis:// URL to a throwaway Redis")
    args = parser.parse_args()
    files(args.entries, args.writes)
    if args.redis:
        redis(args.redis)


if __name__ == "__main__":
    main()
