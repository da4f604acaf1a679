"""`make run` starts the tenant with the shipped post-login Action: Maya's newer GitHub account is
asked about her older password account at its first login, and nobody else is; every ID token
carries the person's identities under the claim the app reads, after a link the merged list of
the account the login ends as."""

from __future__ import annotations

import base64
import json
import subprocess
import time

import pytest

from scripts import run_dev
from tests.devtenant.action_flow import Browser, jwt, query_of, verified_claims
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


def test_the_tenant_command_gives_the_action_the_identities_claim(monkeypatch):
    claim = run_dev.DEV_IDENTITIES_CLAIM
    assert claim == "https://linked-accounts/identities"
    both = run_dev.tenant_command("http://127.0.0.1:5001", "s" * 40, claim)
    secrets = [both[i + 1] for i, arg in enumerate(both) if arg == "--action-secret"]
    assert secrets[-1] == f"IDENTITIES_CLAIM={claim}"
    assert len(secrets) == 6
    # The door closed (no AT_LOGIN_SECRET), the claim still given: the Action runs for it alone.
    alone = run_dev.tenant_command("http://127.0.0.1:5001", None, claim)
    assert alone[alone.index("--action") + 1] == str(run_dev.SHIPPED_ACTION)
    assert [alone[i + 1] for i, arg in enumerate(alone) if arg == "--action-secret"] == [
        f"IDENTITIES_CLAIM={claim}"
    ]
    assert "--action" not in run_dev.tenant_command("http://127.0.0.1:5001", None, "")


@pytest.mark.parametrize(
    "given, expected",
    [
        (None, run_dev.DEV_IDENTITIES_CLAIM),
        ("https://example.test/ids", "https://example.test/ids"),
        ("", None),
    ],
)
def test_make_run_gives_the_app_and_the_tenant_the_same_claim(monkeypatch, given, expected):
    """main() sets the app's IDENTITIES_CLAIM and passes the same value to the tenant; a value
    of the developer's own wins for both, and an empty one leaves both without."""
    seen: dict = {}
    monkeypatch.delenv("AUTH0_DOMAIN", raising=False)
    if given is None:
        monkeypatch.delenv("IDENTITIES_CLAIM", raising=False)
    else:
        monkeypatch.setenv("IDENTITIES_CLAIM", given)

    def tenant_command(url, linking_secret, identities_claim=None):
        seen["tenant"] = identities_claim
        return ["true"]

    def call(command, env):
        seen["app"] = env.get("IDENTITIES_CLAIM")
        return 0

    monkeypatch.setattr(run_dev, "tenant_command", tenant_command)
    monkeypatch.setattr(run_dev, "wait_for", lambda url: None)
    monkeypatch.setattr(run_dev.subprocess, "call", call)
    run_dev.main()
    assert seen["tenant"] == expected
    assert seen["app"] == (expected or "")


@pytest.fixture
def make_run_tenant(monkeypatch):
    """The tenant as `make run` starts it, on a free port."""
    port = free_port()
    monkeypatch.setattr(run_dev, "TENANT_PORT", port)
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(  # noqa: S603 - our own command
        run_dev.tenant_command(url, run_dev.DEV_LINKING_SECRET, run_dev.DEV_IDENTITIES_CLAIM),
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


def id_token_claims(tokens: dict) -> dict:
    payload = tokens["id_token"].split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


MAYA_IDENTITY = {
    "provider": "auth0",
    "user_id": "6500a1b2c3d4e5f600000006",
    "connection": "Username-Password-Authentication",
    "isSocial": False,
}


def test_a_login_that_is_not_due_carries_the_identities(make_run_tenant):
    browser = Browser(make_run_tenant)
    claims = id_token_claims(browser.tokens(browser.begin("Maya Patel")))
    assert claims["sub"] == MAYA
    assert claims[run_dev.DEV_IDENTITIES_CLAIM] == [MAYA_IDENTITY]


def test_after_a_link_at_login_the_token_is_the_older_accounts_with_its_merged_list(
    make_run_tenant,
):
    """The claim set at the GitHub account's login names that account; the link at /continue
    switches the login to the older account and sets the claim again: the ID token carries
    the later one, whose primary is its sub."""
    tenant = make_run_tenant
    browser = Browser(tenant)
    redirect = query_of(browser.begin("maya-patel"))
    now = int(time.time())
    answer = jwt(
        {
            "iss": f"http://127.0.0.1:{run_dev.APP_PORT}/account/at-login",
            "sub": MAYA_GITHUB,
            "iat": now,
            "exp": now + 300,
            "state": redirect["state"],
            "action": "link",
            "primary_identity": {"user_id": MAYA},
            "secondary_identity": {"user_id": MAYA_GITHUB},
        },
        secret=run_dev.DEV_LINKING_SECRET,
    )
    claims = id_token_claims(
        browser.tokens(browser.resume(state=redirect["state"], session_token=answer))
    )
    assert claims["sub"] == MAYA
    listed = claims[run_dev.DEV_IDENTITIES_CLAIM]
    assert listed == [
        MAYA_IDENTITY,
        {
            "provider": "github",
            "user_id": 8765432,
            "connection": "github",
            "isSocial": True,
            "profileData": {
                "email": "maya@example.com",
                "name": "maya-patel",
                "nickname": "maya-patel",
            },
        },
    ]
    assert [i["provider"] for i in user(tenant, MAYA)["identities"]] == ["auth0", "github"]
