"""Start and measure the benchmark's servers: dev tenant, Redis, gunicorn; and run wrk.

Everything listens on 127.0.0.1 only, and every process is stopped by its own PID.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.servers import free_port, wait_for  # bench.py puts the repository on sys.path

ROOT = Path(__file__).resolve().parent.parent
LUA = ROOT / "scripts" / "rotate_cookies.lua"


@contextmanager
def running(args: list[str], *, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """Run a server process with its output in `log`; stop it (SIGTERM, then SIGKILL)."""
    with log.open("ab") as out:
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=out)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def tenant(latency: float, log: Path) -> Iterator[str]:
    """The development tenant with simulated Auth0 latency and a rate limit high enough for load.

    Served by gunicorn (one process, so one tenant state; threads for concurrent calls) rather
    than `python -m devtenant`: werkzeug's development server closes every connection after one
    response, which would make any client open one TCP connection per Management API call.
    """
    port = free_port()
    config = {"DEVTENANT_LATENCY": latency, "DEVTENANT_RATE_BURST": 100_000_000}
    args = [sys.executable, "-m", "gunicorn", "-c", "/dev/null", "--bind", f"127.0.0.1:{port}",
            "--workers", "1", "--worker-class", "gthread", "--threads", "64",
            "--keep-alive", "300", f"devtenant:create_app({config!r})"]  # fmt: skip
    with running(args, env=dict(os.environ), log=log) as process:
        url = f"http://127.0.0.1:{port}"
        wait_for(f"{url}/.well-known/openid-configuration", process)
        yield url


@contextmanager
def redis(log: Path) -> Iterator[str]:
    """A throwaway redis-server without persistence."""
    executable = shutil.which("redis-server")
    if not executable:
        sys.exit("--redis needs redis-server (apt-get install redis-server)")
    port = free_port()
    args = [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--daemonize", "no"]  # fmt: skip
    with running(args, env=dict(os.environ), log=log) as process:
        import redis as redis_py

        client = redis_py.Redis(port=port, socket_connect_timeout=0.5)
        for _ in range(100):
            if process.poll() is not None:
                raise RuntimeError("redis-server exited")
            try:
                client.ping()
                break
            except redis_py.ConnectionError:
                time.sleep(0.05)
        client.close()
        yield f"redis://127.0.0.1:{port}/0"


@contextmanager
def gunicorn(app: str, env: dict[str, str], log: Path) -> Iterator[tuple[str, int]]:
    """Serve `app` with the repository's gunicorn.conf.py; yield (base URL, master PID)."""
    port = free_port()
    env = {**os.environ, **env, "PORT": str(port), "HOST": "127.0.0.1"}
    env.pop("AUTH0_DOMAIN", None)
    args = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), app]
    with running(args, env=env, log=log) as process:
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/healthz" if app.startswith("app:") else base + "/", process)
        yield base, process.pid


def wrk(url: str, cookies: list[str], *, seconds: float, connections: int, work: Path,
        pin: bool = False) -> dict:  # fmt: skip
    """Load `url` for `seconds` with `connections` connections, rotating session cookies; or,
    with `pin`, one wrk thread per connection, each sending one cookie only (so two connections
    of the same session or user never overlap while there are as many cookies as connections)."""
    cookie_file = work / "cookies.txt"
    cookie_file.write_text("\n".join(cookies) + "\n")
    threads = connections if pin else max(1, min(2, connections))
    result = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
         "--timeout", "10s", "-s", str(LUA), url, "--", str(cookie_file),
         *(["pin"] if pin else [])],
        capture_output=True, text=True, check=True, timeout=seconds + 60,
    )  # fmt: skip
    line = next(x for x in result.stdout.splitlines() if x.startswith("BENCH "))
    figures = json.loads(line.removeprefix("BENCH "))
    figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
    return figures


# Redis commands that change data, as the app and its session interface use them; every other
# command they send only reads (GET, EXISTS, TTL). INFO, PING and the like are the bench's own.
WRITES = {
    "set",
    "setex",
    "psetex",
    "setnx",
    "del",
    "unlink",
    "expire",
    "pexpire",
    "getdel",
    "getex",
}
READS = {"get", "mget", "exists", "ttl", "pttl"}


def redis_calls(url: str) -> dict[str, int]:
    """Calls of each command so far, from Redis's own statistics (INFO commandstats)."""
    if not url:
        return {}  # the file store: nothing to count
    import redis as redis_py

    client = redis_py.Redis.from_url(url)
    try:
        stats = client.info("commandstats")
    finally:
        client.close()
    return {name.removeprefix("cmdstat_"): v["calls"] for name, v in stats.items()}


def reads_and_writes(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Reads and writes between two `redis_calls` snapshots."""
    spent = {name: n - before.get(name, 0) for name, n in after.items()}
    return {
        "reads": sum(n for name, n in spent.items() if name in READS),
        "writes": sum(n for name, n in spent.items() if name in WRITES),
    }
