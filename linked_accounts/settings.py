"""Read and check the extension's settings: host app config first, then the environment."""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

LOOPBACK_NAMES = {"localhost"}


class ConfigError(SystemExit):
    """Start-up settings are missing or wrong. Names every problem at once.

    A SystemExit, so `flask run` and gunicorn stop with this message instead of a traceback.
    """

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(
            "Cannot start: fix these settings (environment variables or app config):\n"
            + "\n".join(f"  - {p}" for p in problems)
        )


@dataclass(frozen=True)
class Settings:
    """Everything the extension needs to talk to one Auth0 tenant."""

    issuer_url: str  # e.g. https://tenant.eu.auth0.com (no trailing slash)
    management_url: str
    client_id: str
    client_secret: str
    cache_seconds: int = 60
    refresh_interval: int = 10
    reauth_max_age: int = 300
    link_connections: tuple[str, ...] = ()
    require_verified_email: bool = True
    connect_timeout: float = 3.05
    read_timeout: float = 10.0
    dev_tenant: bool = False
    offer_delete_separated: bool = False
    delete_separated_mode: str = "client"  # "client": the user's own token; "server": M2M
    delete_separated_window: int = 600
    m2m_client_id: str = ""
    m2m_client_secret: str = ""
    # Per-connection display names and icons (same-origin paths), e.g. for enterprise logins.
    connection_names: Mapping[str, str] = field(default_factory=dict)
    connection_icons: Mapping[str, str] = field(default_factory=dict)

    @property
    def audience(self) -> str:
        """Return the Management API audience, which also names its base URL."""
        return f"{self.management_url}/api/v2/"

    @property
    def issuer_origin(self) -> str:
        """Return the tenant's origin, for a Content-Security-Policy's form-action."""
        parts = urlsplit(self.issuer_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer_url}/.well-known/openid-configuration"


def tenant_url(value: str) -> str:
    """Turn `AUTH0_DOMAIN`-style input into a base URL: a bare host means https.

    Plain http is allowed only for loopback hosts (a local development tenant).
    """
    value = value.strip()
    if "://" not in value:
        value = f"https://{value}"
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"{value!r} is not a host name or an http(s) URL")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"{value!r} must be a bare host, without a path")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ValueError(f"{value!r} uses plain http, which is allowed only for 127.0.0.1")
    return f"{parts.scheme}://{parts.netloc}"


def load_settings(
    config: Mapping[str, object], environ: Mapping[str, str] | None = None
) -> Settings:
    """Build Settings, or raise ConfigError listing every missing or invalid value."""
    environ = os.environ if environ is None else environ
    problems: list[str] = []

    def get(name: str) -> str:
        value = config.get(name)
        if value is None:
            value = environ.get(name, "")
        return str(value).strip()

    def url(name: str, default: str = "") -> str:
        raw = get(name) or default
        if not raw:
            problems.append(f"{name} is not set (your tenant's domain, e.g. example.eu.auth0.com)")
            return ""
        try:
            return tenant_url(raw)
        except ValueError as exc:
            problems.append(f"{name}: {exc}")
            return ""

    def flag(name: str) -> bool:
        return get(name).lower() in ("1", "true", "yes", "on")

    def number(name: str, default: float, cast=int):
        raw = get(name)
        if not raw:
            return default
        try:
            value = cast(raw)
        except ValueError:
            problems.append(f"{name} must be a number, got {raw!r}")
            return default
        if value < 0:
            problems.append(f"{name} must not be negative")
        return value

    def connections() -> dict[str, dict[str, str]]:
        raw = config.get("LINKED_ACCOUNTS_CONNECTIONS")
        if raw is None:
            try:
                raw = json.loads(environ.get("LINKED_ACCOUNTS_CONNECTIONS") or "{}")
            except ValueError:
                raw = None
        valid = isinstance(raw, Mapping) and all(
            isinstance(v, Mapping)
            and all(k in ("name", "icon") and isinstance(x, str) for k, x in v.items())
            and _same_origin_path(v.get("icon", "/"))
            for v in raw.values()
        )
        if not valid:
            problems.append(
                'LINKED_ACCOUNTS_CONNECTIONS must map connection names to {"name": ..., '
                '"icon": "/a/path/on/this/site.svg"} (icons are served by this site: the '
                "page loads nothing from elsewhere)"
            )
            return {}
        return {str(k): dict(v) for k, v in raw.items()}

    issuer = url("AUTH0_DOMAIN")
    management = url("AUTH0_MANAGEMENT_DOMAIN", get("AUTH0_DOMAIN")) if issuer else ""
    for name in ("AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET"):
        if not get(name):
            problems.append(f"{name} is not set (from your Auth0 application's settings)")
    custom = connections()
    settings = Settings(
        issuer_url=issuer,
        management_url=management,
        client_id=get("AUTH0_CLIENT_ID"),
        client_secret=get("AUTH0_CLIENT_SECRET"),
        cache_seconds=number("IDENTITIES_CACHE_SECONDS", 60),
        refresh_interval=number("REFRESH_MIN_INTERVAL", 10),
        reauth_max_age=number("REAUTH_MAX_AGE", 300),
        link_connections=tuple(c.strip() for c in get("LINK_CONNECTIONS").split(",") if c.strip()),
        require_verified_email=get("LINK_REQUIRE_VERIFIED_EMAIL").lower()
        not in ("0", "false", "no"),
        connect_timeout=number("AUTH0_CONNECT_TIMEOUT", 3.05, float),
        read_timeout=number("AUTH0_READ_TIMEOUT", 10.0, float),
        dev_tenant=flag("DEV_TENANT"),
        offer_delete_separated=flag("OFFER_DELETE_SEPARATED"),
        delete_separated_mode=get("DELETE_SEPARATED_MODE").lower() or "client",
        delete_separated_window=number("DELETE_SEPARATED_WINDOW", 600),
        m2m_client_id=get("AUTH0_M2M_CLIENT_ID"),
        m2m_client_secret=get("AUTH0_M2M_CLIENT_SECRET"),
        connection_names={k: v["name"] for k, v in custom.items() if "name" in v},
        connection_icons={k: v["icon"] for k, v in custom.items() if "icon" in v},
    )
    if settings.delete_separated_mode not in ("client", "server"):
        problems.append("DELETE_SEPARATED_MODE must be 'client' or 'server'")
    server_side = settings.offer_delete_separated and settings.delete_separated_mode == "server"
    if server_side and not (settings.m2m_client_id and settings.m2m_client_secret):
        problems.append(
            "DELETE_SEPARATED_MODE=server needs AUTH0_M2M_CLIENT_ID and "
            "AUTH0_M2M_CLIENT_SECRET (a machine-to-machine client with delete:users)"
        )
    if problems:
        raise ConfigError(problems)
    return settings


def _same_origin_path(value: str) -> bool:
    return value.startswith("/") and not value.startswith(("//", "/\\"))


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
