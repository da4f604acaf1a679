"""`make run` starts the tenant with the shipped post-login Action: Maya's newer GitHub account is
asked about her older password account at its first login, and nobody else is."""

from __future__ import annotations

import subprocess

import pytest

from scripts import run_dev
from tests.devtenant.action_flow import Browser, query_of, verified_claims
from tests.devtenant.conftest import needs_node
from tests.support.servers import free_port, wait_for
from tests.support.tenant import MAYA, MAYA_GITHUB, user

pytestmark = [
    needs_node,
    pytest.mark.skipif(not run_dev.SHIPPED_ACTION.exists(), reason="no shipped Action yet"),
]


def test_the_tenant_command_passes_the_shipped_action_and_its_secrets(monkeypatch):
    monkeypatch.setattr(run_dev, "APP_PORT", 5000)
    command = run_dev.tenant_command("http://127.0.0.1:5001", "s" * 40)
    assert command[command.index("--action") + 1] == str(run_dev.SHIPPED_ACTION)
    secrets = [command[i + 1] for i, arg in enumerate(command) if arg == "--action-secret"]
    assert secrets == [
        "LINKING_SECRET=" + "s" * 40,
        "LINKING_URL=http://127.0.0.1:5000/account/at-login",
        "AUTH0_DOMAIN=http://127.0.0.1:5001",
        "M2M_CLIENT_ID=dev-m2m",
        "M2M_CLIENT_SECRET=dev-m2m-secret",
    ]
    assert "--action" not in run_dev.tenant_command("http://127.0.0.1:5001", None)


@pytest.fixture
def make_run_tenant(monkeypatch):
    """The tenant as `make run` starts it, on a free port."""
    port = free_port()
    monkeypatch.setattr(run_dev, "TENANT_PORT", port)
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(  # noqa: S603 - our own command
        run_dev.tenant_command(url, run_dev.DEV_LINKING_SECRET),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"{url}/.well-known/openid-configuration", process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_mayas_newer_account_is_asked_at_its_first_login_only(make_run_tenant):
    tenant = make_run_tenant
    assert user(tenant, MAYA_GITHUB)["logins_count"] == 0
    assert user(tenant, MAYA)["logins_count"] > 1
    response = Browser(tenant).begin("maya-patel")
    assert response.headers["Location"].startswith(
        f"http://127.0.0.1:{run_dev.APP_PORT}/account/at-login?"
    )
    query = query_of(response)
    token = verified_claims(query["session_token"], secret=run_dev.DEV_LINKING_SECRET)
    assert token["sub"] == MAYA_GITHUB
    assert token["current_identity"]["user_id"] == MAYA_GITHUB
    assert [c["user_id"] for c in token["candidate_identities"]] == [MAYA]
    # The older account's login is not its first: it goes straight back to the application.
    older = Browser(tenant).begin("Maya Patel")
    assert "code=" in older.headers["Location"]
