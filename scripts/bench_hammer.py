"""One person hammering the settings page while others sign in, before and after the fix.

The fourth review's item 1: a session whose `email_verified` is unknown read Auth0's user on every
settings view, suggestions listing and confirmation; once the tenant's bucket was empty the pacer
put every Auth0-bound request of the worker to sleep until it was full again (up to 5 s), each
sleeping request holding a sync worker, so everyone else's logins and even /healthz waited.

Each turn serves one checkout under gunicorn (its own gunicorn.conf.py: sync workers, Redis
sessions, link suggestions on with the dev tenant's M2M client) against the development tenant
staged with the free plan's limit (a burst of 10, 2 calls a second, as `python -m devtenant
--rate-burst 10 --rate-per-second 2`). One user (Maya, with a suggestion) signs in, her stored
session loses `email_verified` (as a session kept from before the claim was stored), and then
for --seconds she hammers GET /account/, GET /account/api/suggestions, the suggestion's
confirmation page and POST /account/refresh (with its CSRF token) from --connections
connections, while other users sign in over HTTP at --login-rate a second (/account/login, the
tenant's login page, the callback, the first view) and a probe hits /healthz at --probe-rate.

The code before the fix (--baseline, a git worktree removed at the end) and the current checkout
are loaded in turns, in the same run, against the same tenant and Redis. Printed per turn: the
others' login p50/p99, the probe's, the Management API calls the hammering user caused (counted
at the tenant), and the answers that were the rate-limit page (429); then after / before.
All traffic goes to 127.0.0.1; the run is bounded (2 x 20 s of load by default, --smoke 2 x 3 s).
"""

from __future__ import annotations

import argparse
import importlib.util
import multiprocessing
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urljoin

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts import bench_servers as servers  # noqa: E402
from scripts.bench import machine, pct, reset, stats  # noqa: E402
from tests.support.forms import forms, submit  # noqa: E402
from tests.support.servers import free_port, wait_for  # noqa: E402
from tests.support.visitor import Visitor  # noqa: E402

BASELINE = "cd2b740"  # the release before the fix
HAMMERER, HAMMERER_ID = "Maya Patel", "auth0|6500a1b2c3d4e5f600000006"
M2M_CLIENT, M2M_SECRET = "dev-m2m", "dev-m2m-secret"
M2M_ID = f"{M2M_CLIENT}@clients"
OTHERS = ["Ada Lovelace", "Ben Carter", "Grace Hopper", "Linus Google"]

# Removes the claim from a stored session as tests/test_own_email_verified.py does: through the
# served checkout's own app and session interface (run in that checkout, with the server's env).
FORGET_CLAIM = """
import sys
import linked_accounts
from app import create_app
app = create_app()
client = app.test_client()
client.set_cookie("session", sys.argv[1])
with client.session_transaction() as session:
    data = dict(session["linked_accounts"])
    del data["email_verified"]
    session["linked_accounts"] = data
print(linked_accounts.__file__)
"""


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--seconds", type=float, default=20, help="load per turn")
    p.add_argument("--rounds", type=int, default=1, help="turns of each checkout, alternating")
    p.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    p.add_argument("--connections", type=int, default=4, help="the hammering user's connections")
    p.add_argument("--login-rate", type=float, default=1.0, help="others' sign-ins a second")
    p.add_argument("--probe-rate", type=float, default=4.0, help="/healthz probes a second")
    p.add_argument("--latency", type=float, default=0.05, help="simulated Auth0 latency, s")
    p.add_argument("--rate-burst", type=int, default=10, help="the tenant's bucket (free plan)")
    p.add_argument("--rate-per-second", type=float, default=2.0, help="its refill (free plan)")
    p.add_argument("--baseline", default=BASELINE, help="the commit before the fix")
    p.add_argument("--smoke", action="store_true", help="a few seconds: proves the script runs")
    args = p.parse_args()
    if args.smoke:
        args.seconds, args.rounds, args.workers, args.connections = 3, 1, 2, 2
    return args


def require_tools(args: argparse.Namespace) -> None:
    """Stop before starting anything without redis-server or gunicorn: the smoke skips outside
    CI, saying what to install; a real run, and anything under CI=true, fails."""
    missing = [name for name, found in (("redis-server", shutil.which("redis-server")),
                                        ("gunicorn", importlib.util.find_spec("gunicorn")))
               if not found]  # fmt: skip
    if not missing:
        return
    line = f"{' and '.join(missing)} not installed (redis-server: apt-get install redis-server; "
    line += "gunicorn: pip install -e '.[server]')"
    if args.smoke and os.environ.get("CI") != "true":
        print(f"bench_hammer smoke SKIPPED: {line}")
        sys.exit(0)
    sys.exit(f"bench_hammer: {line}")


@contextmanager
def baseline_tree(commit: str, work: Path, smoke: bool = False):
    """The code before the fix, checked out beside this one (removed again at the end). A smoke
    in a clone without that commit (a shallow one) serves this checkout's HEAD in its place and
    says so: it proves the script runs, not the figures."""
    tree = work / "baseline"
    git = ["git", "-C", str(servers.ROOT)]
    if subprocess.run([*git, "cat-file", "-e", f"{commit}^{{commit}}"],
                      capture_output=True).returncode:  # fmt: skip
        if not smoke:
            sys.exit(f"bench_hammer: commit {commit} is not in this clone (git fetch --unshallow)")
        print(f"bench_hammer smoke: commit {commit} is not in this clone; HEAD stands in for it")
        commit = "HEAD"
    subprocess.run([*git, "worktree", "add", "--detach", "--quiet", str(tree), commit], check=True)
    try:
        yield tree
    finally:
        subprocess.run([*git, "worktree", "remove", "--force", str(tree)], check=False)


@contextmanager
def serve(tree: Path, env: dict[str, str], log: Path):
    """Serve `tree`'s app with `tree`'s gunicorn.conf.py: gunicorn's --chdir puts `tree` first on
    sys.path (when it is not on it already), before the installed package."""
    port = free_port()
    env = {**checkout_env(env), "PORT": str(port), "HOST": "127.0.0.1"}
    args = [sys.executable, "-m", "gunicorn", "-c", str(tree / "gunicorn.conf.py"),
            "--chdir", str(tree), "app:create_app()"]  # fmt: skip
    with servers.running(args, env=env, log=log) as process:
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/healthz", process)
        yield base


def checkout_env(env: dict[str, str]) -> dict[str, str]:
    """The environment a checkout's processes run with: the development tenant, never a real
    one, and no PYTHONPATH that could put another checkout's code first."""
    env = {**os.environ, **env}
    env.pop("PYTHONPATH", None)
    env.pop("AUTH0_DOMAIN", None)
    return env


def app_env(tenant: str, redis_url: str, args: argparse.Namespace) -> dict[str, str]:
    return {
        "DEV_AUTH0_DOMAIN": tenant,
        "DEV_TENANT": "1",
        "APP_SECRET_KEY": args.secret,
        "REDIS_URL": redis_url,
        "SUGGEST_LINKS": "1",
        "AUTH0_M2M_CLIENT_ID": M2M_CLIENT,
        "AUTH0_M2M_CLIENT_SECRET": M2M_SECRET,
        "WEB_CONCURRENCY": str(args.workers),
        "GUNICORN_THREADS": "1",  # sync workers, gunicorn.conf.py's default
        "LOG_LEVEL": "info",
    }


def hammerer_targets(base: str, tree: Path, env: dict[str, str]) -> dict:
    """Sign the hammering user in and take her page's Refresh form and suggestion link; then
    forget her `email_verified`, so that her next view is the first with the claim unknown."""
    maya = Visitor(base)
    page = maya.login(HAMMERER)
    refresh = next(f for f in forms(page.text) if f.button("Refresh"))
    confirm = re.search(r'href="([^"]*/suggestions/link\?[^"]+)"', page.text)
    assert confirm, "no suggestion on the hammering user's page"
    cookie = maya.http.cookies.get("session", domain="127.0.0.1")
    done = subprocess.run([sys.executable, "-c", FORGET_CLAIM, cookie], cwd=tree, check=True,
                          env=checkout_env(env), capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert Path(done.stdout.strip()).is_relative_to(tree), (done.stdout, tree)  # its own code
    confirm_url = urljoin(page.url, confirm.group(1).replace("&amp;", "&"))
    return {
        "cookie": cookie,
        "gets": [("GET /account/", base + "/account/"),
                 ("GET /account/api/suggestions", base + "/account/api/suggestions"),
                 ("GET /account/suggestions/link (confirmation)", confirm_url)],
        "post": ("POST /account/refresh", urljoin(page.url, refresh.action), refresh.fields),
    }  # fmt: skip


def hammer(targets: dict, connections: int, until: float, results) -> None:
    """The hammering user's connections (a process of its own, so its work never delays the
    timing of the others' logins): each presses through her requests as fast as answered."""
    counts: Counter = Counter()
    lock = threading.Lock()

    def one(offset: int) -> None:
        http = requests.Session()
        http.cookies.set("session", targets["cookie"], domain="127.0.0.1")
        post, url, fields = targets["post"]
        steps = [(name, lambda u=u: http.get(u, timeout=30)) for name, u in targets["gets"]]
        steps.append((post, lambda: http.post(url, data=fields, timeout=30,
                                              allow_redirects=False)))  # fmt: skip
        n = offset
        while time.time() < until:
            name, send = steps[n % len(steps)]
            try:
                status = send().status_code
            except requests.RequestException:
                status = "error"
            with lock:
                counts[name, status] += 1
            n += 1

    threads = [threading.Thread(target=one, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put(dict(counts))


def sign_in(base: str, name: str) -> tuple[float, int | str]:
    """A whole login over HTTP, timed: /account/login, the tenant's page, callback, first view."""
    http = requests.Session()
    started = time.perf_counter()
    try:
        login_page = http.get(base + "/account/login", timeout=30)
        landing = submit(http, login_page, f"Continue as {name}")
        ok = landing.status_code != 200 or landing.url.split("?")[0] == base + "/account/"
        status: int | str = landing.status_code if ok else "elsewhere"
    except (requests.RequestException, AssertionError):
        status = "error"
    return (time.perf_counter() - started) * 1000, status


def probe(base: str) -> tuple[float, int | str]:
    started = time.perf_counter()
    try:
        status: int | str = requests.get(base + "/healthz", timeout=30).status_code
    except requests.RequestException:
        status = "error"
    return (time.perf_counter() - started) * 1000, status


def steadily(pool: ThreadPoolExecutor, rate: float, until: float, job) -> list:
    """Start `job(k)` `rate` times a second until `until`, whatever the earlier ones take."""
    futures, started, k = [], time.time(), 0
    while (due := started + k / rate) < until:
        time.sleep(max(0.0, due - time.time()))
        futures.append(pool.submit(job, k))
        k += 1
    return futures


def turn(label: str, tree: Path, tenant: str, redis_url: str, args, work: Path) -> dict:
    """One checkout under the load: the figures of its turn."""
    import redis as redis_py

    reset(tenant)  # every user as seeded, the tenant's roomy default limit for the setup
    client = redis_py.Redis.from_url(redis_url)
    client.flushdb()  # no session or per-user entry of the previous turn
    client.close()
    env = app_env(tenant, redis_url, args)
    with serve(tree, env, work / f"app-{label}.log") as base:
        targets = hammerer_targets(base, tree, env)
        # The free plan, staged now: the bucket starts full at its size (10 calls).
        limits = {"rate_burst": args.rate_burst, "rate_per_second": args.rate_per_second}
        requests.post(f"{tenant}/__dev/config", json=limits, timeout=5).raise_for_status()
        before = stats(tenant)
        until = time.time() + args.seconds
        results = multiprocessing.get_context("spawn").Queue()
        hammering = multiprocessing.get_context("spawn").Process(
            target=hammer, args=(targets, args.connections, until, results)
        )
        hammering.start()
        with ThreadPoolExecutor(max_workers=128) as pool:
            probes: list = []
            probing = threading.Thread(target=lambda: probes.extend(
                steadily(pool, args.probe_rate, until, lambda _: probe(base))))  # fmt: skip
            probing.start()
            logins = steadily(
                pool, args.login_rate, until, lambda k: sign_in(base, OTHERS[k % len(OTHERS)])
            )
            probing.join()
            logins, probes = [f.result() for f in logins], [f.result() for f in probes]
        hammered = results.get(timeout=120)
        hammering.join(timeout=30)
        after = stats(tenant)
    calls = {
        user: n - before["management_calls"].get(user, 0)
        for user, n in after["management_calls"].items()
    }
    return {
        "logins": logins,
        "probes": probes,
        "hammered": hammered,
        "hammerer_calls": calls.get(HAMMERER_ID, 0),
        "m2m_calls": calls.get(M2M_ID, 0),
        "others_calls": sum(n for u, n in calls.items() if u not in (HAMMERER_ID, M2M_ID)),
        "tenant_429": after["rate_limited"] - before["rate_limited"],
    }


def merge(turns: list[dict]) -> dict:
    """A checkout's turns as one: samples pooled, counts added up."""
    out: dict = {"logins": [], "probes": [], "hammered": Counter()}
    for t in turns:
        out["logins"] += t["logins"]
        out["probes"] += t["probes"]
        out["hammered"].update(t["hammered"])
        for key in ("hammerer_calls", "m2m_calls", "others_calls", "tenant_429"):
            out[key] = out.get(key, 0) + t[key]
    return out


def summary(samples: list[tuple[float, int | str]]) -> dict:
    times = [ms for ms, _ in samples]
    statuses = Counter(status for _, status in samples)
    if len(times) < 2:
        times = times * 2 or [float("nan")] * 2
    return {"n": len(samples), "p50": pct(times, 50), "p99": pct(times, 99),
            "max": max(times), "statuses": statuses}  # fmt: skip


def report(label: str, figures: dict, args) -> dict:
    logins, probes = summary(figures["logins"]), summary(figures["probes"])
    hammered = figures["hammered"]
    seconds = args.seconds * args.rounds
    answered = sum(n for (_, status), n in hammered.items() if status != "error")
    hammer_429 = sum(n for (_, status), n in hammered.items() if status == 429)
    login_429 = logins["statuses"].get(429, 0)
    print(f"\n{label}:")
    print(f"  others' logins: n {logins['n']}, p50 {logins['p50']:.0f} ms, "
          f"p99 {logins['p99']:.0f} ms, max {logins['max']:.0f} ms; "
          f"last page's status {dict(logins['statuses'])}")  # fmt: skip
    print(f"  /healthz probe: n {probes['n']}, p50 {probes['p50']:.1f} ms, "
          f"p99 {probes['p99']:.1f} ms, max {probes['max']:.0f} ms")  # fmt: skip
    print(f"  the hammering user: {answered} answers in {seconds:g} s "
          f"({answered / seconds:.0f}/s)")  # fmt: skip
    for name in dict.fromkeys(name for name, _ in sorted(hammered, key=str)):
        got = {status: n for (each, status), n in hammered.items() if each == name}
        print(f"    {name}: {dict(sorted(got.items(), key=str))}")
    print(f"  Management API calls: the hammering user's own token "
          f"{figures['hammerer_calls']}; M2M suggestion lookups (anyone's) "
          f"{figures['m2m_calls']}; the others' own tokens {figures['others_calls']}; "
          f"refused by the tenant with a 429: {figures['tenant_429']}")  # fmt: skip
    print(f"  answered with the rate-limit page (429): {hammer_429 + login_429} "
          f"({hammer_429} of the hammering user's requests, {login_429} of the others' "
          "logins)")  # fmt: skip
    return {"logins": logins, "probes": probes}


def main() -> None:
    args = parse_args()
    require_tools(args)
    args.secret = secrets.token_hex(32)
    started = time.monotonic()
    turns: dict[str, list[dict]] = {"before": [], "after": []}
    with tempfile.TemporaryDirectory(prefix="bench-hammer-") as tmp:
        work = Path(tmp)
        with (
            baseline_tree(args.baseline, work, args.smoke) as old,
            servers.tenant(args.latency, work / "tenant.log") as tenant,
            servers.redis(work / "redis.log") as redis_url,
        ):
            for _ in range(args.rounds):
                turns["before"].append(turn("before", old, tenant, redis_url, args, work))
                turns["after"].append(turn("after", servers.ROOT, tenant, redis_url, args, work))
    print(f"Machine: {machine()}")
    print(
        f"Settings: {args.workers} sync workers, Redis sessions, suggestions on; tenant bucket "
        f"{args.rate_burst} calls refilled at {args.rate_per_second:g}/s, Auth0 latency "
        f"{args.latency * 1000:g} ms; the hammering user on {args.connections} connections; "
        f"others sign in {args.login_rate:g}/s, /healthz {args.probe_rate:g}/s; "
        f"{args.rounds} x {args.seconds:g} s per checkout, in turns"
    )
    before = report(f"before (baseline {args.baseline})", merge(turns["before"]), args)
    after = report("after (this checkout)", merge(turns["after"]), args)
    ratio = {kind: after[kind]["p99"] / before[kind]["p99"] for kind in ("logins", "probes")}
    print(f"\nafter / before: others' login p99 x{ratio['logins']:.3f}, "
          f"/healthz p99 x{ratio['probes']:.3f}")  # fmt: skip
    print(f"(took {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
