"""gunicorn loads the app once in the master (preload_app) and forks the workers from it; each
worker must still open its own connections to Auth0 and Redis: a socket two processes share
would interleave their requests and answers."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from scripts.bench_memory import children
from tests.support import tenant as t
from tests.support.servers import free_port, wait_for
from tests.support.visitor import Visitor, unlink_buttons

ROOT = Path(__file__).resolve().parent.parent
ESTABLISHED = "01"


def test_the_app_is_loaded_once_before_forking_and_frozen():
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert config["preload_app"] is True
    assert "pre_fork" in config and "post_fork" in config


def test_no_connection_is_shared_between_workers(tenant, tmp_path, redis_url):
    port = free_port()
    env = {
        **os.environ,
        "DEV_AUTH0_DOMAIN": tenant,
        "DEV_TENANT": "1",
        "APP_SECRET_KEY": "s" * 40,
        "REDIS_URL": redis_url,
        "IDENTITIES_CACHE_SECONDS": "0",  # every view calls Auth0
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
    }
    env.pop("AUTH0_DOMAIN", None)
    with (tmp_path / "gunicorn.log").open("w") as log:
        master = subprocess.Popen([sys.executable, "-m", "gunicorn"], cwd=ROOT, env=env,
                                  stderr=log)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/healthz", master)
        ada, ben = Visitor(base), Visitor(base)
        ada.login("Ada Lovelace")
        ben.login("Ben Carter")
        requests.post(f"{tenant}/__dev/config", json={"latency": 1.5}, timeout=5)
        calls = t.stats(tenant)["management_calls_total"]
        with ThreadPoolExecutor(2) as pool:
            # Two slow views at once: each sync worker holds one, mid-call to Auth0.
            views = [pool.submit(v.get, "/account/") for v in (ada, ben)]
            while t.stats(tenant)["management_calls_total"] < calls + 2:
                time.sleep(0.02)
            sockets = {pid: connections(pid) for pid in [master.pid, *children(master.pid)]}
            assert [v.result().status_code for v in views] == [200, 200]
        assert len(unlink_buttons(views[0].result().text)) == 3
    finally:
        requests.post(f"{tenant}/__dev/config", json={"latency": 0}, timeout=5)
        master.terminate()
        master.wait(timeout=30)
    tenant_port, redis_port = int(tenant.rsplit(":", 1)[1]), int(redis_url.split(":")[2][:-2])
    assert len(sockets) == 3, sockets  # the master and two workers
    assert not {remote for _, remote in sockets.pop(master.pid)} & {tenant_port, redis_port}
    (first, mine), (second, theirs) = sockets.items()
    for held in (mine, theirs):
        remotes = {remote for _, remote in held}
        assert {tenant_port, redis_port} <= remotes  # each worker opened both
    assert not {inode for inode, _ in mine} & {inode for inode, _ in theirs}, (first, second)


def connections(pid: int) -> set[tuple[int, int]]:
    """(socket inode, remote port) of each established TCP connection process `pid` holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            inode, state, remote = int(fields[9]), fields[3], fields[2]
            if inode in inodes and state == ESTABLISHED:
                found.add((inode, int(remote.rsplit(":", 1)[1], 16)))
    return found
