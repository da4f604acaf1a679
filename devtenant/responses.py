"""Responses shared by the OIDC endpoints: no-store pages, error pages, redirects, OAuth errors."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Response, jsonify, make_response, redirect, render_template


def error_page(message: str, status: int = 400, title: str = "Request rejected") -> Response:
    """An HTML error page (used when redirecting back would be unsafe)."""
    html = render_template("devtenant/error.html", title=title, message=message, status=status)
    return page(html, status)


def page(html: str, status: int = 200) -> Response:
    """An HTML response that must not be cached (it may carry transaction ids)."""
    response = make_response(html, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def redirect_with(uri: str, params: dict[str, Any]) -> Response:
    """A 302 to uri with params added to its query (None values left out)."""
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(k, str(v)) for k, v in params.items() if v is not None]
    return redirect(urlunsplit(parts._replace(query=urlencode(query))), code=302)


def oauth_error(status: int, error: str, description: str) -> Response:
    """A token-endpoint style JSON error."""
    response = jsonify({"error": error, "error_description": description})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response
