"""Small helpers for talking to the development tenant's Management API in tests."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

import requests

from tests.support.tenant import (  # noqa: F401  (re-exported)
    ADA,
    ADA_SAML,
    BEN,
    EVE,
    GRACE,
    LINUS,
    MAYA,
    MAYA_GITHUB,
    MAYA_LOOKALIKE,
)


def claims(jwt: str) -> dict[str, Any]:
    """A JWT's payload, unverified (tests check what the tenant put in it)."""
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def header(jwt: str) -> dict[str, Any]:
    """A JWT's header, unverified."""
    head = jwt.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))


def unsigned_jwt(payload: dict[str, Any]) -> str:
    """An alg=none JWT carrying payload (which a strict verifier must refuse)."""

    def encode(part: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()

    return f"{encode({'alg': 'none', 'typ': 'JWT'})}.{encode(payload)}."


def auth(token: str) -> dict[str, str]:
    """The Authorization header for a bearer token."""
    return {"Authorization": f"Bearer {token}"}


def user_url(tenant: str, user_id: str) -> str:
    """/api/v2/users/{id} with the id percent-encoded as a whole segment."""
    return f"{tenant}/api/v2/users/{quote(user_id, safe='')}"


def identity_url(tenant: str, user_id: str, provider: str, secondary: str | int) -> str:
    """/api/v2/users/{id}/identities/{provider}/{user_id}, every segment encoded."""
    return (
        f"{user_url(tenant, user_id)}/identities/"
        f"{quote(provider, safe='')}/{quote(str(secondary), safe='')}"
    )


def m2m_token(tenant: str, scope: str | None = None) -> str:
    """A client_credentials token for the default m2m client."""
    data = {
        "grant_type": "client_credentials",
        "client_id": "dev-m2m",
        "client_secret": "dev-m2m-secret",
        "audience": f"{tenant}/api/v2/",
    }
    if scope:
        data["scope"] = scope
    response = http.post(f"{tenant}/oauth/token", data=data, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def stored_user(tenant: str, user_id: str) -> requests.Response:
    """The tenant's real state for one user (GET /__dev/users/<id>)."""
    return http.get(f"{tenant}/__dev/users/{quote(user_id, safe='')}", timeout=5)


class _Http:
    """requests' module-level verbs with a default timeout (no cookies carried between calls)."""

    def __init__(self, timeout: float = 10) -> None:
        self.timeout = timeout

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """requests.request with the default timeout."""
        timeout = kwargs.pop("timeout", self.timeout)
        return requests.request(method, url, timeout=timeout, **kwargs)

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        """GET."""
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        """POST."""
        return self.request("POST", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> requests.Response:
        """DELETE."""
        return self.request("DELETE", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> requests.Response:
        """PATCH."""
        return self.request("PATCH", url, **kwargs)


http = _Http()
