"""/metrics under gunicorn with two workers: whichever worker answers a scrape, it reports every
worker's figures (prometheus_client's multiprocess mode, set up by gunicorn.conf.py), and what a
previous run left in the directory is not counted."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from tests.support import tenant as t
from tests.support.redis_server import running_redis
from tests.support.servers import free_port, wait_for
from tests.support.visitor import Visitor
from tests.test_metrics import AUTH, GET_USER, SECRETS, TOKEN, UNLINK, samples

ROOT = Path(__file__).resolve().parent.parent


def total(figures: dict, name: str, **labels: str) -> float:
    return figures.get((name, tuple(sorted(labels.items()))), 0.0)


def leave_figures_of_a_previous_run(directory: Path) -> None:
    """Write a worker file as an earlier run would have left it: 1000 cached page views."""
    code = "from linked_accounts import metrics; metrics.PAGE_VIEWS.labels('cached').inc(1000)"
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=60)
    assert list(directory.glob("counter_*.db"))


def test_two_workers_report_the_same_figures_of_both(tenant, tmp_path):
    directory = tmp_path / "metrics"
    directory.mkdir()
    leave_figures_of_a_previous_run(directory)
    with running_redis() as redis_url:
        port = free_port()
        env = {
            **os.environ,
            "DEV_AUTH0_DOMAIN": tenant,
            "APP_SECRET_KEY": "s" * 40,
            "REDIS_URL": redis_url,
            "IDENTITIES_CACHE_SECONDS": "0",  # every view calls Auth0
            "PORT": str(port),
            "WEB_CONCURRENCY": "2",
            "METRICS": "1",
            "METRICS_TOKEN": TOKEN,
            "PROMETHEUS_MULTIPROC_DIR": str(directory),
        }
        env.pop("AUTH0_DOMAIN", None)
        with (tmp_path / "gunicorn.log").open("w") as log:
            master = subprocess.Popen([sys.executable, "-m", "gunicorn"], cwd=ROOT, env=env,
                                      stderr=log)  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for(base + "/healthz", master)
            calls_before = t.stats(tenant)["management_calls_total"]
            ada, ben = Visitor(base), Visitor(base)
            ada.login("Ada Lovelace")
            ben.login("Ben Carter")
            requests.post(f"{tenant}/__dev/config", json={"latency": 1.0}, timeout=5)
            calls = t.stats(tenant)["management_calls_total"]
            with ThreadPoolExecutor(2) as pool:
                # Two slow views at once: each sync worker holds one, so both workers count.
                views = [pool.submit(v.get, "/account/") for v in (ada, ben)]
                while t.stats(tenant)["management_calls_total"] < calls + 2:
                    time.sleep(0.02)
                assert [v.result().status_code for v in views] == [200, 200]
            requests.post(f"{tenant}/__dev/config", json={"latency": 0}, timeout=5)
            assert "was unlinked" in ada.unlink(t.ADA_GITHUB).text
            t.fault(tenant, "get_user", status=429, headers={"x-ratelimit-remaining": "0"}, times=1)
            assert ada.get("/account/").status_code == 429
            calls_after = t.stats(tenant)["management_calls_total"]
            scrapes = [requests.get(base + "/metrics", headers=AUTH, timeout=5) for _ in range(6)]
        finally:
            requests.post(f"{tenant}/__dev/config", json={"latency": 0}, timeout=5)
            master.terminate()
            master.wait(timeout=30)

    assert {s.status_code for s in scrapes} == {200}
    figures = [samples(s.text) for s in scrapes]
    assert all(f == figures[0] for f in figures)  # whichever worker answered
    got = figures[0]
    assert total(got, "linked_accounts_trips_started_total", purpose="login") == 2
    assert total(got, "linked_accounts_trips_finished_total", purpose="login") == 2
    # Two landings, two concurrent views, the landing after the unlink; not the 429.
    assert total(got, "linked_accounts_page_views_total", kind="auth0") == 5
    assert total(got, "linked_accounts_page_views_total", kind="cached") == 0  # not the 1000
    assert total(got, "linked_accounts_changes_total", action="unlink", result="done") == 1
    assert total(got, "linked_accounts_auth0_requests_total", endpoint=UNLINK, status="200") == 1
    assert total(got, "linked_accounts_auth0_rate_limited_total", endpoint=GET_USER) == 1
    assert total(got, "linked_accounts_refusals_total", code="rate_limited") == 1
    # Every Management API call the tenant saw, counted once, by one worker or the other.
    answered = sum(
        value
        for (name, labels), value in got.items()
        if name == "linked_accounts_auth0_requests_total" and "/api/v2/" in dict(labels)["endpoint"]
    )
    assert answered == calls_after - calls_before
    latency = total(got, "linked_accounts_auth0_request_duration_seconds_count", endpoint=GET_USER)
    assert latency == answered - 1  # all but the DELETE
    # The 429's header was the latest reading of any worker.
    assert total(got, "linked_accounts_auth0_ratelimit_remaining", endpoint=GET_USER) == 0
    assert not [s for s in SECRETS if s in scrapes[0].text]
