"""Keep prometheus_client's multiprocess directory bounded however often gunicorn recycles workers.

In multiprocess mode every worker writes its figures to files named after its pid
(`counter_<pid>.db`, `histogram_<pid>.db`, `gauge_mostrecent_<pid>.db`), and a scrape adds up
every file there. A worker's files outlive it, and must: its counts are part of the totals, and a
total that dropped when a worker exits would look to Prometheus like a counter reset.
prometheus_client's own `mark_process_dead` removes only the files of live gauges. So with
`max_requests` recycling (which traffic drives, signed in or not) the directory would gain files
for every worker that ever ran, and every scrape would read them all.

Instead, when a worker exits, gunicorn's master (`child_exit`) folds its files into one file per
kind for every exited worker (`counter_exited.db`, ...), the same way a scrape adds them up
(counters, histograms and summaries summed, a gauge by its mode: sum, min, max, or the most recent
reading), and removes them. The directory then holds the files of the live workers (and of the
master, if it counted anything while loading the app) plus one file per kind: bounded by the
number of workers, not by how many have come and gone. A scrape reads the directory under a shared
lock, a merge replaces files under an exclusive one, so a scrape never counts a worker twice or
misses one. Gauges of mode `all` (one series per pid) cannot be merged and are left as they are;
the extension has none.
"""

from __future__ import annotations

import fcntl
import glob
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.multiprocess import mark_process_dead

log = logging.getLogger(__name__)

EXITED = "exited"  # the pid part of the merged files' names: no process has it
LOCK = ".scrape.lock"  # not *.db, so prometheus_client never reads it
MERGE_WAIT = 1.0  # seconds the master waits for scrapes in progress before leaving it for later

# How each kind's values of one series are combined across processes (as MultiProcessCollector
# does when it scrapes). Kinds not here are left alone.
_SUM = "sum"
RULES = {
    "counter": _SUM,
    "histogram": _SUM,  # each bucket's file value is its own count, not cumulative: summed
    "summary": _SUM,
    "gauge_sum": _SUM,
    "gauge_min": "min",
    "gauge_max": "max",
    "gauge_mostrecent": "mostrecent",
}


@contextmanager
def reading(directory: str | os.PathLike | None) -> Iterator[None]:
    """Hold the directory's shared lock while a scrape reads it (nothing when None)."""
    if not directory:
        yield
        return
    fd = os.open(Path(directory) / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def retire(pids: list[int], directory: str | os.PathLike) -> list[int]:
    """Fold the files of the exited workers `pids` into the `exited` files; return the pids left
    for later (all of them when scrapes held the directory for MERGE_WAIT seconds)."""
    for pid in pids:
        mark_process_dead(pid, str(directory))  # live gauges: gone with their process
    with _exclusive(Path(directory)) as locked:
        if not locked:
            return list(pids)
        for pid in pids:
            for path in glob.glob(os.path.join(directory, f"*_{pid}.db")):
                kind = os.path.basename(path)[: -len(f"_{pid}.db")]
                if kind in RULES:
                    _fold(Path(path), Path(directory) / f"{kind}_{EXITED}.db", RULES[kind])
    return []


def _fold(path: Path, archive: Path, rule: str) -> None:
    """Combine `path` into `archive` (written whole, then put in place) and remove `path`."""
    merged: dict[str, tuple[float, float]] = {}
    for source in (archive, path):
        if not source.exists():
            continue
        for key, value, timestamp, _ in MmapedDict.read_all_values_from_file(str(source)):
            merged[key] = _combine(rule, merged.get(key), (value, timestamp))
    partial = archive.with_name(archive.name + ".partial")  # not *.db: never scraped
    written = MmapedDict(str(partial))
    try:
        for key, (value, timestamp) in merged.items():
            written.write_value(key, value, timestamp)
    finally:
        written.close()
    os.replace(partial, archive)
    path.unlink()


def _combine(
    rule: str, kept: tuple[float, float] | None, new: tuple[float, float]
) -> tuple[float, float]:
    """Combine two (value, timestamp) readings of one series by `rule`."""
    if kept is None:
        return new
    if rule == _SUM:
        return (kept[0] + new[0], max(kept[1], new[1]))
    if rule == "min":
        return min(kept, new, key=lambda reading: reading[0])
    if rule == "max":
        return max(kept, new, key=lambda reading: reading[0])
    return max(kept, new, key=lambda reading: reading[1])  # mostrecent: the later reading


@contextmanager
def _exclusive(directory: Path) -> Iterator[bool]:
    """Hold the directory's exclusive lock, waiting at most MERGE_WAIT; yield whether held."""
    fd = os.open(directory / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + MERGE_WAIT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    yield False
                    return
                time.sleep(0.01)
        yield True
    finally:
        os.close(fd)
