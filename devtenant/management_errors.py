"""Auth0's Management API error bodies."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import Response, jsonify

from devtenant.store import LinkError


def api_error(status: int, message: str, error_code: str | None = None, **extra: Any) -> Response:
    """Auth0's Management API error body."""
    body: dict[str, Any] = {
        "statusCode": status,
        "error": HTTPStatus(status).phrase,
        "message": message,
    }
    if error_code:
        body["errorCode"] = error_code
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    return response


def unauthorized(message: str) -> Response:
    """Auth0's 401 body (it has attributes and no errorCode)."""
    return api_error(401, message, attributes={"error": message})


def link_error(exc: LinkError) -> Response:
    """The Auth0 response for a refused link/unlink."""
    return api_error(exc.status, exc.message, exc.error_code)
