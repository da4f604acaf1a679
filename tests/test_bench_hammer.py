"""scripts/bench_hammer.py runs: its smoke (a few seconds of each checkout) prints every figure,
exits 0 and leaves no worktree behind. It measures nothing here; the figures are in docs/hammer.md.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "bench_hammer.py"

missing = [
    tool
    for tool, found in (
        ("redis-server", shutil.which("redis-server")),
        ("gunicorn", importlib.util.find_spec("gunicorn")),
    )
    if not found
]
pytestmark = pytest.mark.skipif(
    bool(missing) and os.environ.get("CI") != "true",
    reason=f"{' and '.join(missing)} not installed",
)

FIGURES = [
    r"others' logins: n \d+, p50 \d+ ms, p99 \d+ ms",
    r"/healthz probe: n \d+, p50 [\d.]+ ms, p99 [\d.]+ ms",
    r"Management API calls: the hammering user's own token \d+",
    r"answered with the rate-limit page \(429\): \d+",
]


def worktrees() -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "list"], capture_output=True, text=True, check=True
    ).stdout


def test_the_smoke_prints_both_turns_and_the_ratio():
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--smoke"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    out = done.stdout
    assert done.returncode == 0, done.stderr[-3000:] or out[-3000:]
    assert "Traceback" not in out + done.stderr
    before, _, after = out.partition("\nafter (this checkout):")
    assert "before (baseline " in before and after, out
    for turn in (before, after):
        for figure in FIGURES:
            assert re.search(figure, turn), (figure, turn)
        for request in ("GET /account/", "GET /account/api/suggestions", "POST /account/refresh"):
            assert f"    {request}: {{" in turn, (request, turn)
    assert re.search(r"after / before: others' login p99 x\d+\.\d{3}", out), out
    assert "bench-hammer-" not in worktrees()  # the baseline's worktree was removed
