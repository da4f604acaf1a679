"""The `/__dev/` calls of docs/dev-tenant.md work as pasted: each curl command, run against a
tenant, does what its comment says."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess

import pytest

from tests.support.readme import snippet
from tests.support.tenant_api import ADA, auth, http, user_url
from tests.support.tenant_login import login

README_TENANT = "http://127.0.0.1:5001"


def commands() -> list[list[str]]:
    """The snippet's commands, continuation lines joined and comments left out."""
    text = snippet("dev-tenant-calls").replace("\\\n", " ")
    return [shlex.split(line) for line in text.splitlines() if line and not line.startswith("#")]


def run(command: list[str], tenant: str) -> None:
    """Run one command as pasted, at the test's tenant instead of port 5001."""
    args = [arg.replace(README_TENANT, tenant) for arg in command]
    assert args[0] == "curl" and README_TENANT not in " ".join(args)
    done = subprocess.run([*args, "--silent", "--show-error", "--fail"], capture_output=True)
    assert done.returncode == 0, done.stderr


def test_the_readme_calls_inject_a_fault_shift_the_clock_and_reset(tenant):
    if shutil.which("curl") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("docs/dev-tenant.md's calls use curl: install it", pytrace=False)
        pytest.skip("docs/dev-tenant.md's calls use curl")
    fault, clock, reset = commands()
    token = login(tenant, "Ada Lovelace")["access_token"]
    run(fault, tenant)
    assert http.get(user_url(tenant, ADA), headers=auth(token)).status_code == 503
    assert http.get(user_url(tenant, ADA), headers=auth(token)).status_code == 200  # once
    run(clock, tenant)
    expired = http.get(user_url(tenant, ADA), headers=auth(token))
    assert expired.status_code == 401 and expired.json()["message"].startswith("Expired token")
    run(reset, tenant)
    assert http.get(user_url(tenant, ADA), headers=auth(token)).status_code == 200
