"""Draw the README's metrics panel (docs/metrics.png) from a short, bench-like run's scrapes.

    python scripts/metrics_panel.py [--seconds 45] [--out docs/metrics.png]

Starts the development tenant (its per-user limit: Auth0's 10 calls a minute), Redis and the app
under gunicorn with two workers and METRICS=1, signs in the seeded users, and has each of them
view the settings page a few times a second for --seconds, scraping /metrics once a second.
The cache is deliberately short (2 s), so the run reaches the per-user limit and the panel shows
what the alerts in the README watch for: 429s and x-ratelimit-remaining at 0. Everything listens
on 127.0.0.1; needs matplotlib (the `bench` extra).
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from scripts import bench_servers as servers  # noqa: E402
from tests.support.visitor import Visitor  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
USERS = ["Ada Lovelace", "Ben Carter", "Grace Hopper", "Linus Google"]
CACHE_SECONDS = 2
VIEW_INTERVAL = 0.25  # seconds between one user's views
WINDOW = 5  # seconds over which rates and quantiles are taken, like rate(...[5s])

Scrape = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=45)
    parser.add_argument("--latency", type=float, default=0.08, help="Auth0 latency, seconds")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "metrics.png")
    return parser.parse_args()


def scrape(base: str, token: str) -> Scrape:
    text = requests.get(
        base + "/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=5
    ).text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def view_loop(visitor: Visitor, stop: threading.Event, statuses: list[int]) -> None:
    while not stop.is_set():
        statuses.append(visitor.get("/account/").status_code)
        stop.wait(VIEW_INTERVAL)


def run(args: argparse.Namespace, work: Path) -> list[tuple[float, Scrape]]:
    """Serve, sign in, load and scrape; return (seconds since start, figures) per scrape."""
    token = secrets.token_hex(32)
    log = work / "servers.log"
    with (
        servers.tenant(args.latency, log) as tenant,
        servers.redis(log) as redis_url,
    ):
        # servers.tenant lifts the per-user limit for load; put Auth0's back.
        requests.post(f"{tenant}/__dev/config", json={"rate_limit": 10}, timeout=5)
        env = {
            "DEV_AUTH0_DOMAIN": tenant,
            "DEV_TENANT": "1",
            "APP_SECRET_KEY": secrets.token_hex(32),
            "REDIS_URL": redis_url,
            "IDENTITIES_CACHE_SECONDS": str(CACHE_SECONDS),
            "WEB_CONCURRENCY": "2",
            "METRICS": "1",
            "METRICS_TOKEN": token,
            "LOG_LEVEL": "warning",
        }
        with servers.gunicorn("app:create_app()", env, log) as (base, _):
            visitors = [Visitor(base) for _ in USERS]
            series = [(0.0, scrape(base, token))]
            started = time.monotonic()
            for visitor, name in zip(visitors, USERS, strict=True):
                visitor.login(name)
            stop, statuses = threading.Event(), []
            threads = [
                threading.Thread(target=view_loop, args=(v, stop, statuses)) for v in visitors
            ]
            for thread in threads:
                thread.start()
            try:
                while time.monotonic() - started < args.seconds:
                    time.sleep(1)
                    series.append((time.monotonic() - started, scrape(base, token)))
            finally:
                stop.set()
                for thread in threads:
                    thread.join()
    print(f"{len(statuses)} views: " + ", ".join(f"{s}: {statuses.count(s)}" for s in {*statuses}))
    return series


def total(figures: Scrape, name: str, **labels: str) -> float:
    """Sum of the samples named `name` whose labels include `labels`."""
    return sum(
        value
        for (sample, pairs), value in figures.items()
        if sample == name and labels.items() <= dict(pairs).items()
    )


def rate(series, name: str, **labels: str) -> tuple[list[float], list[float]]:
    """Per-second increase over the last WINDOW seconds, at each scrape."""
    xs, ys = [], []
    for i, (t, figures) in enumerate(series):
        j = max(0, i - WINDOW)
        if i == j:
            continue
        t0, before = series[j]
        xs.append(t)
        ys.append((total(figures, name, **labels) - total(before, name, **labels)) / (t - t0))
    return xs, ys


def quantile(series, q: float, name: str) -> tuple[list[float], list[float]]:
    """histogram_quantile(q, rate(name_bucket[WINDOW])) over every endpoint, in ms."""
    xs, ys = [], []
    for i, (t, figures) in enumerate(series):
        before = series[max(0, i - WINDOW)][1]
        buckets: dict[float, float] = {}
        for (sample, pairs), value in figures.items():
            if sample == f"{name}_bucket":
                bound = float(dict(pairs)["le"])
                old = before.get((sample, pairs), 0.0)
                buckets[bound] = buckets.get(bound, 0.0) + value - old
        bounds = sorted(buckets)
        count = buckets.get(float("inf"), 0.0)
        if not count:
            continue
        rank, lower, below = q * count, 0.0, 0.0
        for bound in bounds:
            if buckets[bound] >= rank:
                if bound == float("inf"):
                    value = lower
                else:
                    share = (rank - below) / (buckets[bound] - below or 1)
                    value = lower + (bound - lower) * share
                break
            lower, below = bound, buckets[bound]
        xs.append(t)
        ys.append(value * 1000)
    return xs, ys


def draw(series, path: Path) -> None:
    """Four panels, one per question an operator asks: how many views cost a call to Auth0, how
    fast Auth0 answers, how often it refuses, and how much of its budget is left."""
    import matplotlib

    matplotlib.use("Agg")  # no display: write the file only
    from matplotlib import pyplot as plt

    fig, ((views, latency), (calls, remaining)) = plt.subplots(2, 2, figsize=(11, 6.4))
    for kind, colour in (("cached", "tab:green"), ("auth0", "tab:blue")):
        views.plot(*rate(series, "linked_accounts_page_views_total", kind=kind), colour, label=kind)
    views.set_title("Page views / s by kind")
    views.legend()

    for q, style in ((0.5, "-"), (0.95, "--")):
        xs, ys = quantile(series, q, "linked_accounts_auth0_request_duration_seconds")
        latency.plot(xs, ys, "tab:purple", linestyle=style, label=f"p{round(q * 100)}")
    latency.set_title("Auth0 latency (ms)")
    latency.set_ylim(bottom=0)
    latency.legend()

    for status, colour in (("200", "tab:blue"), ("429", "tab:red")):
        xs, ys = rate(series, "linked_accounts_auth0_requests_total", status=status)
        calls.plot(xs, ys, colour, label=status)
    calls.set_title("Management API calls / s by status")
    calls.legend()

    name = "linked_accounts_auth0_ratelimit_remaining"
    readings = [[v for k, v in f.items() if k[0] == name] for _, f in series]
    xs = [t for (t, _), r in zip(series, readings, strict=True) if r]
    ys = [min(r) for r in readings if r]
    remaining.step(xs, ys, "tab:orange", where="post", label="min over endpoints")
    remaining.axhline(2, color="tab:red", linestyle=":", label="alert: < 2")
    remaining.set_title("x-ratelimit-remaining (latest answer)")
    remaining.set_ylim(bottom=-0.5)
    remaining.legend()

    for ax in (views, latency, calls, remaining):
        ax.set_xlabel("seconds")
        ax.grid(alpha=0.3)
    fig.suptitle(
        f"Two gunicorn workers, {len(USERS)} users viewing every {VIEW_INTERVAL} s, "
        f"identities cached {CACHE_SECONDS} s, Auth0's 10 calls/min per user",
        fontsize=10,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    print(f"wrote {path}")


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory() as work:
        series = run(args, Path(work))
    draw(series, args.out)


if __name__ == "__main__":
    main()
