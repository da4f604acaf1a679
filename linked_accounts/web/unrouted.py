"""Styled answers for addresses under the extension's prefix that lead nowhere (404) or do not
take that method (405): the extension's own page (JSON under its API), not Flask's bare one.

Routing fails before any blueprint is chosen, so these are app-wide handlers that answer only
under the prefix; anywhere else the host's own handler (registered before us) answers, or
Flask's default does. A host handler registered after us wins everywhere: the host's choice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from ..i18n import _
from ..refusals import Refusal
from .templating import render


def not_found() -> Refusal:
    return Refusal(
        "not_found",
        _("Page not found"),
        _("There is no page at this address. It may have moved, or the link may be incomplete."),
        404,
    )


def method_not_allowed() -> Refusal:
    return Refusal(
        "method_not_allowed",
        _("This page cannot be used this way"),
        _(
            "This address cannot be used like that, for example because a form was sent to a "
            "page that only shows things. Nothing was changed."
        ),
        405,
    )


def register(app: Flask, url_prefix: str, api_prefix: str) -> None:
    """Answer 404 and 405 under `url_prefix` with the extension's page (JSON under
    `api_prefix`), keeping whatever the host answered elsewhere."""
    prefix, api = url_prefix.rstrip("/"), api_prefix.rstrip("/")

    def under(path: str, root: str) -> bool:
        return not root or path == root or path.startswith(f"{root}/")

    for exception, refusal in ((NotFound, not_found), (MethodNotAllowed, method_not_allowed)):
        host = _host_handler(app, exception)

        def answer(error: HTTPException, refusal=refusal, host=host):
            if not under(request.path, prefix):
                return host(error) if host else error
            failure = refusal()
            headers = {}
            if isinstance(error, MethodNotAllowed) and error.valid_methods:
                headers["Allow"] = ", ".join(error.valid_methods)
            if under(request.path, api):
                body = {"error": {"code": failure.code, "message": failure.message}}
                return jsonify(body), failure.status, headers
            page = render("linked_accounts/error.html", failure=failure)
            return page, failure.status, headers

        app.register_error_handler(exception, answer)


def _host_handler(app: Flask, exception: type[HTTPException]) -> Callable[[Any], Any] | None:
    """The app-wide handler the host registered for this error before us, if any."""
    handlers = app.error_handler_spec.get(None, {}).get(exception.code, {})
    return handlers.get(exception)
