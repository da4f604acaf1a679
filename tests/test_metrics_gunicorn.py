"""/metrics under gunicorn with two workers: whichever worker answers a scrape, it reports every
worker's figures (prometheus_client's multiprocess mode, set up by gunicorn.conf.py), and what a
previous run left in the directory is not counted."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

from scripts.bench_servers import gunicorn
from standalone import metrics_files
from tests.support import tenant as t
from tests.support.visitor import Visitor
from tests.test_metrics import AUTH, GET_USER, SECRETS, TOKEN, UNLINK, not_at_zero, samples

ROOT = Path(__file__).resolve().parent.parent


def total(figures: dict, name: str, **labels: str) -> float:
    return figures.get((name, tuple(sorted(labels.items()))), 0.0)


def leave_figures_of_a_previous_run(directory: Path) -> None:
    """Write a worker file as an earlier run would have left it: 1000 cached page views."""
    code = "from linked_accounts import metrics; metrics.PAGE_VIEWS.labels('cached').inc(1000)"
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=60)
    assert list(directory.glob("counter_*.db"))


def test_two_workers_report_the_same_figures_of_both(tenant, tmp_path, redis_url):
    directory = tmp_path / "metrics"
    directory.mkdir()
    leave_figures_of_a_previous_run(directory)
    env = {
        "DEV_AUTH0_DOMAIN": tenant,
        "DEV_TENANT": "1",
        "APP_SECRET_KEY": "s" * 40,
        "IDENTITIES_CACHE_SECONDS": "0",  # every view calls Auth0
        "WEB_CONCURRENCY": "2",
        "METRICS": "1",
        "METRICS_TOKEN": TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
        "REDIS_URL": redis_url,
    }
    with gunicorn("app:create_app()", env, tmp_path / "log") as (base, _):
        # Before anything was counted (the app loaded in the master, whose files gunicorn
        # emptied as it started), every series of a fixed label set is there, at 0.
        first = samples(requests.get(base + "/metrics", headers=AUTH, timeout=5).text)
        calls_before = t.stats(tenant)["management_calls_total"]
        ada, ben = Visitor(base), Visitor(base)
        ada.login("Ada Lovelace")
        ben.login("Ben Carter")
        # Two views held up at Auth0 at once: a sync worker serves one request at a time,
        # so each worker takes one.
        t.fault(tenant, "get_user", delay=1.0, times=2)
        with ThreadPoolExecutor(2) as pool:
            views = list(pool.map(lambda v: v.get("/account/"), (ada, ben)))
        assert [v.status_code for v in views] == [200, 200]
        assert "was unlinked" in ada.unlink(t.ADA_GITHUB).text
        t.fault(tenant, "get_user", status=429, headers={"x-ratelimit-remaining": "0"}, times=1)
        assert ada.get("/account/").status_code == 429
        calls_after = t.stats(tenant)["management_calls_total"]
        scrapes = [requests.get(base + "/metrics", headers=AUTH, timeout=5) for _ in range(6)]
        writers = {path.stem.rsplit("_", 1)[1] for path in directory.glob("counter_*.db")}

    assert len(writers) == 2, writers  # both workers counted (the old run's file is gone)
    assert {s.status_code for s in scrapes} == {200}
    # Whichever worker answered, the same figures; but for the scrapes, each counting itself.
    figures = [
        {k: v for k, v in samples(s.text).items() if ("route", "/metrics") not in k[1]}
        for s in scrapes
    ]
    assert all(f == figures[0] for f in figures)
    got = samples(scrapes[-1].text)
    scraped = {"route": "/metrics", "method": "GET", "status": "200"}
    assert total(got, "linked_accounts_http_requests_total", **scraped) == 6  # the first, 5 more
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
    # The app's own requests, by route, added up across both workers: six views of the page
    # (two landings, two at once, the landing after the unlink, the 429).
    page = {"route": "/account/", "method": "GET"}
    assert total(got, "linked_accounts_http_requests_total", **page, status="200") == 5
    assert total(got, "linked_accounts_http_requests_total", **page, status="429") == 1
    assert total(got, "linked_accounts_http_request_duration_seconds_count", **page) == 6
    assert not [name for name, _ in got if name.endswith("_created")]

    assert not_at_zero(first) == []
    assert first[("linked_accounts_single_flight_waits_total", ())] == 0
    assert first[("linked_accounts_refusals_total", (("code", "rate_limited"),))] == 0
    build = [value for (name, _), value in first.items() if name == "linked_accounts_build_info"]
    assert build == [1]  # one series, whichever worker answered, however many have files


# As gunicorn runs it with preload: the app loaded in the master, the master's files removed as
# gunicorn starts (on_starting), a worker forked, and a scrape the first thing it answers.
PRELOADED_THEN_FORKED = """
import glob, os, sys
import requests
from flask import Flask
from linked_accounts import metrics
app = Flask("master")
app.config[metrics.CONFIG_KEY] = True
metrics.init_app(app, requests.Session())
for path in glob.glob(os.path.join(os.environ["PROMETHEUS_MULTIPROC_DIR"], "*.db")):
    os.remove(path)
pid = os.fork()
if pid == 0:
    sys.stdout.write(metrics.scrape()[0].decode())
    sys.stdout.flush()
    os._exit(0)
os.waitpid(pid, 0)
"""


def test_a_workers_first_answer_being_a_scrape_still_serves_every_series_at_zero(tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", PRELOADED_THEN_FORKED],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    got = samples(done.stdout)
    assert not_at_zero(got) == []
    assert [v for (name, _), v in got.items() if name == "linked_accounts_build_info"] == [1]


def test_gunicorn_makes_its_own_metrics_directory_and_removes_it_on_exit(monkeypatch):
    # Set, then removed: so the variables the config file sets are removed again afterwards.
    for name in ("PROMETHEUS_MULTIPROC_DIR", "LINKED_ACCOUNTS_METRICS_DIR_MADE"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    monkeypatch.setenv("METRICS", "1")
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    assert directory.is_dir()
    (directory / "counter_1.db").write_bytes(b"")
    (directory / "gauge_livesum_2.db").write_bytes(b"")
    config["on_starting"](None)
    assert not list(directory.iterdir())  # emptied before the first fork
    (directory / "gauge_livesum_2.db").write_bytes(b"")
    config["child_exit"](None, SimpleNamespace(pid=2))
    assert not list(directory.glob("*.db"))  # a dead worker's live gauges are forgotten
    config["on_exit"](None)
    assert not directory.exists()
    monkeypatch.undo()
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ


def test_gunicorn_keeps_an_operators_metrics_directory(monkeypatch, tmp_path):
    monkeypatch.setenv("METRICS", "1")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    monkeypatch.setenv("LINKED_ACCOUNTS_METRICS_DIR_MADE", "")
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    config["on_exit"](None)
    assert tmp_path.is_dir()


def worker_pids(directory: Path) -> set[str]:
    """The pids named by the directory's files (not the `exited` ones, which no process has)."""
    return {p.stem.rsplit("_", 1)[1] for p in directory.glob("*.db")} - {"exited"}


def test_recycled_workers_leave_the_directory_bounded_and_keep_their_counts(
    tenant, tmp_path, redis_url
):
    directory = tmp_path / "metrics"
    directory.mkdir()
    env = {
        "DEV_AUTH0_DOMAIN": tenant,
        "DEV_TENANT": "1",
        "APP_SECRET_KEY": "s" * 40,
        "WEB_CONCURRENCY": "2",
        "GUNICORN_MAX_REQUESTS": "4",  # each worker is replaced after 4 requests (no jitter)
        "METRICS": "1",
        "METRICS_TOKEN": TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
        "REDIS_URL": redis_url,
    }
    log = tmp_path / "log"
    logins = 40
    with gunicorn("app:create_app()", env, log) as (base, master):
        for _ in range(logins):  # anonymous traffic: each starts a trip to Auth0, counted
            login = requests.get(base + "/account/login", allow_redirects=False, timeout=10)
            assert login.status_code == 302
        # Once the last replaced workers are reaped, the files name the live workers and the
        # master at most, however many workers have come and gone.
        deadline = time.monotonic() + 10
        while len(worker_pids(directory)) > 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(worker_pids(directory)) <= 3, sorted(directory.iterdir())
        # While the master folds files (the directory's exclusive lock), a scrape waits for it.
        with metrics_files._exclusive(directory) as locked:
            assert locked
            with pytest.raises(requests.exceptions.ReadTimeout):
                requests.get(base + "/metrics", headers=AUTH, timeout=(5, 0.5))
        scrape = requests.get(base + "/metrics", headers=AUTH, timeout=5)
    booted = log.read_text().count("Booting worker with pid")
    assert booted >= logins // 4  # the workers were recycled, again and again
    assert scrape.status_code == 200
    started = total(samples(scrape.text), "linked_accounts_trips_started_total", purpose="login")
    assert started == logins  # every exited worker's count kept, none counted twice
    # Stopped: every worker's files folded into one per kind (the master's, if any, remain).
    assert worker_pids(directory) <= {str(master)}
    assert {p.name for p in directory.glob("*_exited.db")} >= {"counter_exited.db"}
