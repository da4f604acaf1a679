"""`make bench`: the app under gunicorn on the dev tenant, and two floors measured in the same run.

Phases (each load phase bounded by --seconds; the whole run takes about two minutes):
  cached      settings page served from the user's cache (IDENTITIES_CACHE_SECONDS=--cache-seconds:
              each user's list expires, and is read from Auth0 again, during the phase)
  page floor  scripts/bench_floor_page.py: bare Flask loading the same session from the same store
              and rendering a page of the same size and forms, with no extension; loaded in turns
              with the cached view whose lists stay fresh for the whole load (the app's default
              cache period), then the server time of both, a view of each in turn
  uncached    settings page reading the user from Auth0 on every view (IDENTITIES_CACHE_SECONDS=0)
  floor       scripts/bench_floor.py: the same one pooled Management API GET, and nothing else
  unlink      a sequence of unlinks, each against a freshly reseeded tenant
  first view  scripts/bench_first_view.py: fresh sign-ins, each followed by one view and a cached
              one, with the post-login Action putting the identities in the ID token and without
All traffic goes to 127.0.0.1. Targets are printed as PASS/FAIL; the exit code is 0 unless the
benchmark itself broke. --json writes every figure, --chart draws them (needs the `bench` extra).
--smoke runs every phase briefly (what `make test` does, so the benchmark cannot rot).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import math
import os
import platform
import re
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urljoin

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from linked_accounts.settings import DEFAULTS  # noqa: E402
from scripts import bench_first_view as first_view  # noqa: E402
from scripts import bench_memory as memory  # noqa: E402
from scripts import bench_servers as servers  # noqa: E402
from tests.support.forms import forms  # noqa: E402
from tests.support.tenant_login import login as tenant_login  # noqa: E402
from tests.support.visitor import Visitor  # noqa: E402

USERS = ["Ada Lovelace", "Ben Carter", "Grace Hopper", "Linus Google"]
ADA_GITHUB = "github|1234567"

# The programs the benchmark runs besides Python, with their Debian/Ubuntu and Homebrew packages.
TOOLS = {"wrk": ("wrk", "wrk"), "redis-server": ("redis-server", "redis")}

# Auth0's published Management API limits for "all other endpoints combined" (the group the
# user-scoped calls fall in): (plan, burst, sustained requests a second). The free plan's page
# gives a rate only. Check your own tenant's `x-ratelimit-*` headers: plans and contracts differ.
PLANS = [
    ("Free", None, 2.0),
    ("Essentials/Professional", 10, 150 / 60),
    ("Enterprise", 50, 16.0),
]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--workers", type=int, default=4, help="gunicorn workers (app and floor)")
    p.add_argument("--threads", type=int, default=1, help="threads per worker (app and floor)")
    p.add_argument("--connections", type=int, help="wrk connections (default workers*threads)")
    p.add_argument("--seconds", type=int, default=10, help="length of each load phase")
    p.add_argument("--latency", type=float, default=0.05, help="simulated Auth0 latency, s")
    p.add_argument("--users", type=int, default=4, help=f"users signed in (at most {len(USERS)})")
    p.add_argument("--sessions-per-user", type=int, default=5, help="sessions of each user")
    p.add_argument(
        "--cache-seconds", type=int, default=5, help="cached phase's cache period (spans phases)"
    )
    p.add_argument("--unlinks", type=int, default=15, help="unlinks to time")
    p.add_argument("--samples", type=int, default=300, help="sequential views timed per page")
    p.add_argument("--rounds", type=int, default=5, help="turns of the page floor phase's load")
    p.add_argument(
        "--first-views", type=int, default=100, help="sign-ins, each with its first view, a side"
    )
    p.add_argument("--redis", action="store_true", help="sessions in Redis (REDIS_URL)")
    p.add_argument("--json", type=Path, help="write every figure to this JSON file")
    p.add_argument("--chart", type=Path, help="draw the figures to this PNG (matplotlib)")
    p.add_argument("--smoke", action="store_true", help="every phase for a moment, into a temp dir")
    args = p.parse_args()
    if args.smoke:  # seconds, not minutes: proves the benchmark runs, measures nothing
        args.seconds, args.users, args.sessions_per_user = 1, 2, 2
        args.unlinks, args.samples, args.workers, args.rounds = 2, 20, 2, 2
        args.first_views = 4
    args.users = min(args.users, len(USERS))
    return args


def require_tools(args: argparse.Namespace) -> None:
    """Stop before starting anything when a program the benchmark runs is missing: outside CI the
    smoke (part of `make test`) skips with a line saying what to install; `make bench`, and
    anything under CI=true, fails."""
    needed = ["wrk"] + (["redis-server"] if args.redis else [])
    missing = [tool for tool in needed if shutil.which(tool) is None]
    if not missing:
        return
    debian = " ".join(TOOLS[tool][0] for tool in missing)
    brew = " ".join(TOOLS[tool][1] for tool in missing)
    line = (f"{' and '.join(missing)} not installed: apt-get install {debian} "
            f"(macOS: brew install {brew})")  # fmt: skip
    if args.smoke and os.environ.get("CI") != "true":
        print(f"bench smoke SKIPPED (no benchmark run): {line}")
        sys.exit(0)
    sys.exit(f"bench: {line}")


def stats(tenant: str) -> dict:
    return requests.get(f"{tenant}/__dev/stats", timeout=5).json()


def reset(tenant: str) -> None:
    requests.post(f"{tenant}/__dev/reset", timeout=5).raise_for_status()


def log_in_sessions(base: str, args: argparse.Namespace) -> list[str]:
    """Log in each user's sessions through the real pages (like a phone, a laptop and tabs);
    return their cookies, the users interleaved."""
    cookies = []
    for _ in range(args.sessions_per_user):
        for name in USERS[: args.users]:
            visitor = Visitor(base)
            visitor.login(name)
            cookies.append(f"session={visitor.http.cookies.get('session', domain='127.0.0.1')}")
    return cookies


def server_time_ms(url: str, cookie: str, samples: int) -> list[float]:
    """Server-side time of `samples` sequential views, from the app's Server-Timing header."""
    return paired_server_time_ms([url], cookie, samples)[0]


def paired_server_time_ms(urls: list[str], cookie: str, samples: int) -> list[list[float]]:
    """Server-side time of `samples` views of each of `urls`, taken in turns (one view of each,
    then again), so that the machine's speed, which drifts over a run, is the same for all."""
    sessions = [requests.Session() for _ in urls]
    times: list[list[float]] = [[] for _ in urls]
    for _ in range(samples):
        for url, http, taken in zip(urls, sessions, times, strict=True):
            response = http.get(url, headers={"Cookie": cookie}, timeout=10)
            assert response.status_code == 200, response.status_code
            taken.append(float(response.headers["Server-Timing"].split("dur=")[1]))
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


def load(url: str, cookies: list[str], args: argparse.Namespace, work: Path, pin=False) -> dict:
    """One measured wrk phase."""
    return servers.wrk(url, cookies, seconds=args.seconds, connections=connections(args),
                       work=work, pin=pin)  # fmt: skip


def connections(args: argparse.Namespace) -> int:
    # As many as the workers can serve at once: more would measure gunicorn's queue, not the app.
    return args.connections or args.workers * args.threads


def app_env(tenant: str, args: argparse.Namespace, redis_url: str, cache: int) -> dict[str, str]:
    return {
        "DEV_AUTH0_DOMAIN": tenant,
        "DEV_TENANT": "1",
        "APP_SECRET_KEY": args.secret,
        "REDIS_URL": redis_url,
        "IDENTITIES_CACHE_SECONDS": str(cache),
        "WEB_CONCURRENCY": str(args.workers),
        "GUNICORN_THREADS": str(args.threads),
        "LOG_LEVEL": "info",  # the JSON access line is part of a real request's cost
    }


def per_user_calls(before: dict, after: dict, periods: int) -> float:
    """Most Management API calls per user per cache period, over the users (whatever the
    number of sessions each has)."""
    calls = [
        n - before["management_calls"].get(uid, 0) for uid, n in after["management_calls"].items()
    ]
    return max(calls, default=0) / periods


def cached_phase(tenant: str, redis_url: str, args, work: Path, out: dict) -> None:
    env = app_env(tenant, args, redis_url, args.cache_seconds)
    with servers.gunicorn("app:create_app()", env, work / "app-cached.log") as (base, pid):
        url = base + "/account/"
        reset(tenant)
        cookies = log_in_sessions(base, args)
        warm_up(url, cookies, args, work)
        before, counted = stats(tenant), servers.redis_calls(redis_url)
        out["cached"] = load(url, cookies, args, work)
        after = stats(tenant)
        commands = servers.reads_and_writes(counted, servers.redis_calls(redis_url))
        views = out["cached"]["requests"]
        out["cached_calls_per_view"] = (
            after["management_calls_total"] - before["management_calls_total"]
        ) / views
        out["redis_per_view"] = {kind: n / views for kind, n in commands.items()}
        # The phase spans this many cache periods, counting the partial ones at both ends.
        periods = math.floor(args.seconds / args.cache_seconds) + 1
        out["calls_per_user_period"] = per_user_calls(before, after, periods)
        out["memory_cached"] = memory.workers(pid)  # after its load phase
        page = requests.get(url, headers={"Cookie": cookies[0]}, timeout=10).text
        out["forms"] = len(forms(page))
        out["weight"] = page_weight(url, cookies[0])
        page_floor_phase(tenant, redis_url, args, work, out, cookies)
        out["unlink_ms"] = time_unlinks(base, tenant, args.unlinks)


def page_floor_phase(
    tenant: str, redis_url: str, args, work: Path, out: dict, cookies: list[str]
) -> None:
    """The cached view's floor, on the sessions the cached phase signed in, and the cached view
    on a second app whose cache period is the app's default, so that no list expires during the
    load (every view is served from the cache; a list read from Auth0 again is an uncached view,
    measured in its own phase). Each is loaded in turns with the other, then their server time is
    taken a view of each in turn: a drift of the machine's speed reaches both alike."""
    env = {
        "APP_SECRET_KEY": args.secret,  # the app's: its CSRF tokens, on its sessions
        "REDIS_URL": redis_url,
        "FLOOR_PAGE_BYTES": str(out["weight"]["html"]),
        "FLOOR_FORMS": str(out["forms"]),
        "WEB_CONCURRENCY": str(args.workers),
        "GUNICORN_THREADS": str(args.threads),
        "LOG_LEVEL": "info",
    }
    fresh = app_env(tenant, args, redis_url, DEFAULTS["LINKED_ACCOUNTS_CACHE_SECONDS"])
    with (
        servers.gunicorn("scripts.bench_floor_page:app", env, work / "floor-page.log") as (
            floor_base,
            _,
        ),
        servers.gunicorn("app:create_app()", fresh, work / "app-fresh.log") as (app_base, _),
    ):
        floor_url, app_url = floor_base + "/", app_base + "/account/"
        warm_up(floor_url, cookies, args, work)
        warm_up(app_url, cookies, args, work)
        (out["cached_fresh"], out["page_floor"]), out["p99_rounds"] = in_turns(
            [app_url, floor_url], cookies, args, work
        )
        out["server_ms"], out["page_floor_server_ms"] = paired_server_time_ms(
            [app_url, floor_url], cookies[0], args.samples
        )
        page = requests.get(floor_url, headers={"Cookie": cookies[0]}, timeout=10).text
        out["page_floor_html"] = len(page.encode())
        out["page_floor_forms"] = len(forms(page))


def in_turns(
    urls: list[str], cookies: list[str], args, work: Path
) -> tuple[list[dict], list[float]]:
    """Load each of `urls` for a slice of --seconds in turn, --rounds times; return each one's
    figures over its slices (requests added up, percentiles the median of the slices') and, for
    each round, the first one's p99 over the second one's."""
    seconds = max(1, round(args.seconds / args.rounds))
    slices: list[list[dict]] = [[] for _ in urls]
    for _ in range(args.rounds):
        for url, taken in zip(urls, slices, strict=True):
            taken.append(servers.wrk(url, cookies, seconds=seconds, connections=connections(args),
                                     work=work))  # fmt: skip
    ratios = [a["p99_us"] / b["p99_us"] for a, b in zip(slices[0], slices[1], strict=True)]
    return [combined(taken) for taken in slices], ratios


def combined(slices: list[dict]) -> dict:
    """wrk's figures of several runs as one: counts added up, each percentile the median."""
    figures = {key: sum(s[key] for s in slices) for key in ("requests", "duration_us", "errors")}
    for key in ("p50_us", "p90_us", "p99_us"):
        figures[key] = statistics.median(s[key] for s in slices)
    figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
    return figures


def uncached_phase(tenant: str, redis_url: str, args, work: Path, out: dict) -> None:
    """Every view reads Auth0: one session per user, each wrk connection pinned to one of them.

    With several sessions of a user at once, the single flight would serve the others the list
    being re-read (see the cached phase), and this phase would no longer measure a read.
    """
    env = app_env(tenant, args, redis_url, 0)
    with servers.gunicorn("app:create_app()", env, work / "app-uncached.log") as (base, pid):
        reset(tenant)
        cookies = log_in_sessions(base, args)[: args.users]  # the first session of each user
        warm_up(base + "/account/", cookies, args, work)
        before = stats(tenant)
        out["uncached"] = load(base + "/account/", cookies, args, work, pin=True)
        after = stats(tenant)
        samples = max(10, args.samples // 3)
        out["uncached_server_ms"] = server_time_ms(base + "/account/", cookies[0], samples)
        out["uncached_calls_per_view"] = (
            after["management_calls_total"] - before["management_calls_total"]
        ) / out["uncached"]["requests"]
        out["connections"] = after["management_connections"]
        out["memory_uncached"] = memory.workers(pid)


def first_view_phase(tenant: str, redis_url: str, args, work: Path, out: dict) -> None:
    """Fresh sign-ins, each followed by its first view and a cached view, with the identities
    claim and without (scripts/bench_first_view.py), at the app's default cache period."""
    env = app_env(tenant, args, redis_url, DEFAULTS["LINKED_ACCOUNTS_CACHE_SECONDS"])
    users = USERS[: args.users]
    out["first_view"] = first_view.phase(tenant, env, users, args.first_views, work, reset)


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
        # wrk set up as for the uncached phase (a thread per connection), so only the app differs.
        out["floor"] = load(base + "/", [], args, work, pin=True)


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def percentiles(values: list[float]) -> dict[str, float]:
    return {"p50": statistics.median(values), "p90": pct(values, 90), "p99": pct(values, 99)}


def wrk_ms(figures: dict) -> dict[str, float]:
    """wrk's client-side figures, in ms and requests a second."""
    ms = {f"p{q}": figures[f"p{q}_us"] / 1000 for q in (50, 90, 99)}
    return {**ms, "rps": figures["rps"], "errors": figures["errors"]}


def auth0_budget(first_view_calls: float, calls_per_period: float) -> dict:
    """What the measured calls mean against the plans' limits.

    A user's first view (nothing cached) costs `first_view_calls`, measured in the uncached phase;
    a user who keeps viewing costs `calls_per_period` per cache period, measured in the cached
    phase (worst user, several sessions each), i.e. per hour at the app's default period.
    """
    period = DEFAULTS["LINKED_ACCOUNTS_CACHE_SECONDS"]
    per_hour = calls_per_period * 3600 / period
    plans = []
    for name, burst, rate in PLANS:
        first = first_view_calls or math.nan  # nan: nothing measured (a broken phase)
        plans.append({
            "plan": name,
            "burst": burst,
            "per_second": rate,
            # distinct users whose first view is served at once, then each second
            "users_at_once": burst / first if burst else None,
            "users_per_second": rate / first,
            # users viewing all the time (refreshing the page) that the sustained rate carries
            "users_viewing": rate * 3600 / per_hour if per_hour else None,
        })  # fmt: skip
    return {
        "first_view_calls": first_view_calls,
        "calls_per_user_period": calls_per_period,
        "default_cache_seconds": period,
        "calls_per_user_hour": per_hour,
        "plans": plans,
    }


def summarize(args, out: dict) -> dict:
    """Every figure of the run, and each target with its verdict: what --json writes."""
    memory_mb = out["memory_cached"] + out["memory_uncached"]
    uss, pss = max(w["uss"] for w in memory_mb), max(w["pss"] for w in memory_mb)
    weight = sum(out["weight"].values())
    server = percentiles(out["server_ms"])
    floor_server = percentiles(out["page_floor_server_ms"])
    uncached, floor = out["uncached"], out["floor"]
    p50_ratio = uncached["p50_us"] / floor["p50_us"]
    page_ratio = server["p50"] / floor_server["p50"]
    tail_ratio = statistics.median(out["p99_rounds"])
    conns = out["connections"] / args.workers
    calls = out["calls_per_user_period"]
    writes = out["redis_per_view"].get("writes")
    first = first_view.summarize(out["first_view"]) if out.get("first_view") else None
    targets = [
        ("cached settings view p50 < 5 ms server time", server["p50"] < 5,
         f"{server['p50']:.2f} ms"),
        ("uncached view p50 within 10% of the floor", p50_ratio <= 1.10, f"x{p50_ratio:.3f}"),
        ("<= 1 connection to Auth0 per worker", conns <= 1, f"{conns:.2f}"),
        (f"<= 1 Management API call per user per cache period ({args.sessions_per_user} "
         "sessions each)", calls <= 1, f"{calls:.2f}"),
        ("< 60 MB per worker (PSS)", pss < 60, f"max {pss:.1f} MB"),
        ("< 30 KB per page before images", weight < 30 * 1024, f"{weight / 1024:.1f} KB"),
        ("<= 18 MB USS per worker", uss <= 18, f"max {uss:.1f} MB"),
        ("cached view server time p50 <= 1.5x the page floor's", page_ratio <= 1.5,
         f"x{page_ratio:.2f}"),
        ("cached view p99 (client side, in turns) <= 2x the page floor's", tail_ratio <= 2,
         f"x{tail_ratio:.2f}"),
        ("<= 0.05 Redis writes per cached view", writes is not None and writes <= 0.05,
         "n/a (file store)" if writes is None else f"{writes:.4f}"),
        *(first_view.targets(first) if first else []),
    ]  # fmt: skip
    return {
        "machine": machine(),
        "settings": {
            "workers": args.workers,
            "threads": args.threads,
            "connections": connections(args),
            "seconds": args.seconds,
            "auth0_latency_ms": args.latency * 1000,
            "store": "redis" if args.redis else "files",
            "users": args.users,
            "sessions_per_user": args.sessions_per_user,
            "cache_seconds": args.cache_seconds,
        },
        "client_ms": {
            "cached": wrk_ms(out["cached"]),
            "cached_fresh": wrk_ms(out["cached_fresh"]),
            "page_floor": wrk_ms(out["page_floor"]),
            "uncached": wrk_ms(uncached),
            "floor": wrk_ms(floor),
        },
        "server_ms": {
            "cached": server,
            "page_floor": floor_server,
            "uncached": percentiles(out["uncached_server_ms"]),
        },
        "samples": len(out["server_ms"]),
        "unlink_ms": {"p50": statistics.median(out["unlink_ms"]), "max": max(out["unlink_ms"])},
        "uncached_over_floor": {"p50": p50_ratio, "rps": uncached["rps"] / floor["rps"]},
        "cached_over_page_floor_p50": page_ratio,
        "cached_over_page_floor_p99_client": {"median": tail_ratio, "rounds": out["p99_rounds"]},
        "management_calls_per_view": {
            "cached": out["cached_calls_per_view"],
            "uncached": out["uncached_calls_per_view"],
        },
        "management_calls_per_user_period": calls,
        "auth0_budget": auth0_budget(out["uncached_calls_per_view"], calls),
        "redis_per_cached_view": out["redis_per_view"],
        "auth0_connections": out["connections"],
        "memory_mb": {"cached": out["memory_cached"], "uncached": out["memory_uncached"]},
        "page": {"bytes": out["weight"], "forms": out["forms"],
                 "floor_html": out["page_floor_html"], "floor_forms": out["page_floor_forms"]},
        "first_view": first,
        "targets": [{"name": n, "pass": ok, "figure": f} for n, ok, f in targets],
    }  # fmt: skip


def report(summary: dict) -> None:
    s, client, server = summary["settings"], summary["client_ms"], summary["server_ms"]
    print(f"\nMachine: {summary['machine']}")
    print(
        f"Settings: {s['workers']} sync workers x {s['threads']} thread(s), "
        f"{s['connections']} wrk connections, {s['seconds']:g} s per phase, "
        f"Auth0 latency {s['auth0_latency_ms']:g} ms, sessions in {s['store']}, "
        f"{s['users']} users x {s['sessions_per_user']} sessions"
    )
    row = "{:<38} {:>9} {:>9} {:>10} {:>7}"
    print("\n" + row.format("page (client side, wrk)", "p50 ms", "p99 ms", "req/s", "errors"))
    for name, key in (("cached settings view (lists expire)", "cached"),
                      ("cached view, lists fresh (in turns)", "cached_fresh"),
                      ("page floor (in turns, same sessions)", "page_floor"),
                      ("uncached view (calls Auth0)", "uncached"),
                      ("floor (one pooled GET)", "floor")):  # fmt: skip
        f = client[key]
        print(row.format(name, f"{f['p50']:.2f}", f"{f['p99']:.2f}", f"{f['rps']:.0f}",
                         f["errors"]))  # fmt: skip
    ratio = summary["uncached_over_floor"]
    print(f"\nuncached / floor: p50 x{ratio['p50']:.3f}, throughput x{ratio['rps']:.3f}")
    print(
        f"server time (Server-Timing from the same WSGI middleware, incl. session load and save; "
        f"{summary['samples']} views, the cached view (lists fresh) and the page floor in turns): "
        + "; ".join(
            f"{name} p50 {server[key]['p50']:.2f} ms, p99 {server[key]['p99']:.2f} ms"
            for name, key in (
                ("cached", "cached"),
                ("page floor", "page_floor"),
                ("uncached", "uncached"),
            )
        )  # fmt: skip
    )
    print(f"cached / page floor, server time p50: x{summary['cached_over_page_floor_p50']:.2f}")
    tail = summary["cached_over_page_floor_p99_client"]
    print(
        f"cached (lists fresh) / page floor, client p99: x{tail['median']:.2f} (median of "
        + ", ".join(f"x{r:.2f}" for r in tail["rounds"])
        + ", one per round)"
    )
    print(
        f"unlink (POST to redirect): p50 {summary['unlink_ms']['p50']:.1f} ms, "
        f"max {summary['unlink_ms']['max']:.1f} ms"
    )
    calls = summary["management_calls_per_view"]
    print(
        f"Management API calls per page view: cached {calls['cached']:.4f}, "
        f"uncached {calls['uncached']:.3f}; per user per {s['cache_seconds']} s cache period "
        f"(worst user, {s['sessions_per_user']} sessions each): "
        f"{summary['management_calls_per_user_period']:.2f}"
    )
    report_budget(summary["auth0_budget"])
    if summary["first_view"]:
        first_view.report(summary["first_view"])
    redis_calls = summary["redis_per_cached_view"]
    if redis_calls:
        print(
            f"Redis commands per cached view: {redis_calls['reads']:.3f} reads, "
            f"{redis_calls['writes']:.4f} writes"
        )
    print(f"TCP connections to Auth0: {summary['auth0_connections']} for {s['workers']} workers")
    for phase, workers in summary["memory_mb"].items():
        print(
            f"worker memory after the {phase} phase, MB (USS / PSS / RSS): "
            + ", ".join(f"{w['uss']:.1f} / {w['pss']:.1f} / {w['rss']:.1f}" for w in workers)
        )
    page = summary["page"]
    print(
        "page weight before images: "
        + ", ".join(f"{k} {v / 1024:.1f} KB" for k, v in page["bytes"].items())
        + f" = {sum(page['bytes'].values()) / 1024:.1f} KB; {page['forms']} forms "
        f"(page floor: {page['floor_html'] / 1024:.1f} KB HTML, {page['floor_forms']} forms)"
    )
    print("\nTargets:")
    for target in summary["targets"]:
        print(f"  {'PASS' if target['pass'] else 'FAIL'}  {target['name']}: {target['figure']}")


def report_budget(budget: dict) -> None:
    print(
        "Auth0 budget per distinct user, measured: the first view "
        f"{budget['first_view_calls']:.2f} Management API calls; viewing all the time "
        f"{budget['calls_per_user_period']:.2f} per cache period, so "
        f"{budget['calls_per_user_hour']:.0f} calls an hour at the default "
        f"{budget['default_cache_seconds']} s period (one who views once: "
        f"{budget['first_view_calls']:.2f} that hour)"
    )
    for plan in budget["plans"]:
        limit = (f"burst {plan['burst']}, " if plan["burst"] else "") + f"{plan['per_second']:g}/s"
        at_once = (f"{plan['users_at_once']:.0f} at once, then "
                   if plan["users_at_once"] is not None else "")  # fmt: skip
        viewing = (f"; ~{plan['users_viewing']:,.0f} users viewing all the time"
                   if plan["users_viewing"] is not None else "")  # fmt: skip
        print(
            f"  {plan['plan']} ({limit}): {at_once}{plan['users_per_second']:.1f} new users a "
            f"second before a first view waits for the limit{viewing}"
        )


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
    require_tools(args)
    with_node = first_view.require_node(args.smoke)
    args.secret = secrets.token_hex(32)
    started = time.monotonic()
    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        work = Path(tmp)
        with servers.tenant(args.latency, work / "tenant.log") as tenant:
            with servers.redis(work / "redis.log") if args.redis else _no_redis() as redis_url:
                cached_phase(tenant, redis_url, args, work, out)  # and the page floor
                uncached_phase(tenant, redis_url, args, work, out)
                if with_node:
                    first_view_phase(tenant, redis_url, args, work, out)
            floor_phase(tenant, args, work, out)
        summary = summarize(args, out)
        report(summary)
        if args.smoke:  # write and draw into the temp dir: the code runs, nothing is kept
            args.json, args.chart = work / "bench.json", work / "bench.png"
        if args.json:
            args.json.write_text(json.dumps(summary, indent=2) + "\n")
            print(f"\nfigures written to {args.json}")
        if args.chart:
            from scripts import bench_chart

            bench_chart.draw(
                json.loads(args.json.read_text()) if args.json else summary, args.chart
            )
            print(f"chart drawn to {args.chart}")
    print(f"\n(benchmark took {time.monotonic() - started:.0f} s)")


@contextlib.contextmanager
def _no_redis():
    yield ""  # sessions in the file store


if __name__ == "__main__":
    main()
