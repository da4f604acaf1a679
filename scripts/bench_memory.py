"""Memory of gunicorn's workers, as the kernel accounts it (/proc/<pid>/smaps_rollup).

RSS counts every page a worker maps, also those it shares with the master and the other workers
(the preloaded app), so it overstates what each worker costs. USS is the memory that is the
worker's alone (what stopping it frees); PSS is USS plus its share of each shared page (the PSS of
all processes adds up to what they use together).
"""

from __future__ import annotations

from pathlib import Path


def workers(master_pid: int) -> list[dict[str, float]]:
    """USS, PSS and RSS in MB of each worker of `master_pid`, with its PID."""
    found = []
    for pid in children(master_pid):
        try:
            fields = rollup(pid)
        except OSError:
            continue  # the worker was recycled while we looked
        found.append(
            {
                "pid": pid,
                "uss": (fields["Private_Clean"] + fields["Private_Dirty"]) / 1024,
                "pss": fields["Pss"] / 1024,
                "rss": fields["Rss"] / 1024,
            }
        )
    return found


def children(parent: int) -> list[int]:
    """PIDs of the processes whose parent is `parent`."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == parent:
                pids.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue  # the process ended while we looked
    return pids


def rollup(pid: int) -> dict[str, int]:
    """The kB fields of /proc/<pid>/smaps_rollup (Rss, Pss, Private_Clean, ...)."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value, *_ = line.split()
        fields[name.rstrip(":")] = int(value)
    return fields
