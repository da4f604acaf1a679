"""The development tenant is never a production fallback: without AUTH0_DOMAIN the standalone
app starts on it only with an explicit DEV_TENANT=1, and keeps its own secret key private."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app import create_app

UNSET = ("AUTH0_DOMAIN", "AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET", "APP_SECRET_KEY", "DEV_TENANT")


@pytest.fixture(autouse=True)
def bare_environment(monkeypatch):
    for name in UNSET:
        monkeypatch.delenv(name, raising=False)


def test_without_auth0_domain_or_dev_tenant_start_up_stops(tmp_path):
    with pytest.raises(SystemExit) as stopped:
        create_app({"INSTANCE_PATH": str(tmp_path)})
    message = str(stopped.value)
    assert "AUTH0_DOMAIN is not set" in message
    assert "DEV_TENANT=1" in message
    assert not (tmp_path / "dev-secret-key").exists()  # nothing of the tenant was set up


def test_the_environment_opts_in_as_gunicorn_would(monkeypatch, tmp_path):
    monkeypatch.setenv("DEV_TENANT", "1")
    settings = create_app({"INSTANCE_PATH": str(tmp_path)}).extensions["linked_accounts"].settings
    assert settings.dev_tenant is True
    assert settings.issuer_url == "http://127.0.0.1:5001"


@pytest.mark.parametrize("value", ["0", "no", ""])
def test_anything_but_a_yes_is_no(monkeypatch, tmp_path, value):
    monkeypatch.setenv("DEV_TENANT", value)
    with pytest.raises(SystemExit):
        create_app({"INSTANCE_PATH": str(tmp_path)})


def test_the_secret_file_is_created_private_not_made_private_after(monkeypatch, tmp_path):
    monkeypatch.setattr(Path, "chmod", lambda *args, **kwargs: None)  # no fixing afterwards
    previous = os.umask(0o022)  # what would otherwise leave a new file readable by all
    try:
        create_app({"INSTANCE_PATH": str(tmp_path), "DEV_TENANT": "1"})
    finally:
        os.umask(previous)
    key = tmp_path / "dev-secret-key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert len(key.read_text()) == 64
    # A restart keeps the key, so sessions survive it.
    create_app({"INSTANCE_PATH": str(tmp_path), "DEV_TENANT": "1"})
    assert len(key.read_text()) == 64
