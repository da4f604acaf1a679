"""The post-login Action's own unit tests (tests/action/*.test.js, Node's built-in test runner),
run from pytest so that `pytest` alone covers them too.

The test files are named one by one rather than by their directory: `node --test <dir>` searches
the directory on Node 18 and 20 only; Node 21 and later take the argument as a file (or glob) and
fail. Without node the test skips, saying so, except under CI=true, where it must run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ACTION_TESTS = Path(__file__).parent / "action"


def test_the_action_passes_its_node_unit_tests():
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node is not installed: CI must run the Action's unit tests")
        pytest.skip("node is not installed: the Action's unit tests (tests/action) did not run")
    files = sorted(str(p) for p in ACTION_TESTS.glob("*.test.js"))
    assert files, "no tests/action/*.test.js found"
    result = subprocess.run(
        [node, "--test", "--test-reporter=tap", *files],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ACTION_TESTS.parent.parent,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    # The runner's TAP summary: some tests ran, and none failed.
    assert "# fail 0" in report, report
    passed = [line for line in report.splitlines() if line.startswith("# pass ")]
    assert passed and int(passed[-1].split()[-1]) > 0, report
