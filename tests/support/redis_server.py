"""Run a real, throwaway redis-server on a free loopback port (no persistence)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis

from tests.support.servers import free_port


def redis_server_or_skip() -> str:
    """Return redis-server's path; without it, skip (or fail under CI, where it must exist)."""
    path = shutil.which("redis-server")
    if path:
        return path
    if os.environ.get("CI") == "true":
        pytest.fail("redis-server is not installed, and CI must run the Redis tests")
    pytest.skip("redis-server is not installed (apt-get install redis-server)")


@contextmanager
def running_redis() -> Iterator[str]:
    """Start redis-server on a free port; yield its redis:// URL; stop it by its PID."""
    executable = redis_server_or_skip()
    port = free_port()
    process = subprocess.Popen(
        [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--daemonize", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    try:
        _wait_until_up(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_until_up(url: str, process: subprocess.Popen, seconds: float = 10) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {process.returncode}")
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer at {url}")
    finally:
        client.close()
