"""`flask linked-accounts install-action` against the development tenant over real HTTP: it creates,
deploys and binds the post-login Action with its secrets; a second run changes nothing; a dry run
says what it would do and does nothing; a changed input updates and redeploys it; the Actions
already bound keep their place.

What the tenant holds is read back through the same Management API, as an operator would see it
(Auth0 answers secret names only: the values are checked through the fingerprint of the secrets
the installed code ends with).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import shutil
import time
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
from flask import Flask

from linked_accounts.atlogin import install
from linked_accounts.atlogin.install import (
    ACTION_FILE,
    DEFAULT_NAME,
    Tenant,
    action_secrets,
    install_action,
    install_action_command,
)
from linked_accounts.identities import read_fields
from tests.support import tenant as t
from tests.support.tenant_login import CALLBACK, login, parse_login_page, pkce_pair

LINKING_SECRET = "at-login-secret-" + "s" * 32
LINKING_URL = "http://127.0.0.1:5000/account/at-login"
CLAIM = "https://linked-accounts/identities"
SECRET_NAMES = {
    "LINKING_SECRET",
    "LINKING_URL",
    "AUTH0_DOMAIN",
    "M2M_CLIENT_ID",
    "M2M_CLIENT_SECRET",
    "NOT_NOW_DAYS",
}


def tenant_of(url: str) -> Tenant:
    return Tenant(url, url, "dev-m2m", "dev-m2m-secret", (3.05, 5.0))


def secrets_for(url: str, **options) -> dict[str, str]:
    return action_secrets(
        tenant_of(url), linking_secret=LINKING_SECRET, linking_url=LINKING_URL, **options
    )


class Admin:
    """The tenant's Actions Management API, with the M2M client's token."""

    def __init__(self, url: str) -> None:
        self.url = f"{url}/api/v2/actions"
        self.headers = {"Authorization": f"Bearer {t.m2m_token(url)}"}

    def call(self, method: str, path: str, **kwargs) -> dict:
        r = requests.request(method, f"{self.url}{path}", headers=self.headers, timeout=5, **kwargs)
        assert r.status_code < 300, r.text
        return r.json() if r.content else {}

    def actions(self, name: str = DEFAULT_NAME) -> list[dict]:
        return self.call("GET", "/actions", params={"actionName": name})["actions"]

    def bindings(self) -> list[dict]:
        return self.call("GET", "/triggers/post-login/bindings")["bindings"]


def run(url: str, lines: list[str] | None = None, **options) -> list[str]:
    secrets = options.pop("secrets", None) or secrets_for(url)
    return install_action(
        tenant_of(url),
        action_file=options.pop("action_file", ACTION_FILE),
        secrets=secrets,
        echo=(lines if lines is not None else []).append,
        **options,
    )


def test_install_creates_deploys_and_binds_the_action_with_its_secrets(tenant):
    lines: list[str] = []
    changes = run(tenant, lines)

    assert [c.split(" ")[0] for c in changes] == ["create", "deploy", "bind"]
    assert lines == changes
    admin = Admin(tenant)
    (action,) = admin.actions()
    assert action["supported_triggers"] == [{"id": "post-login", "version": "v3"}]
    assert action["runtime"] == "node22"
    assert {s["name"] for s in action["secrets"]} == SECRET_NAMES
    assert all("value" not in s for s in action["secrets"])
    # The code is the shipped file, and ends with the fingerprint of the secrets' values.
    source = ACTION_FILE.read_text()
    fingerprint = install._fingerprint(secrets_for(tenant))
    assert action["code"] == f"{source.rstrip()}\n\n{install.FINGERPRINT_MARK}{fingerprint}\n"
    assert action["all_changes_deployed"] is True
    assert action["deployed_version"]["code"] == action["code"]
    (binding,) = admin.bindings()
    assert binding["action"]["id"] == action["id"]
    assert binding["display_name"] == DEFAULT_NAME


def test_the_secrets_point_the_action_at_this_tenant(tenant):
    secrets = secrets_for(tenant, client_ids=("dev-client",), not_now_days=7)
    assert secrets == {
        "LINKING_SECRET": LINKING_SECRET,
        "LINKING_URL": LINKING_URL,
        "AUTH0_DOMAIN": tenant,  # http on loopback: the origin as it is
        "M2M_CLIENT_ID": "dev-m2m",
        "M2M_CLIENT_SECRET": "dev-m2m-secret",
        "NOT_NOW_DAYS": "7",
        "CLIENT_IDS": "dev-client",
    }
    real = Tenant("https://login.example.com", "https://acme.eu.auth0.com", "m", "s")
    assert install.action_domain(real.canonical_url) == "acme.eu.auth0.com"


def test_the_identities_claim_and_its_clients_are_passed_as_secrets(tenant):
    secrets = secrets_for(
        tenant, identities_claim=CLAIM, identities_client_ids=("dev-client", "spa-client")
    )
    assert secrets["IDENTITIES_CLAIM"] == CLAIM
    assert secrets["IDENTITIES_CLIENT_IDS"] == "dev-client,spa-client"
    assert set(secrets) == SECRET_NAMES | {"IDENTITIES_CLAIM", "IDENTITIES_CLIENT_IDS"}
    # No claim: neither secret, whatever clients were named (the Action would add nothing).
    bare = secrets_for(tenant, identities_client_ids=("dev-client",))
    assert set(bare) == SECRET_NAMES


def test_a_second_run_with_the_same_inputs_changes_nothing(tenant):
    run(tenant)
    admin = Admin(tenant)
    (before,) = admin.actions()

    lines: list[str] = []
    assert run(tenant, lines) == []
    assert lines == [f"action {DEFAULT_NAME!r}: up to date"]
    (after,) = admin.actions()
    assert after["updated_at"] == before["updated_at"]
    assert after["deployed_version"]["id"] == before["deployed_version"]["id"]
    assert len(admin.bindings()) == 1


def test_a_dry_run_says_what_it_would_do_and_does_nothing(tenant):
    lines: list[str] = []
    changes = run(tenant, lines, dry_run=True)
    assert [c.split(" ")[0] for c in changes] == ["create", "deploy", "bind"]
    assert lines == [f"would {c}" for c in changes]
    admin = Admin(tenant)
    assert admin.actions() == []
    assert admin.bindings() == []

    run(tenant)
    (installed,) = admin.actions()
    lines.clear()
    changed = secrets_for(tenant, not_now_days=7)
    assert run(tenant, lines, secrets=changed, dry_run=True) == [
        f"update action {DEFAULT_NAME!r}: secrets",
        f"deploy action {DEFAULT_NAME!r}",
    ]
    assert lines[0].startswith("would update")
    (after,) = admin.actions()
    assert after["updated_at"] == installed["updated_at"]
    assert after["code"] == installed["code"]


def test_changed_secrets_update_and_redeploy_the_action_without_binding_it_twice(tenant):
    run(tenant)
    admin = Admin(tenant)
    (first,) = admin.actions()

    changed = secrets_for(tenant, client_ids=("dev-client",), not_now_days=7)
    assert run(tenant, secrets=changed) == [
        f"update action {DEFAULT_NAME!r}: secrets",
        f"deploy action {DEFAULT_NAME!r}",
    ]
    (second,) = admin.actions()
    assert second["id"] == first["id"]
    assert {s["name"] for s in second["secrets"]} == SECRET_NAMES | {"CLIENT_IDS"}
    assert second["deployed_version"]["id"] != first["deployed_version"]["id"]
    assert second["deployed_version"]["code"].endswith(f"{install._fingerprint(changed)}\n")
    assert [b["action"]["id"] for b in admin.bindings()] == [first["id"]]
    assert run(tenant, secrets=changed) == []


def test_changed_code_updates_and_redeploys_the_action(tenant, tmp_path):
    run(tenant)
    edited = tmp_path / "link-accounts.js"
    edited.write_text(ACTION_FILE.read_text() + "\n// a later release\n")
    assert run(tenant, action_file=edited) == [
        f"update action {DEFAULT_NAME!r}: code",
        f"deploy action {DEFAULT_NAME!r}",
    ]
    (action,) = Admin(tenant).actions()
    assert "// a later release" in action["deployed_version"]["code"]
    assert run(tenant, action_file=edited) == []


def test_an_action_created_but_never_deployed_is_deployed_and_bound(tenant):
    admin = Admin(tenant)
    secrets = secrets_for(tenant)
    admin.call(
        "POST",
        "/actions",
        json={
            "name": DEFAULT_NAME,
            "supported_triggers": [{"id": "post-login", "version": "v3"}],
            "code": install._with_fingerprint(ACTION_FILE.read_text(), secrets),
            "runtime": "node22",
            "secrets": [{"name": k, "value": v} for k, v in secrets.items()],
        },
    )
    assert run(tenant) == [
        f"deploy action {DEFAULT_NAME!r}",
        f"bind action {DEFAULT_NAME!r} to post-login",
    ]
    (action,) = admin.actions()
    assert action["all_changes_deployed"] is True


def test_the_actions_already_bound_keep_their_order_and_ours_comes_last(tenant):
    admin = Admin(tenant)
    ids = []
    for name in ("first-action", "second-action"):
        created = admin.call(
            "POST",
            "/actions",
            json={
                "name": name,
                "supported_triggers": [{"id": "post-login", "version": "v3"}],
                "code": "exports.onExecutePostLogin = async () => {};",
                "runtime": "node22",
            },
        )
        admin.call("POST", f"/actions/{created['id']}/deploy")
        ids.append(created["id"])
    refs = [{"ref": {"type": "action_id", "value": i}, "display_name": f"shown {i}"} for i in ids]
    admin.call("PATCH", "/triggers/post-login/bindings", json={"bindings": refs})

    changes = run(tenant)
    assert changes[-1] == (
        f"bind action {DEFAULT_NAME!r} to post-login after shown {ids[0]}, shown {ids[1]}"
    )
    (ours,) = admin.actions()
    bound = admin.bindings()
    assert [b["action"]["id"] for b in bound] == [*ids, ours["id"]]
    assert [b["display_name"] for b in bound] == [
        f"shown {ids[0]}",
        f"shown {ids[1]}",
        DEFAULT_NAME,
    ]
    assert run(tenant) == []


def test_a_client_without_the_actions_scopes_is_told_which_it_needs(tenant):
    refused = Tenant(tenant, tenant, "dev-client", "dev-client-secret", (3.05, 5.0))
    with pytest.raises(install.InstallError, match="read:actions create:actions update:actions"):
        install_action(refused, secrets=secrets_for(tenant), echo=lambda _: None)


@pytest.fixture
def host(tenant):
    """A bare Flask app with the config the command reads (the command needs no extension)."""
    app = Flask(__name__)
    app.config.update(
        AUTH0_DOMAIN=tenant,
        AUTH0_M2M_CLIENT_ID="dev-m2m",
        AUTH0_M2M_CLIENT_SECRET="dev-m2m-secret",
        LINKED_ACCOUNTS_AT_LOGIN_SECRET=LINKING_SECRET,
    )
    return app


def test_the_command_installs_then_reports_up_to_date(host, tenant):
    runner = host.test_cli_runner()
    args = ["--linking-url", LINKING_URL, "--client-id", "dev-client", "--not-now-days", "14"]

    dry = runner.invoke(install_action_command, [*args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert dry.output.splitlines()[0].startswith(f"would create action {DEFAULT_NAME!r}")
    assert Admin(tenant).actions() == []

    first = runner.invoke(install_action_command, args)
    assert first.exit_code == 0, first.output
    assert [line.split(" ")[0] for line in first.output.splitlines()] == [
        "create",
        "deploy",
        "bind",
    ]
    (action,) = Admin(tenant).actions()
    expected = secrets_for(tenant, client_ids=("dev-client",), not_now_days=14)
    assert action["code"].endswith(f"{install._fingerprint(expected)}\n")

    again = runner.invoke(install_action_command, args)
    assert again.exit_code == 0, again.output
    assert again.output == f"action {DEFAULT_NAME!r}: up to date\n"


def test_the_command_passes_the_identities_claim_and_its_clients(host, tenant):
    runner = host.test_cli_runner()
    args = [
        "--linking-url",
        LINKING_URL,
        "--identities-claim",
        CLAIM,
        "--identities-client-id",
        "dev-client",
        "--identities-client-id",
        " spa-client ",
    ]
    result = runner.invoke(install_action_command, args)
    assert result.exit_code == 0, result.output
    (action,) = Admin(tenant).actions()
    assert {s["name"] for s in action["secrets"]} == SECRET_NAMES | {
        "IDENTITIES_CLAIM",
        "IDENTITIES_CLIENT_IDS",
    }
    expected = secrets_for(
        tenant, identities_claim=CLAIM, identities_client_ids=("dev-client", "spa-client")
    )
    assert action["code"].endswith(f"{install._fingerprint(expected)}\n")
    # The app does not read that claim (its LINKED_ACCOUNTS_IDENTITIES_CLAIM is unset): said.
    assert "LINKED_ACCOUNTS_IDENTITIES_CLAIM=(unset)" in result.output

    # Without the option again, the claim goes: the secrets change and the Action is redeployed.
    again = runner.invoke(install_action_command, ["--linking-url", LINKING_URL])
    assert again.exit_code == 0, again.output
    (after,) = Admin(tenant).actions()
    assert {s["name"] for s in after["secrets"]} == SECRET_NAMES


def test_the_command_writes_the_claim_the_app_reads_by_default(host, tenant):
    host.config["LINKED_ACCOUNTS_IDENTITIES_CLAIM"] = CLAIM
    runner = host.test_cli_runner()
    result = runner.invoke(install_action_command, ["--linking-url", LINKING_URL])
    assert result.exit_code == 0, result.output
    assert "note:" not in result.output
    (action,) = Admin(tenant).actions()
    expected = secrets_for(tenant, identities_claim=CLAIM)
    assert action["code"].endswith(f"{install._fingerprint(expected)}\n")

    # An empty --identities-claim turns it off, and says the app still reads one.
    off = runner.invoke(
        install_action_command, ["--linking-url", LINKING_URL, "--identities-claim", ""]
    )
    assert off.exit_code == 0, off.output
    assert f"LINKED_ACCOUNTS_IDENTITIES_CLAIM={CLAIM}, the Action writes no claim" in off.output
    (after,) = Admin(tenant).actions()
    assert {s["name"] for s in after["secrets"]} == SECRET_NAMES


@pytest.mark.parametrize(
    "args, says",
    [
        (
            ["--identities-client-id", "dev-client"],
            "--identities-client-id needs --identities-claim",
        ),
        (["--identities-claim", "identities"], "--identities-claim"),
        (["--identities-claim", "https://example.auth0.com/identities"], "--identities-claim"),
        (["--identities-claim", "ftp://linked-accounts/identities"], "--identities-claim"),
    ],
)
def test_the_command_refuses_an_identities_claim_auth0_would_leave_out(host, tenant, args, says):
    result = host.test_cli_runner().invoke(
        install_action_command, ["--linking-url", LINKING_URL, *args]
    )
    assert result.exit_code == 2, result.output
    assert says in result.output
    assert Admin(tenant).actions() == []


def test_the_command_refuses_a_linking_url_that_is_not_https(host):
    result = host.test_cli_runner().invoke(
        install_action_command, ["--linking-url", "http://app.example.com/account/at-login"]
    )
    assert result.exit_code == 2
    assert "--linking-url" in result.output


def test_the_command_needs_the_at_login_secret(host):
    host.config["LINKED_ACCOUNTS_AT_LOGIN_SECRET"] = ""
    result = host.test_cli_runner().invoke(install_action_command, ["--linking-url", LINKING_URL])
    assert result.exit_code == 1
    assert "LINKED_ACCOUNTS_AT_LOGIN_SECRET is not set" in result.output


def test_the_installed_action_runs_on_a_login_with_its_secrets(tenant):
    """End to end: the deployed, bound Action runs on a login that is due (Maya's GitHub account,
    her "not now" period over), finds her older account with its M2M secrets, and sends her to
    the linking page with a token signed with its LINKING_SECRET."""
    if shutil.which("node") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node is not installed: CI must run the Action on the tenant")
        pytest.skip("node is not installed: the tenant runs no Action")
    run(tenant)
    admin = Admin(tenant)
    over = {"linked_accounts": {"not_now_until": int(time.time()) - 5}}
    requests.patch(
        f"{tenant}/api/v2/users/{quote(t.MAYA_GITHUB, safe='')}",
        json={"app_metadata": over},
        headers=admin.headers,
        timeout=5,
    ).raise_for_status()

    browser = requests.Session()
    _, challenge = pkce_pair()
    page = browser.get(
        f"{tenant}/authorize",
        params={
            "response_type": "code",
            "client_id": "dev-client",
            "redirect_uri": CALLBACK,
            "scope": "openid profile email",
            "state": "app-state",
            "nonce": "app-nonce",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        allow_redirects=False,
        timeout=10,
    )
    form = parse_login_page(page.text)
    name, value = form.button("Continue as maya-patel")
    sent = browser.post(
        f"{tenant}{form.action}",
        data={**form.hidden, name: value},
        allow_redirects=False,
        timeout=30,
    )

    assert sent.status_code == 302, sent.text[:300]
    location = urlsplit(sent.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == LINKING_URL
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["state"]
    header, claims, signature = query["session_token"].split(".")
    expected = hmac.new(LINKING_SECRET.encode(), f"{header}.{claims}".encode(), hashlib.sha256)
    assert base64.urlsafe_b64decode(signature + "==") == expected.digest()
    payload = json.loads(base64.urlsafe_b64decode(claims + "=="))
    assert payload["sub"] == t.MAYA_GITHUB
    assert [c["user_id"] for c in payload["candidate_identities"]] == [t.MAYA]


def test_the_installed_action_puts_the_identities_in_the_id_token(tenant):
    """End to end: installed with an identities claim, the Action puts the person's identities
    in the ID token of a login that is not due, as the Management API lists them (primary first,
    GitHub's id a number) and trimmed to what the page reads; for a client it is not asked for,
    none."""
    if shutil.which("node") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node is not installed: CI must run the Action on the tenant")
        pytest.skip("node is not installed: the tenant runs no Action")
    admin = Admin(tenant)
    stored = requests.get(
        f"{tenant}/api/v2/users/{quote(t.ADA, safe='')}", headers=admin.headers, timeout=5
    ).json()["identities"]
    assert "picture" in stored[1]["profileData"]  # more than the page reads, to be left out

    run(tenant, secrets=secrets_for(tenant, identities_claim=CLAIM))
    claims = id_token_claims(login(tenant, "Ada Lovelace")["id_token"])
    assert claims["sub"] == t.ADA
    assert claims[CLAIM] == [
        {
            "provider": "auth0",
            "user_id": "6500a1b2c3d4e5f600000001",
            "connection": "Username-Password-Authentication",
            "isSocial": False,
        },
        {
            "provider": "google-oauth2",
            "user_id": "109876543210987654321",
            "connection": "google-oauth2",
            "isSocial": True,
            "profileData": {"email": "ada.lovelace@gmail.com", "name": "Ada Lovelace"},
        },
        {
            "provider": "github",
            "user_id": 1234567,
            "connection": "github",
            "isSocial": True,
            "profileData": {
                "email": "ada@users.noreply.github.com",
                "name": "Ada Lovelace",
                "nickname": "ada-codes",
            },
        },
        {
            "provider": "samlp",
            "user_id": "acme-saml|ada@acme.test",
            "connection": "acme-saml",
            "isSocial": False,
            "profileData": {"email": "ada@acme.test", "name": "Ada Lovelace"},
        },
    ]
    # What the page keeps of the same list read from the Management API.
    assert claims[CLAIM] == read_fields(stored)

    other = secrets_for(tenant, identities_claim=CLAIM, identities_client_ids=("other-client",))
    run(tenant, secrets=other)
    assert CLAIM not in id_token_claims(login(tenant, "Ada Lovelace")["id_token"])


def id_token_claims(id_token: str) -> dict:
    """The payload of an ID token (its signature is the tenant's business here)."""
    payload = id_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
