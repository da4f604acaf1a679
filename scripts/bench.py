"""`make bench`: the app under gunicorn on the dev tenant, and a floor measured in the same run.

Phases (each load phase bounded by --seconds; the whole run takes about two minutes):
  cached     settings page served from the session cache (IDENTITIES_CACHE_SECONDS=--cache-seconds)
  uncached   settings page that reads the user from Auth0 on every view (IDENTITIES_CACHE_SECONDS=0)
  floor      scripts/bench_floor.py: the same one pooled Management API GET, and nothing else
  unlink     a sequence of unlinks, each against a freshly reseeded tenant
All traffic goes to 127.0.0.1. Targets are printed as PASS/FAIL; the exit code is 0 unless the
benchmark itself broke.
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import os
import platform
import re
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urljoin

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts import bench_servers as servers  # noqa: E402
from tests.support.forms import forms  # noqa: E402
from tests.support.tenant_login import login as tenant_login  # noqa: E402
from tests.support.visitor import Visitor  # noqa: E402

USERS = ["Ada Lovelace", "Ben Carter", "Grace Hopper", "Linus Google"]
ADA_GITHUB = "github|1234567"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--workers", type=int, default=4, help="gunicorn workers (app and floor)")
    p.add_argument("--threads", type=int, default=1, help="threads per worker (app and floor)")
    p.add_argument("--connections", type=int, help="wrk connections (default workers*threads)")
    p.add_argument("--seconds", type=float, default=10, help="length of each load phase")
    p.add_argument("--latency", type=float, default=0.05, help="simulated Auth0 latency, s")
    p.add_argument("--sessions", type=int, default=20, help="signed-in sessions to rotate")
    p.add_argument(
        "--cache-seconds", type=int, default=5, help="cached phase's cache period (spans phases)"
    )
    p.add_argument("--unlinks", type=int, default=15, help="unlinks to time")
    p.add_argument("--redis", action="store_true", help="sessions in Redis (REDIS_URL)")
    return p.parse_args()


def stats(tenant: str) -> dict:
    return requests.get(f"{tenant}/__dev/stats", timeout=5).json()


def reset(tenant: str) -> None:
    requests.post(f"{tenant}/__dev/reset", timeout=5).raise_for_status()


def log_in_sessions(base: str, count: int) -> tuple[list[str], dict[str, int]]:
    """Log in `count` sessions through the real pages; return their cookies and users' counts."""
    cookies, per_user = [], {}
    for i in range(count):
        visitor = Visitor(base)
        name = USERS[i % len(USERS)]
        visitor.login(name)
        cookies.append(f"session={visitor.http.cookies.get('session', domain='127.0.0.1')}")
        per_user[name] = per_user.get(name, 0) + 1
    return cookies, per_user


def server_time_ms(url: str, cookie: str, samples: int = 300) -> list[float]:
    """Server-side time of `samples` sequential views, from the app's Server-Timing header."""
    http = requests.Session()
    times = []
    for _ in range(samples):
        response = http.get(url, headers={"Cookie": cookie}, timeout=10)
        assert response.status_code == 200, response.status_code
        times.append(float(response.headers["Server-Timing"].split("dur=")[1]))
    return times


def page_weight(url: str, cookie: str) -> dict[str, int]:
    """Bytes of the settings HTML and the CSS and scripts it loads (images excluded)."""
    html = requests.get(url, headers={"Cookie": cookie}, timeout=10).text
    weights = {"html": len(html.encode())}
    links = re.findall(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"', html)
    links += re.findall(r'<script[^>]+src="([^"]+)"', html)
    for href in links:
        weights[href] = len(requests.get(urljoin(url, href), timeout=10).content)
    return weights


def time_unlinks(base: str, tenant: str, count: int) -> list[float]:
    """Time the Unlink POST (to its redirect), each against a reseeded tenant and a fresh login."""
    times = []
    for _ in range(count):
        reset(tenant)
        ada = Visitor(base)
        ada.login("Ada Lovelace")
        page = ada.confirm_page(ADA_GITHUB)
        form = next(f for f in forms(page.text) if f.button("Unlink"))
        started = time.perf_counter()
        done = ada.http.post(urljoin(page.url, form.action), data=form.fields, timeout=15,
                             allow_redirects=False)  # fmt: skip
        times.append((time.perf_counter() - started) * 1000)
        landed = done.headers.get("Location", "").split("?")[0]  # the outcome rides in the query
        assert done.status_code == 303 and landed.endswith("/account/"), (
            done.status_code,
            done.headers.get("Location"),
        )
    return times


def warm_up(url: str, cookies: list[str], args: argparse.Namespace, work: Path) -> None:
    """Load briefly, unmeasured, so every worker has started and connected."""
    servers.wrk(url, cookies, seconds=2, connections=connections(args), work=work)


def load(url: str, cookies: list[str], args: argparse.Namespace, work: Path) -> dict:
    """One measured wrk phase."""
    return servers.wrk(url, cookies, seconds=args.seconds, connections=connections(args), work=work)


def connections(args: argparse.Namespace) -> int:
    # As many as the workers can serve at once: more would measure gunicorn's queue, not the app.
    return args.connections or args.workers * args.threads


def app_env(tenant: str, args: argparse.Namespace, redis_url: str, cache: int) -> dict[str, str]:
    return {
        "DEV_AUTH0_DOMAIN": tenant,
        "APP_SECRET_KEY": secrets.token_hex(32),
        "REDIS_URL": redis_url,
        "IDENTITIES_CACHE_SECONDS": str(cache),
        "WEB_CONCURRENCY": str(args.workers),
        "GUNICORN_THREADS": str(args.threads),
        "LOG_LEVEL": "info",  # the JSON access line is part of a real request's cost
    }


def per_user_calls(before: dict, after: dict, per_user: dict[str, int], periods: int) -> float:
    """Most Management API calls per session per cache period, over the users.

    Stats count calls per Auth0 user, and a user has several sessions here, each with its own
    cache: divide by the fewest sessions any user has, so the figure errs on the high side.
    """
    sessions = min(per_user.values())
    calls = [
        n - before["management_calls"].get(uid, 0) for uid, n in after["management_calls"].items()
    ]
    return max(calls, default=0) / (sessions * periods)


def cached_phase(tenant: str, redis_url: str, args, work: Path, out: dict) -> None:
    env = app_env(tenant, args, redis_url, args.cache_seconds)
    with servers.gunicorn("app:create_app()", env, work / "app-cached.log") as (base, pid):
        url = base + "/account/"
        reset(tenant)
        cookies, per_user = log_in_sessions(base, args.sessions)
        warm_up(url, cookies, args, work)
        before = stats(tenant)
        out["cached"] = load(url, cookies, args, work)
        after = stats(tenant)
        views = out["cached"]["requests"]
        out["cached_calls_per_view"] = (
            after["management_calls_total"] - before["management_calls_total"]
        ) / views
        # The phase spans this many cache periods, counting the partial ones at both ends.
        periods = math.floor(args.seconds / args.cache_seconds) + 1
        out["calls_per_user_period"] = per_user_calls(before, after, per_user, periods)
        out["server_ms"] = server_time_ms(url, cookies[0])
        out["weight"] = page_weight(url, cookies[0])
        out["rss_cached"] = servers.worker_rss_mb(pid)
        out["unlink_ms"] = time_unlinks(base, tenant, args.unlinks)


def uncached_phase(tenant: str, redis_url: str, args, work: Path, out: dict) -> None:
    env = app_env(tenant, args, redis_url, 0)
    with servers.gunicorn("app:create_app()", env, work / "app-uncached.log") as (base, pid):
        reset(tenant)
        cookies, _ = log_in_sessions(base, args.sessions)
        warm_up(base + "/account/", cookies, args, work)
        before = stats(tenant)
        out["uncached"] = load(base + "/account/", cookies, args, work)
        after = stats(tenant)
        out["uncached_server_ms"] = server_time_ms(base + "/account/", cookies[0], samples=100)
        out["uncached_calls_per_view"] = (
            after["management_calls_total"] - before["management_calls_total"]
        ) / out["uncached"]["requests"]
        out["connections"] = after["management_connections"]
        out["rss_uncached"] = servers.worker_rss_mb(pid)


def floor_phase(tenant: str, args, work: Path, out: dict) -> None:
    token = tenant_login(tenant, "Ada Lovelace")["access_token"]
    payload = token.split(".")[1]
    sub = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"]
    env = {
        "FLOOR_TENANT_URL": tenant,
        "FLOOR_TOKEN": token,
        "FLOOR_USER_ID": sub,
        "WEB_CONCURRENCY": str(args.workers),
        "GUNICORN_THREADS": str(args.threads),
        "PYTHONPATH": str(servers.ROOT / "scripts"),
    }
    with servers.gunicorn("bench_floor:app", env, work / "floor.log") as (base, _):
        warm_up(base + "/", [], args, work)
        out["floor"] = load(base + "/", [], args, work)


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def report(args, out: dict) -> None:
    cached, uncached, floor = out["cached"], out["uncached"], out["floor"]
    ms = 1000.0
    rss = out["rss_cached"] + out["rss_uncached"]
    weight = sum(out["weight"].values())
    p50_ratio = uncached["p50_us"] / floor["p50_us"]
    rps_ratio = uncached["rps"] / floor["rps"]
    conns_per_worker = out["connections"] / args.workers
    server_p50 = statistics.median(out["server_ms"])
    print(f"\nMachine: {machine()}")
    print(
        f"Settings: {args.workers} sync workers x {args.threads} thread(s), "
        f"{args.connections or args.workers * args.threads} wrk connections, "
        f"{args.seconds:g} s per phase, Auth0 latency {args.latency * 1000:g} ms, "
        f"sessions in {'Redis' if args.redis else 'the file store'}, {args.sessions} sessions"
    )
    row = "{:<34} {:>9} {:>9} {:>10} {:>7}"
    print(
        "\n" + row.format("settings page (client side, wrk)", "p50 ms", "p99 ms", "req/s", "errors")
    )
    for name, f in (("cached view", cached), ("uncached view (calls Auth0)", uncached),
                    ("floor (one pooled GET)", floor)):  # fmt: skip
        print(row.format(name, f"{f['p50_us'] / ms:.2f}", f"{f['p99_us'] / ms:.2f}",
                         f"{f['rps']:.0f}", f["errors"]))  # fmt: skip
    print(f"\nuncached / floor: p50 x{p50_ratio:.3f}, throughput x{rps_ratio:.3f}")
    print(
        f"cached view server time (Server-Timing from the WSGI middleware, incl. session load "
        f"and save; {len(out['server_ms'])} sequential views): p50 {server_p50:.2f} ms, "
        f"p99 {pct(out['server_ms'], 99):.2f} ms"
    )
    print(
        f"uncached view server time (same header, 100 sequential views): "
        f"p50 {statistics.median(out['uncached_server_ms']):.2f} ms"
    )
    print(
        f"unlink (POST to redirect, {len(out['unlink_ms'])} fresh seeds): "
        f"p50 {statistics.median(out['unlink_ms']):.1f} ms, max {max(out['unlink_ms']):.1f} ms"
    )
    print(
        f"Management API calls per page view: cached {out['cached_calls_per_view']:.4f}, "
        f"uncached {out['uncached_calls_per_view']:.3f}"
    )
    print(
        f"Management API calls per user session per {args.cache_seconds} s cache period "
        f"(worst user): {out['calls_per_user_period']:.2f}"
    )
    print(
        f"TCP connections to Auth0: {out['connections']} for {args.workers} workers "
        f"= {conns_per_worker:.2f} per worker"
    )
    print("worker RSS MB: " + ", ".join(f"{x:.1f}" for x in rss))
    print(
        "page weight before images: "
        + ", ".join(f"{k} {v / 1024:.1f} KB" for k, v in out["weight"].items())
        + f" = {weight / 1024:.1f} KB"
    )
    print("\nTargets:")
    targets = [
        ("cached settings view p50 < 5 ms server time", server_p50 < 5, f"{server_p50:.2f} ms"),
        ("uncached view p50 within 10% of the floor", p50_ratio <= 1.10, f"x{p50_ratio:.3f}"),
        ("<= 1 connection to Auth0 per worker", conns_per_worker <= 1, f"{conns_per_worker:.2f}"),
        ("<= 1 Management API call per user per cache period",
         out["calls_per_user_period"] <= 1, f"{out['calls_per_user_period']:.2f}"),
        ("< 60 MB RSS per worker", max(rss) < 60, f"max {max(rss):.1f} MB"),
        ("< 30 KB per page before images", weight < 30 * 1024, f"{weight / 1024:.1f} KB"),
    ]  # fmt: skip
    for name, ok, figure in targets:
        print(f"  {'PASS' if ok else 'FAIL'}  {name}: {figure}")


def machine() -> str:
    model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))  # fmt: skip
    ram = mem_kb / 1024 / 1024
    return f"{os.cpu_count()} CPUs ({model}), {ram:.1f} GB RAM, Python {platform.python_version()}"


def main() -> None:
    args = parse_args()
    started = time.monotonic()
    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        work = Path(tmp)
        with servers.tenant(args.latency, work / "tenant.log") as tenant:
            if args.redis:
                with servers.redis(work / "redis.log") as redis_url:
                    cached_phase(tenant, redis_url, args, work, out)
                    uncached_phase(tenant, redis_url, args, work, out)
            else:
                cached_phase(tenant, "", args, work, out)
                uncached_phase(tenant, "", args, work, out)
            floor_phase(tenant, args, work, out)
    report(args, out)
    print(f"\n(benchmark took {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
