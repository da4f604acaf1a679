"""The benchmark on a machine without its tools: `make test` runs its smoke, which must say what is
missing and skip outside CI, and fail under CI=true (as the browser tests do)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "scripts" / "bench.py"


def run_bench(tmp_path: Path, *args: str, ci: bool) -> subprocess.CompletedProcess:
    """Run the benchmark with a PATH holding none of its tools (an empty folder)."""
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PATH"] = str(tmp_path)
    if ci:
        env["CI"] = "true"
    return subprocess.run([sys.executable, str(BENCH), *args], env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip


def test_smoke_without_wrk_says_what_to_install_and_skips(tmp_path):
    done = run_bench(tmp_path, "--redis", "--smoke", ci=False)
    assert done.returncode == 0, done.stderr
    assert "bench smoke SKIPPED" in done.stdout
    assert "apt-get install wrk redis-server" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_smoke_without_wrk_fails_under_ci(tmp_path):
    done = run_bench(tmp_path, "--redis", "--smoke", ci=True)
    assert done.returncode != 0
    assert "wrk and redis-server not installed" in done.stderr
    assert "SKIPPED" not in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_full_benchmark_without_wrk_fails_with_one_line(tmp_path):
    done = run_bench(tmp_path, "--seconds", "1", ci=False)
    assert done.returncode != 0
    assert (
        done.stderr.strip()
        == "bench: wrk not installed: apt-get install wrk (macOS: brew install wrk)"
    )
