"""A machine-to-machine Management API token (client-credentials grant), for two server-side
needs, each with an instance (and token) of its own: deleting an account the user has just
separated, on tenants that do not grant users `delete:current_user`; and finding the accounts with
the user's email for link suggestions (`read:users` only). Nothing else acts with them."""

from __future__ import annotations

import threading
import time

import requests

from .management import BadResponse, send


class ClientCredentials:
    """Fetches and caches one M2M token until shortly before it expires. Thread-safe."""

    # Renew this long before expiry, so a token never dies between fetching and using it.
    MARGIN = 60.0

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        audience: str,
        *,
        http: requests.Session,
        timeout: tuple[float, float],
        scope: str | None = None,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.audience = audience
        self.http = http
        self.timeout = timeout
        self.scope = scope  # None: every scope the client is granted
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0

    def token(self) -> str:
        """Return a valid token, fetching one when none is cached or it is about to expire."""
        with self._lock:
            if self._token is None or time.time() >= self._expires_at - self.MARGIN:
                self._token, lifetime = self._fetch()
                self._expires_at = time.time() + lifetime
            return self._token

    def _fetch(self) -> tuple[str, float]:
        data = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "audience": self.audience,
        }
        if self.scope:
            data["scope"] = self.scope
        body = send(self.http, "POST", self.token_url, "m2m token", timeout=self.timeout, data=data)
        try:
            return str(body["access_token"]), float(body.get("expires_in") or 0)
        except (KeyError, TypeError, ValueError) as exc:
            raise BadResponse("token response is not Auth0's JSON") from exc
