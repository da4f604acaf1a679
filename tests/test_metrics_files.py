"""The metrics directory stays bounded as workers come and go (standalone/metrics_files.py): an
exited worker's files are folded into one file per kind, and a scrape reads the same figures
before and after."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from standalone import metrics_files
from tests.test_metrics import GET_USER, samples

ROOT = Path(__file__).resolve().parent.parent

# A worker's figures: a counter, a histogram and the most-recent gauge, as the extension has them.
WORK = """
import sys
from linked_accounts import metrics
n = int(sys.argv[1])
metrics.PAGE_VIEWS.labels("cached").inc(n)
metrics.AUTH0_LATENCY.labels(sys.argv[2]).observe(0.01 * n)
metrics.RATELIMIT_REMAINING.labels(sys.argv[2]).set(100 - n)
print(__import__("os").getpid())
"""


def worker(directory: Path, n: int) -> int:
    """Run a process that counts like a worker with `n`, then exits; return its pid."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    done = subprocess.run(
        [sys.executable, "-c", WORK, str(n), GET_USER],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return int(done.stdout)


def figures(directory: Path) -> dict:
    """What a scrape of `directory` shows, as a worker's MultiProcessCollector adds it up."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(directory))
    return samples(generate_latest(registry).decode())


def db_files(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.glob("*.db"))


EXITED = ["counter_exited.db", "gauge_mostrecent_exited.db", "histogram_exited.db"]


def test_an_exited_workers_figures_stay_when_its_files_are_folded(tmp_path):
    pids = [worker(tmp_path, n) for n in (1, 2, 3)]
    assert len(db_files(tmp_path)) == 9  # three files per worker
    before = figures(tmp_path)
    assert before[("linked_accounts_page_views_total", (("kind", "cached"),))] == 6
    latest = (("endpoint", GET_USER),)
    assert before[("linked_accounts_auth0_ratelimit_remaining", latest)] == 97  # the last one

    assert metrics_files.retire(pids, tmp_path) == []
    assert db_files(tmp_path) == EXITED
    # Counts, every bucket, sums, the latest reading (sums of floats added in another order may
    # differ in their last bit).
    assert figures(tmp_path) == pytest.approx(before)


def test_workers_recycled_one_by_one_leave_one_file_per_kind(tmp_path):
    for n in range(1, 7):
        pid = worker(tmp_path, n)
        assert metrics_files.retire([pid], tmp_path) == []
        assert db_files(tmp_path) == EXITED  # never more, however many came and went
    got = figures(tmp_path)
    assert got[("linked_accounts_page_views_total", (("kind", "cached"),))] == 21
    count = "linked_accounts_auth0_request_duration_seconds_count"
    assert got[(count, (("endpoint", GET_USER),))] == 6
    assert got[("linked_accounts_auth0_ratelimit_remaining", (("endpoint", GET_USER),))] == 94


def test_a_live_workers_files_are_left_alone(tmp_path):
    exited, live = worker(tmp_path, 1), worker(tmp_path, 2)
    metrics_files.retire([exited], tmp_path)
    assert db_files(tmp_path) == sorted(
        [*EXITED, f"counter_{live}.db", f"gauge_mostrecent_{live}.db", f"histogram_{live}.db"]
    )


def test_a_merge_waits_for_a_scrape_in_progress_and_is_left_for_later(tmp_path, monkeypatch):
    monkeypatch.setattr(metrics_files, "MERGE_WAIT", 0.05)
    pid = worker(tmp_path, 1)
    before = db_files(tmp_path)
    with metrics_files.reading(tmp_path):
        assert metrics_files.retire([pid], tmp_path) == [pid]  # not now: a scrape is reading
        assert db_files(tmp_path) == before
    assert metrics_files.retire([pid], tmp_path) == []
    assert db_files(tmp_path) == EXITED


@pytest.mark.parametrize(
    ("rule", "readings", "expected"),
    [
        ("sum", [(1.0, 0.0), (2.5, 0.0)], 3.5),
        ("min", [(4.0, 0.0), (2.0, 0.0)], 2.0),
        ("max", [(4.0, 0.0), (2.0, 0.0)], 4.0),
        ("mostrecent", [(7.0, 20.0), (3.0, 10.0)], 7.0),  # the later reading, whatever order
        ("mostrecent", [(3.0, 10.0), (7.0, 20.0)], 7.0),
    ],
)
def test_each_kind_is_combined_as_a_scrape_would(rule, readings, expected):
    kept = None
    for reading in readings:
        kept = metrics_files._combine(rule, kept, reading)
    assert kept[0] == expected
