"""Structured JSON logs with a request id, and a per-request access line and Server-Timing.

Every line is one JSON object carrying the request id of the request it was written in. URLs may
carry ids and OAuth codes in their query strings, so no line ever holds a query string, a cookie
or a token: the access line logs the path only, and `scrub` removes what slips into a message.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import sys
import time
from collections.abc import Callable, Iterable
from typing import IO, Any

from flask import Flask, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
ENVIRON_KEY = "linked_accounts.request_id"
# A proxy's id is kept only if it is short and plain, so it cannot forge log lines or headers.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@+=-]{8,128}")

access_log = logging.getLogger("linked_accounts.access")

_SCRUBS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?i)\bbearer\s+[^\s\"',]+"), "Bearer [redacted]"),
    (re.compile(r"\beyJ[\w-]+\.[\w-]+\.[\w-]*"), "[jwt redacted]"),
    (re.compile(r"(?i)\b((?:set-)?cookie:\s*)[^\n\"]+"), r"\1[redacted]"),
    (re.compile(r"(?i)\b(session=)[^;\s\"']+"), r"\1[redacted]"),
    (re.compile(r"(/[^\s?\"']*)\?[^\s\"']*"), r"\1"),  # query strings, e.g. ?code=...&state=...
]


def scrub(text: str) -> str:
    """Remove tokens, cookies and query strings from a log message."""
    for pattern, replacement in _SCRUBS:
        text = pattern.sub(replacement, text)
    return text


def current_request_id() -> str | None:
    """Return the id of the request being handled, if any."""
    if has_request_context():
        return request.environ.get(ENVIRON_KEY)
    return None


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and `extra` fields."""

    _STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
            "request_id": getattr(record, "request_id", None) or current_request_id(),
        }
        for key, value in vars(record).items():
            if key not in self._STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exc"] = scrub(self.formatException(record.exc_info))
        return json.dumps(line, default=str)


def json_handler(stream: IO[str] | None = None) -> logging.Handler:
    """Return a handler writing JSON lines to `stream` (stderr by default)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    return handler


def configure_logging(level: str | None = None) -> None:
    """Send every logger's records to stderr as JSON, once per process."""
    root = logging.getLogger()
    if any(getattr(h, "_linked_accounts_json", False) for h in root.handlers):
        return
    handler = json_handler()
    handler._linked_accounts_json = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel((level or os.environ.get("LOG_LEVEL") or "INFO").upper())
    # The development server's own request lines repeat ours, with the query string.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


def request_id_from(environ: dict[str, Any]) -> str:
    """Keep a sane incoming X-Request-ID (from a proxy), else make a new one."""
    incoming = environ.get("HTTP_X_REQUEST_ID", "")
    if SANE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return secrets.token_hex(16)


class RequestLog:
    """WSGI middleware: request id in and out, Server-Timing, and one access line per request.

    It wraps the whole Flask app, so its timing includes loading and saving the session.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        request_id = request_id_from(environ)
        environ[ENVIRON_KEY] = request_id
        started = time.perf_counter()

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            elapsed_ms = (time.perf_counter() - started) * 1000
            headers.append((REQUEST_ID_HEADER, request_id))
            headers.append(("Server-Timing", f"app;dur={elapsed_ms:.2f}"))
            access_log.info(
                "%s %s %s",
                environ.get("REQUEST_METHOD"),
                environ.get("PATH_INFO"),
                status.split(" ", 1)[0],
                extra={
                    "request_id": request_id,
                    "method": environ.get("REQUEST_METHOD"),
                    "path": environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""),
                    "status": int(status.split(" ", 1)[0]),
                    "duration_ms": round(elapsed_ms, 2),
                },
            )
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


def install_request_logging(app: Flask) -> None:
    """Log as JSON and give every request an id, echoed in the X-Request-ID response header."""
    configure_logging(app.config.get("LOG_LEVEL"))
    app.wsgi_app = RequestLog(app.wsgi_app)  # type: ignore[method-assign]
