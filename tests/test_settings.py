"""Configuration: from the host's config, else the environment; every problem named at once."""

from __future__ import annotations

import pytest

from linked_accounts.settings import ConfigError, load_settings, tenant_url

VALID = {
    "AUTH0_DOMAIN": "example.eu.auth0.com",
    "AUTH0_CLIENT_ID": "client",
    "AUTH0_CLIENT_SECRET": "secret",
}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("example.eu.auth0.com", "https://example.eu.auth0.com"),
        ("https://example.eu.auth0.com/", "https://example.eu.auth0.com"),
        ("http://127.0.0.1:5001", "http://127.0.0.1:5001"),
        ("http://[::1]:5001", "http://[::1]:5001"),
    ],
)
def test_tenant_urls(given, expected):
    assert tenant_url(given) == expected


@pytest.mark.parametrize(
    "bad",
    [
        "http://example.eu.auth0.com",  # plain http off loopback
        "http://10.0.0.1:5001",
        "https://example.eu.auth0.com/path",
        "ftp://example.eu.auth0.com",
        "https://",
    ],
)
def test_refused_tenant_urls(bad):
    with pytest.raises(ValueError):
        tenant_url(bad)


def test_every_problem_is_named_in_one_message():
    with pytest.raises(ConfigError) as caught:
        load_settings({"AUTH0_DOMAIN": "http://auth.example.com", "REAUTH_MAX_AGE": "soon"}, {})
    message = str(caught.value)
    for name in ("AUTH0_DOMAIN", "AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET", "REAUTH_MAX_AGE"):
        assert name in message
    assert len(caught.value.problems) == 4


def test_host_config_wins_and_the_environment_fills_the_rest():
    settings = load_settings(
        {"AUTH0_DOMAIN": "config.auth0.com"},
        {**VALID, "AUTH0_DOMAIN": "env.auth0.com", "LINK_CONNECTIONS": "github, google-oauth2"},
    )
    assert settings.issuer_url == "https://config.auth0.com"
    assert settings.client_id == "client"
    assert settings.link_connections == ("github", "google-oauth2")


def test_management_domain_sets_the_api_base_and_audience_for_custom_domains():
    settings = load_settings(
        {**VALID, "AUTH0_DOMAIN": "login.example.com", "AUTH0_MANAGEMENT_DOMAIN": "ex.auth0.com"},
        {},
    )
    assert settings.metadata_url == "https://login.example.com/.well-known/openid-configuration"
    assert settings.audience == "https://ex.auth0.com/api/v2/"
    plain = load_settings(VALID, {})
    assert plain.audience == "https://example.eu.auth0.com/api/v2/"


@pytest.mark.parametrize(
    "connections",
    [
        {"acme": {"name": "Acme", "icon": "https://cdn.example.com/acme.svg"}},  # another origin
        {"acme": {"name": "Acme", "icon": "//cdn.example.com/acme.svg"}},
        {"acme": {"label": "Acme"}},
        ["acme"],
    ],
)
def test_connection_icons_must_come_from_this_site(connections):
    with pytest.raises(ConfigError, match="LINKED_ACCOUNTS_CONNECTIONS"):
        load_settings({**VALID, "LINKED_ACCOUNTS_CONNECTIONS": connections}, {})


def test_the_app_names_its_own_problems_with_the_extensions(make_app):
    with pytest.raises(ConfigError) as caught:
        make_app(APP_SECRET_KEY="short", REDIS_URL="http://redis", AUTH0_CLIENT_ID="")
    message = str(caught.value)
    assert "APP_SECRET_KEY is too short" in message
    assert "REDIS_URL must start with redis://" in message
    assert "AUTH0_CLIENT_ID is not set" in message


def test_without_auth0_domain_the_app_runs_on_the_development_tenant(monkeypatch, tmp_path):
    from app import create_app

    for name in ("AUTH0_DOMAIN", "AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET", "APP_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    settings = app.extensions["linked_accounts"].settings
    assert settings.issuer_url == "http://127.0.0.1:5001"
    assert settings.dev_tenant is True
    page = app.test_client().get("/")
    assert b"Development tenant" in page.data
    assert (tmp_path / "dev-secret-key").stat().st_mode & 0o077 == 0  # a key of its own, private
