"""Registered applications (clients) and the redirect/logout URL rules Auth0 applies to them."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
PUBLIC_TYPES = ("spa", "native")

DEFAULT_CLIENTS: list[dict[str, Any]] = [
    {
        "client_id": "dev-client",
        "client_secret": "dev-client-secret",  # noqa: S105 - a published development secret
        "name": "Linked accounts (development)",
        "callbacks": [],
        "logout_urls": [],
        "allow_loopback": True,
        "app_type": "regular_web",
    },
    {
        "client_id": "dev-m2m",
        "client_secret": "dev-m2m-secret",  # noqa: S105 - a published development secret
        "app_type": "m2m",
        # The Actions scopes let `flask linked-accounts install-action` deploy and bind the
        # at-login Action here, as it would on a tenant with an M2M client granted them.
        "scopes": [
            "read:users",
            "delete:users",
            "update:users",
            "update:users_app_metadata",  # MERGE_APP_METADATA's merge
            "read:connections",  # CONNECTION_DISPLAY_NAMES: the administrator's names
            "read:actions",
            "create:actions",
            "update:actions",
            "delete:actions",
        ],
    },
]


@dataclass(frozen=True)
class Client:
    """One application registered with the tenant."""

    client_id: str
    client_secret: str
    name: str = ""  # as the Dashboard shows it (an Action's event.client.name)
    callbacks: tuple[str, ...] = ()
    logout_urls: tuple[str, ...] = ()
    allow_loopback: bool = False
    app_type: str = "regular_web"
    scopes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def public(self) -> bool:
        """Whether the client has no secret (a SPA or native app): it must use PKCE."""
        return self.app_type in PUBLIC_TYPES

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Client:
        """Build from the DEVTENANT_CLIENTS dict shape."""
        return cls(
            client_id=str(data["client_id"]),
            client_secret=str(data.get("client_secret") or ""),
            name=str(data.get("name") or data["client_id"]),
            callbacks=tuple(data.get("callbacks") or ()),
            logout_urls=tuple(data.get("logout_urls") or ()),
            allow_loopback=bool(data.get("allow_loopback", False)),
            app_type=str(data.get("app_type", "regular_web")),
            scopes=tuple(data.get("scopes") or ()),
        )

    def secret_matches(self, secret: str | None) -> bool:
        """Constant-time secret comparison (a public client has no secret to match)."""
        if self.public:
            return not secret
        return secret is not None and hmac.compare_digest(
            secret.encode("utf-8"), self.client_secret.encode("utf-8")
        )

    def allows_callback(self, url: str | None) -> bool:
        """Whether url is an allowed redirect_uri."""
        return self._allows(url, self.callbacks)

    def allows_logout(self, url: str | None) -> bool:
        """Whether url is an allowed returnTo / post_logout_redirect_uri."""
        return self._allows(url, self.logout_urls)

    def _allows(self, url: str | None, listed: tuple[str, ...]) -> bool:
        """Exact match to the list, or any http loopback URL when allow_loopback is on."""
        if not url:
            return False
        if url in listed:
            return True
        if not self.allow_loopback:
            return False
        try:
            parts = urlsplit(url)
            host = parts.hostname
            parts.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError:
            return False
        return parts.scheme == "http" and host in LOOPBACK_HOSTS and not parts.username


def non_verifiable(url: str) -> bool:
    """Whether a callback is one Auth0 cannot verify: a loopback address or a custom scheme."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return True
    return parts.scheme not in ("http", "https") or parts.hostname in LOOPBACK_HOSTS


def load_clients(config: list[dict[str, Any]] | None) -> dict[str, Client]:
    """Clients by id, from DEVTENANT_CLIENTS or the defaults."""
    source = DEFAULT_CLIENTS if config is None else config
    return {c.client_id: c for c in (Client.from_dict(item) for item in source)}
