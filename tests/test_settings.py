"""Configuration: the extension reads app.config only (the standalone app maps the environment
onto it); every problem is named at once."""

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
        load_settings(
            {"AUTH0_DOMAIN": "http://auth.example.com", "LINKED_ACCOUNTS_REAUTH_MAX_AGE": "soon"}
        )
    message = str(caught.value)
    for name in ("AUTH0_DOMAIN", "AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET", "REAUTH_MAX_AGE"):
        assert name in message
    assert len(caught.value.problems) == 4


def test_the_extension_never_reads_the_environment(monkeypatch):
    monkeypatch.setenv("AUTH0_CLIENT_ID", "from-the-environment")
    monkeypatch.setenv("LINKED_ACCOUNTS_REAUTH_MAX_AGE", "1")
    with pytest.raises(ConfigError, match="AUTH0_CLIENT_ID is not set"):
        load_settings({"AUTH0_DOMAIN": "example.eu.auth0.com", "AUTH0_CLIENT_SECRET": "s"})
    assert load_settings(VALID).reauth_max_age == 300


@pytest.mark.parametrize(
    "value", ["github, google-oauth2", ["github", "google-oauth2"], ("github", " google-oauth2")]
)
def test_values_may_be_typed_or_strings_as_an_environment_gives_them(value):
    settings = load_settings(
        {**VALID, "LINKED_ACCOUNTS_LINK_CONNECTIONS": value, "LINKED_ACCOUNTS_CACHE_SECONDS": 5}
    )
    assert settings.link_connections == ("github", "google-oauth2")
    assert settings.cache_seconds == 5


def test_init_app_fills_every_key_it_owns_and_keeps_the_hosts(tmp_path):
    from flask import Flask

    from linked_accounts import LinkedAccounts, init_sessions
    from linked_accounts.settings import DEFAULTS

    app = Flask(__name__, instance_path=str(tmp_path))
    app.config.update(VALID, SECRET_KEY="k" * 32, LINKED_ACCOUNTS_REAUTH_MAX_AGE=30)
    init_sessions(app)
    LinkedAccounts(app)
    assert set(DEFAULTS) <= set(app.config)
    assert app.config["LINKED_ACCOUNTS_REAUTH_MAX_AGE"] == 30
    assert app.config["LINKED_ACCOUNTS_CACHE_SECONDS"] == DEFAULTS["LINKED_ACCOUNTS_CACHE_SECONDS"]
    assert app.extensions["linked_accounts"].settings.reauth_max_age == 30


def test_a_config_error_is_an_ordinary_exception_a_host_can_catch():
    try:
        load_settings({})
    except Exception as exc:  # what a host's start-up code would write
        assert isinstance(exc, ConfigError) and len(exc.problems) == 3
    else:
        raise AssertionError("no ConfigError")


def test_management_domain_names_only_the_audience_calls_go_to_the_sign_in_domain():
    settings = load_settings(
        {**VALID, "AUTH0_DOMAIN": "login.example.com", "AUTH0_MANAGEMENT_DOMAIN": "ex.auth0.com"}
    )
    assert settings.metadata_url == "https://login.example.com/.well-known/openid-configuration"
    assert settings.audience == "https://ex.auth0.com/api/v2/"
    assert settings.api_url == "https://login.example.com"
    plain = load_settings(VALID)
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
        load_settings({**VALID, "LINKED_ACCOUNTS_CONNECTIONS": connections})


def test_the_app_names_its_own_problems_with_the_extensions(make_app):
    with pytest.raises(SystemExit) as caught:  # one message and a non-zero exit, no traceback
        make_app(
            APP_SECRET_KEY="short", REDIS_URL="http://redis", AUTH0_CLIENT_ID="", REAUTH_MAX_AGE="x"
        )
    message = str(caught.value)
    assert "REAUTH_MAX_AGE must be a number" in message  # named as the environment names it
    assert "LINKED_ACCOUNTS_REAUTH_MAX_AGE" not in message
    assert "APP_SECRET_KEY is too short" in message
    assert "REDIS_URL must start with redis://" in message
    assert "AUTH0_CLIENT_ID is not set" in message


def test_without_auth0_domain_the_app_runs_on_the_development_tenant(monkeypatch, tmp_path):
    from app import create_app

    for name in ("AUTH0_DOMAIN", "AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET", "APP_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    app = create_app({"INSTANCE_PATH": str(tmp_path), "DEV_TENANT": "1"})
    settings = app.extensions["linked_accounts"].settings
    assert settings.issuer_url == "http://127.0.0.1:5001"
    assert settings.dev_tenant is True
    page = app.test_client().get("/")
    assert b"Development tenant" in page.data
    assert (tmp_path / "dev-secret-key").stat().st_mode & 0o077 == 0  # a key of its own, private


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "ftp://help.example.com/", "help.example.com"]
)
def test_a_support_address_must_be_a_page_or_an_email_address(url):
    with pytest.raises(ConfigError, match="LINKED_ACCOUNTS_SUPPORT_URL"):
        load_settings({**VALID, "LINKED_ACCOUNTS_SUPPORT_URL": url})
    for good in ("https://help.example.com/", "mailto:help@example.com"):
        assert load_settings({**VALID, "LINKED_ACCOUNTS_SUPPORT_URL": good}).support_url == good


def test_the_tenants_connection_names_need_the_m2m_client():
    with pytest.raises(ConfigError, match="read:connections"):
        load_settings({**VALID, "LINKED_ACCOUNTS_CONNECTION_DISPLAY_NAMES": "1"})
