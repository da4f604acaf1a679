"""The extension's configuration: one table of keys in `app.config`, checked once at start-up.

The extension reads `app.config` only, never the environment: a host maps its environment onto
config itself (the standalone `app.py` does). The tenant's own values keep Auth0's short names
(`AUTH0_*`); everything else the extension owns is `LINKED_ACCOUNTS_*`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .i18n import DEFAULT_PROVIDER_NAME, lazy_gettext, shipped_locales

# Host names that are this machine, whatever they resolve to; any loopback IP address is too
# (`is_loopback`). Plain http is accepted only for these.
LOOPBACK_NAMES = frozenset({"localhost"})

# Every key the extension owns, with its default. `init_app` setdefaults them all, so a host can
# read the effective value of any of them from `app.config`.
DEFAULTS: Mapping[str, Any] = {
    "AUTH0_DOMAIN": "",  # required: the domain people sign in at (a custom domain, if any)
    "AUTH0_CLIENT_ID": "",  # required
    "AUTH0_CLIENT_SECRET": "",  # required
    # The tenant's canonical domain ({tenant}.auth0.com), which names the Management API's
    # audience only; calls still go to AUTH0_DOMAIN (default: AUTH0_DOMAIN).
    "AUTH0_MANAGEMENT_DOMAIN": "",
    "AUTH0_CONNECT_TIMEOUT": 3.05,
    "AUTH0_READ_TIMEOUT": 10.0,
    "AUTH0_M2M_CLIENT_ID": "",  # only for LINKED_ACCOUNTS_DELETE_SEPARATED_MODE = "server"
    "AUTH0_M2M_CLIENT_SECRET": "",
    "LINKED_ACCOUNTS_CACHE_SECONDS": 60,
    # The ID token claim the post-login Action puts the person's identities in (its
    # IDENTITIES_CLAIM secret), e.g. "https://linked-accounts/identities": the first view after
    # a sign-in then reads no Management API. Empty: the claim is not read.
    "LINKED_ACCOUNTS_IDENTITIES_CLAIM": "",
    "LINKED_ACCOUNTS_REFRESH_MIN_INTERVAL": 10,
    "LINKED_ACCOUNTS_REAUTH_MAX_AGE": 300,
    "LINKED_ACCOUNTS_LINK_CONNECTIONS": (),  # a sequence, or a comma-separated string
    "LINKED_ACCOUNTS_LINK_REQUIRE_VERIFIED_EMAIL": True,
    "LINKED_ACCOUNTS_OFFER_DELETE_SEPARATED": False,
    "LINKED_ACCOUNTS_DELETE_SEPARATED_MODE": "client",  # or "server" (M2M)
    "LINKED_ACCOUNTS_DELETE_SEPARATED_WINDOW": 600,
    "LINKED_ACCOUNTS_CONNECTIONS": {},  # {"acme-saml": {"name": "Acme SSO", "icon": "/..."}}
    # Name connections as the tenant's administrator did (their display names at Auth0), where
    # LINKED_ACCOUNTS_CONNECTIONS names none: the M2M client needs read:connections.
    "LINKED_ACCOUNTS_CONNECTION_DISPLAY_NAMES": False,
    "LINKED_ACCOUNTS_SMTP_URL": "",  # security emails after every change
    "LINKED_ACCOUNTS_SMTP_FROM": "",
    "LINKED_ACCOUNTS_DEV_TENANT": False,  # shows the development tenant's banner
    "LINKED_ACCOUNTS_BASE_TEMPLATE": "linked_accounts/base.html",
    # Whether the pages also show the host's flashed messages (`get_flashed_messages()`) beside
    # their own outcomes. Off: a host layout shows its flashes itself, as nearly every Flask
    # layout does, and each message appears once. On for a layout that shows none. The default
    # layout shows none, so in it the pages always do.
    "LINKED_ACCOUNTS_SHOW_FLASHES": False,
    "LINKED_ACCOUNTS_LOGO_URL": None,
    "LINKED_ACCOUNTS_APP_NAME": lazy_gettext("Your account"),  # in the page's language
    # What end users are told they sign in at, e.g. "Acme ID" (or "Auth0", if the host wants the
    # vendor named). Messages use it after a preposition ("at ...", German "bei ..."), so a
    # phrase must read there; the default is in the page's language.
    "LINKED_ACCOUNTS_PROVIDER_NAME": DEFAULT_PROVIDER_NAME,
    # Host sign-in mode: where the default layout's "Back to <app name>" link goes ("" = none).
    "LINKED_ACCOUNTS_HOME_URL": "",
    # Where people reach this site's support (an https:// page or a mailto: address): linked
    # where the pages tell them to turn to support, e.g. about an account that is not theirs.
    # Empty: the pages say "contact this site's support" without a link.
    "LINKED_ACCOUNTS_SUPPORT_URL": "",
    "LINKED_ACCOUNTS_LOCALES": shipped_locales(),  # every catalog shipped, English first
    "LINKED_ACCOUNTS_LOCALE_SELECTOR": None,  # a callable returning a locale, or None
    # Seconds a session lasts from its start, however active (sessions.init_sessions, which a
    # host calls first, reads it; unset there, its default is this one).
    "LINKED_ACCOUNTS_SESSION_MAX_AGE": 8 * 3600,
}


# What a support link may be: a page or an email address, never a script.
SUPPORT_SCHEMES = ("https", "http", "mailto")


class ConfigError(Exception):
    """Start-up settings are missing or wrong; `problems` names every one of them at once."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(
            "Cannot start: fix these settings:\n" + "\n".join(f"  - {p}" for p in problems)
        )


@dataclass(frozen=True)
class Settings:
    """Everything the extension needs to talk to one Auth0 tenant."""

    issuer_url: str  # where people sign in, e.g. https://login.example.com (no trailing slash)
    canonical_url: str  # the tenant's own https://tenant.eu.auth0.com: names the audience only
    client_id: str
    client_secret: str
    cache_seconds: int = 60
    identities_claim: str = ""
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
    smtp_url: str = ""
    smtp_from: str = ""
    support_url: str = ""
    connection_display_names: bool = False  # read the tenant's display names (M2M)
    # Per-connection display names and icons (same-origin paths), e.g. for enterprise logins.
    connection_names: Mapping[str, str] = field(default_factory=dict)
    connection_icons: Mapping[str, str] = field(default_factory=dict)

    @property
    def audience(self) -> str:
        """Return the Management API audience: always the tenant's canonical identifier."""
        return f"{self.canonical_url}/api/v2/"

    @property
    def api_url(self) -> str:
        """Return where Management API calls go: the sign-in domain, because Auth0 rejects a
        token issued at a custom domain when it is presented at the canonical host."""
        return self.issuer_url

    @property
    def timeout(self) -> tuple[float, float]:
        """Return (connect, read) seconds for every call to Auth0."""
        return (self.connect_timeout, self.read_timeout)

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
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ValueError(f"{value!r} uses plain http, which is allowed only for 127.0.0.1")
    return f"{parts.scheme}://{parts.netloc}"


def load_settings(config: Mapping[str, Any], *checks: Check) -> Settings:
    """Build Settings from `config`, or raise ConfigError listing every missing or invalid value,
    those the optional features' `checks` name included (one start-up message names them all).

    Values may be typed (`60`, `True`, a list) or strings as an environment gives them.
    """
    problems: list[str] = []

    def get(name: str) -> Any:
        return config.get(name, DEFAULTS.get(name))

    def text(name: str) -> str:
        value = get(name)
        return "" if value is None else str(value).strip()

    def url(name: str, default: str = "") -> str:
        raw = text(name) or default
        if not raw:
            problems.append(f"{name} is not set (your tenant's domain, e.g. example.eu.auth0.com)")
            return ""
        try:
            return tenant_url(raw)
        except ValueError as exc:
            reason = str(exc)
            if "/api/v2" in raw:  # the audience pasted where its domain belongs
                host = urlsplit(raw if "://" in raw else f"https://{raw}").hostname
                reason = f"give the domain only (e.g. {host}), not the API's URL"
            problems.append(f"{name}: {reason}")
            return ""

    def number(name: str, cast=int):
        value = get(name)
        if isinstance(value, str) and not value.strip():
            value = DEFAULTS[name]
        try:
            number = cast(value)
        except (TypeError, ValueError):
            problems.append(f"{name} must be a number, got {value!r}")
            return DEFAULTS[name]
        if number < 0:
            problems.append(f"{name} must not be negative")
        return number

    def names(name: str) -> tuple[str, ...]:
        value = get(name) or ()
        items = value.split(",") if isinstance(value, str) else value
        return tuple(str(c).strip() for c in items if str(c).strip())

    def connections() -> dict[str, dict[str, str]]:
        raw = get("LINKED_ACCOUNTS_CONNECTIONS")
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
    canonical = url("AUTH0_MANAGEMENT_DOMAIN", text("AUTH0_DOMAIN")) if issuer else ""
    if issuer and canonical and _swapped_domains(issuer, canonical):
        problems.append(
            "AUTH0_DOMAIN and AUTH0_MANAGEMENT_DOMAIN look swapped: AUTH0_DOMAIN is where people "
            "sign in (your custom domain), AUTH0_MANAGEMENT_DOMAIN your tenant's own "
            f"*.auth0.com domain (got {urlsplit(canonical).hostname})"
        )
    for name in ("AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET"):
        if not text(name):
            problems.append(f"{name} is not set (from your Auth0 application's settings)")
    custom = connections()
    settings = Settings(
        issuer_url=issuer,
        canonical_url=canonical,
        client_id=text("AUTH0_CLIENT_ID"),
        client_secret=text("AUTH0_CLIENT_SECRET"),
        cache_seconds=number("LINKED_ACCOUNTS_CACHE_SECONDS"),
        identities_claim=text("LINKED_ACCOUNTS_IDENTITIES_CLAIM"),
        refresh_interval=number("LINKED_ACCOUNTS_REFRESH_MIN_INTERVAL"),
        reauth_max_age=number("LINKED_ACCOUNTS_REAUTH_MAX_AGE"),
        link_connections=names("LINKED_ACCOUNTS_LINK_CONNECTIONS"),
        require_verified_email=flag(get("LINKED_ACCOUNTS_LINK_REQUIRE_VERIFIED_EMAIL"), True),
        connect_timeout=number("AUTH0_CONNECT_TIMEOUT", float),
        read_timeout=number("AUTH0_READ_TIMEOUT", float),
        dev_tenant=flag(get("LINKED_ACCOUNTS_DEV_TENANT")),
        offer_delete_separated=flag(get("LINKED_ACCOUNTS_OFFER_DELETE_SEPARATED")),
        delete_separated_mode=text("LINKED_ACCOUNTS_DELETE_SEPARATED_MODE").lower() or "client",
        delete_separated_window=number("LINKED_ACCOUNTS_DELETE_SEPARATED_WINDOW"),
        m2m_client_id=text("AUTH0_M2M_CLIENT_ID"),
        m2m_client_secret=text("AUTH0_M2M_CLIENT_SECRET"),
        smtp_url=text("LINKED_ACCOUNTS_SMTP_URL"),
        smtp_from=text("LINKED_ACCOUNTS_SMTP_FROM"),
        support_url=text("LINKED_ACCOUNTS_SUPPORT_URL"),
        connection_display_names=flag(get("LINKED_ACCOUNTS_CONNECTION_DISPLAY_NAMES")),
        connection_names={k: v["name"] for k, v in custom.items() if "name" in v},
        connection_icons={k: v["icon"] for k, v in custom.items() if "icon" in v},
    )
    if settings.delete_separated_mode not in ("client", "server"):
        problems.append("LINKED_ACCOUNTS_DELETE_SEPARATED_MODE must be 'client' or 'server'")
    server_side = settings.offer_delete_separated and settings.delete_separated_mode == "server"
    if server_side and not (settings.m2m_client_id and settings.m2m_client_secret):
        problems.append(
            "LINKED_ACCOUNTS_DELETE_SEPARATED_MODE=server needs AUTH0_M2M_CLIENT_ID and "
            "AUTH0_M2M_CLIENT_SECRET (a machine-to-machine client with delete:users)"
        )
    if settings.connection_display_names and not (
        settings.m2m_client_id and settings.m2m_client_secret
    ):
        problems.append(
            "LINKED_ACCOUNTS_CONNECTION_DISPLAY_NAMES needs AUTH0_M2M_CLIENT_ID and "
            "AUTH0_M2M_CLIENT_SECRET (a machine-to-machine client with read:connections: no "
            "user token can read the connections)"
        )
    if settings.smtp_url and urlsplit(settings.smtp_url).scheme not in ("smtp", "smtps"):
        problems.append("LINKED_ACCOUNTS_SMTP_URL must look like smtp://host:port or smtps://...")
    if settings.support_url and urlsplit(settings.support_url).scheme not in SUPPORT_SCHEMES:
        problems.append(
            "LINKED_ACCOUNTS_SUPPORT_URL must be an https:// (or http://) address or a mailto: one"
        )
    for check in checks:
        problems.extend(check(config))
    if problems:
        raise ConfigError(problems)
    return settings


# An optional feature's check of its own config keys: the problems found (none: an empty list).
Check = Callable[[Mapping[str, Any]], list[str]]

TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off"})


def flag(value: Any, default: bool = False) -> bool:
    """A config switch as a bool, the one reading of a boolean setting: typed (`True`), or a
    string as an environment gives it. A string that is neither on ("1", "true", "yes", "on") nor
    off ("0", "false", "no", "off"), an empty one included, keeps the switch's `default`: a
    protection that is on by default is turned off only by saying so."""
    if value is None:
        return default
    if isinstance(value, str):
        word = value.strip().lower()
        return True if word in TRUE else False if word in FALSE else default
    return bool(value)


def _swapped_domains(issuer: str, canonical: str) -> bool:
    """Tell whether a canonical *.auth0.com domain was given as the sign-in domain and another
    (custom) domain as the canonical one: that audience would be "Service not found"."""
    login, api = urlsplit(issuer).hostname or "", urlsplit(canonical).hostname or ""
    return login.endswith(".auth0.com") and not api.endswith(".auth0.com")


def _same_origin_path(value: str) -> bool:
    return value.startswith("/") and not value.startswith(("//", "/\\"))


def is_loopback(host: str) -> bool:
    """Tell whether `host` (a name or an IP address) is this machine."""
    host = host.lower().strip("[]")
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
