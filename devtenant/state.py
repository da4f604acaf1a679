"""Per-app tenant state (kept in app.extensions["devtenant"]); every mutable part is locked."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, request

from devtenant.actions_store import ActionsStore
from devtenant.clients import Client, load_clients
from devtenant.faults import FaultRegistry
from devtenant.keys import TenantKeys
from devtenant.ratelimit import RateLimiter, TokenBucket
from devtenant.scopes import WITHHELD_BY_DEFAULT
from devtenant.store import UserStore

# The tenant's second host name, modelling a custom domain: both are loopback, so one server
# answers at both, and a browser keeps separate cookies for each.
CUSTOM_DOMAIN = "localhost"
CANONICAL_HOST = "127.0.0.1"

SETTING_KEYS = {
    "latency": ("DEVTENANT_LATENCY", 0.0, float),
    # Auth0's current limits: one token bucket per tenant for the Management API's "all other
    # endpoints" group. Plans differ (Free about 2 calls a second; Essentials and Professional a
    # burst of 10 and 150 a minute; Enterprise a burst of 50 and 16 a second): the default is the
    # roomiest, which `make run` and the tests live with; tighten it to stage a plan.
    "rate_burst": ("DEVTENANT_RATE_BURST", 50, int),
    "rate_per_second": ("DEVTENANT_RATE_PER_SECOND", 16.0, float),
    # Auth0's 2019 docs also limited current-user tokens to 10 calls a minute per user; current
    # docs no longer list it, so it is off (0) unless a test stages it as a possible extra limit.
    "rate_limit": ("DEVTENANT_RATE_LIMIT", 0, int),
    # 1: Auth0's confirmation page for loopback callbacks (its default since 28 April 2026);
    # 0: the application opted out, as the tests' and `make run`'s loopback callbacks need.
    "loopback_confirmation": ("DEVTENANT_LOOPBACK_CONFIRMATION", 0, int),
    "access_token_lifetime": ("DEVTENANT_ACCESS_TOKEN_LIFETIME", 86400, int),
    "id_token_lifetime": ("DEVTENANT_ID_TOKEN_LIFETIME", 36000, int),
    "userinfo_rate_limit": ("DEVTENANT_USERINFO_RATE_LIMIT", 5, int),
}


def initial_settings(config: dict[str, Any]) -> dict[str, Any]:
    """Live-tunable settings, from the app config or their defaults."""
    return {
        name: cast(config.get(key, default)) for name, (key, default, cast) in SETTING_KEYS.items()
    }


@dataclass
class Stats:
    """Counters read by tests through GET /__dev/stats."""

    management_calls: dict[str, int] = field(default_factory=dict)
    management_connections: set[tuple[str, str]] = field(default_factory=set)
    token_requests: int = 0
    rate_limited: int = 0  # Management API calls refused with a 429 by a rate limit

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "management_calls": dict(self.management_calls),
            "management_calls_total": sum(self.management_calls.values()),
            "management_connections": len(self.management_connections),
            "token_requests": self.token_requests,
            "rate_limited": self.rate_limited,
        }


class TenantState:
    """Everything the tenant remembers between requests."""

    def __init__(self, config: dict[str, Any]) -> None:
        """Build fresh state from the app config; keys are generated here, in memory."""
        self.lock = threading.RLock()
        self.configured_issuer: str | None = config.get("DEVTENANT_ISSUER")
        if self.configured_issuer and not self.configured_issuer.endswith("/"):
            self.configured_issuer += "/"
        self.clients: dict[str, Client] = load_clients(config.get("DEVTENANT_CLIENTS"))
        self.keys = TenantKeys()
        self.store = UserStore()
        self.actions = ActionsStore(config)
        self.faults = FaultRegistry()
        self.bucket = TokenBucket()
        self.limiter = RateLimiter()
        self.userinfo_limiter = RateLimiter()
        self.default_settings = initial_settings(config)
        self.default_withheld = frozenset(
            config.get("DEVTENANT_WITHHELD_SCOPES", WITHHELD_BY_DEFAULT) or ()
        )
        self._clear()

    def _clear(self) -> None:
        """Volatile state back to empty (also used by reset)."""
        with self.lock:
            self.settings: dict[str, Any] = dict(self.default_settings)
            self.clock_offset = 0.0
            # Scopes user logins are not granted even when asked for (POST /__dev/scopes).
            self.withheld_scopes: frozenset[str] = self.default_withheld
            # Why Auth0 answers access_denied (POST /__dev/refusals): clients with no client
            # grant for the Management API, and the reason a post-login Action denies logins.
            self.ungranted_clients: frozenset[str] = frozenset()
            self.action_denial: str | None = None
            self.logout_requests: dict[str, dict[str, Any]] = {}  # awaiting confirmation
            self.sso_sessions: dict[str, dict[str, Any]] = {}
            self.transactions: dict[str, dict[str, Any]] = {}
            # Logins a post-login Action redirected, by the state /continue resumes them with.
            self.suspended: dict[str, dict[str, Any]] = {}
            self.codes: dict[str, dict[str, Any]] = {}
            self.opaque_tokens: dict[str, dict[str, Any]] = {}
            self.stats = Stats()

    def reset(self) -> None:
        """Reseed users; clear sessions, codes, suspended logins, the Actions made through the API
        and their cache, faults, limits, stats, clock and settings."""
        self.store.reset()
        self.actions.clear()
        self.faults.clear()
        self.bucket.clear()
        self.limiter.clear()
        self.userinfo_limiter.clear()
        self._clear()

    def now(self) -> float:
        """The tenant's clock: real time plus the offset tests may set."""
        return time.time() + self.clock_offset

    def at_custom_domain(self) -> bool:
        """Whether this request came in at the custom domain rather than the canonical host."""
        return urlsplit(request.url_root).hostname == CUSTOM_DOMAIN

    def issuer(self) -> str:
        """The issuer of this request's host, with a trailing slash: like Auth0, each domain
        issues tokens in its own name (the canonical one may have a configured issuer)."""
        if self.at_custom_domain():
            return request.url_root
        return self.configured_issuer or request.url_root

    def canonical_issuer(self) -> str:
        """The tenant's canonical domain, whichever host this request came in at."""
        if self.configured_issuer:
            return self.configured_issuer
        parts = urlsplit(request.url_root)
        if self.at_custom_domain():
            port = f":{parts.port}" if parts.port else ""
            parts = parts._replace(netloc=f"{CANONICAL_HOST}{port}")
        return parts.geturl()

    def api_audience(self) -> str:
        """The Management API audience: always named by the canonical domain."""
        return f"{self.canonical_issuer()}api/v2/"


def tenant() -> TenantState:
    """The state of the app handling this request."""
    return current_app.extensions["devtenant"]
