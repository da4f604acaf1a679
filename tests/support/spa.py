"""A single-page app's view of the JSON API: the browser's cookie session, JSON, and CSRF."""

from __future__ import annotations

from functools import cache

import requests
import schemathesis

from tests.support.visitor import Visitor

SPEC = "docs/openapi.yaml"


@cache
def schema():
    """The OpenAPI document the API promises to follow."""
    return schemathesis.openapi.from_path(SPEC)


class Spa:
    """Calls the API as a SPA's fetch() would, and checks every answer against the spec."""

    def __init__(self, visitor: Visitor):
        self.visitor = visitor
        self.api = visitor.base + "/account/api"

    def call(
        self,
        method: str,
        path: str,
        json: dict | None = None,
        *,
        csrf: str | None = "auto",
        **params: str,
    ) -> requests.Response:
        headers = {"Accept": "application/json"}
        if method == "POST" and csrf:
            headers["X-CSRFToken"] = self.csrf_token() if csrf == "auto" else csrf
        response = self.visitor.http.request(
            method,
            self.api + path,
            json=json,
            params=params or None,
            headers=headers,
            allow_redirects=False,
            timeout=15,
        )
        schema()["/api" + path][method].validate_response(response)
        return response

    def csrf_token(self) -> str:
        return self.call("GET", "/session").json()["csrf_token"]

    def follow(self, url: str) -> requests.Response:
        """Send the browser where the API said (`redirect_to`), as `location.assign` would."""
        return self.visitor.http.get(requests.compat.urljoin(self.visitor.base, url), timeout=15)
