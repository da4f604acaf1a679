"""Which Action the tenant runs is set at start-up (`--action FILE --action-secret NAME=VALUE`,
or the same config for create_app); without Node it says so once and logs people in anyway."""

from __future__ import annotations

import logging

import pytest

from devtenant import create_app as create_tenant
from devtenant.__main__ import parse
from tests.devtenant.action_flow import FIXTURE, Browser
from tests.support.tenant import BEN, user
from tests.support.tenant_api import claims


def test_the_command_line_sets_the_action_its_secrets_and_timeout():
    _, config = parse(
        [
            "--action",
            "link.js",
            "--action-secret",
            "LINKING_URL=http://127.0.0.1:5000/account/at-login?a=b",
            "--action-secret",
            "EMPTY=",
            "--action-timeout",
            "5",
        ]
    )
    assert config["DEVTENANT_ACTION"] == "link.js"
    assert config["DEVTENANT_ACTION_SECRETS"] == {
        "LINKING_URL": "http://127.0.0.1:5000/account/at-login?a=b",  # split at the first "="
        "EMPTY": "",
    }
    assert config["DEVTENANT_ACTION_TIMEOUT"] == 5.0


def test_no_action_by_default():
    _, config = parse([])
    assert config["DEVTENANT_ACTION"] is None and config["DEVTENANT_ACTION_SECRETS"] == {}


@pytest.mark.parametrize("secret", ["NO_EQUALS_SIGN", "=value"])
def test_a_secret_without_a_name_is_refused(secret, capsys):
    with pytest.raises(SystemExit):
        parse(["--action-secret", secret])
    assert "NAME=VALUE" in capsys.readouterr().err


def test_without_node_the_tenant_says_so_once_and_logins_go_on(
    tmp_path, monkeypatch, caplog, serve
):
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with no node on it
    with caplog.at_level(logging.INFO, logger="devtenant"):
        app = create_tenant({"DEVTENANT_ACTION": str(FIXTURE)})
    said = [r.getMessage() for r in caplog.records if r.name.startswith("devtenant")]
    assert len(said) == 1 and "node is not on PATH" in said[0]
    tenant = serve(app)
    browser = Browser(tenant)
    # The fixture would deny this login; without Node it does not run at all.
    body = browser.tokens(browser.begin("Ben Carter", fixture="deny"))
    assert claims(body["id_token"])["sub"] == BEN
    assert "https://fixture.test/seen" not in claims(body["id_token"])
    assert user(tenant, BEN)["logins_count"] == 2  # the login still counts
    assert len([r for r in caplog.records if r.name.startswith("devtenant")]) == 1
