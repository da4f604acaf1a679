"""Injected faults: delays, error statuses, malformed bodies and dropped connections."""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import threading
import time
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from flask import Response

ENDPOINTS = (
    "get_user",
    "delete_identity",
    "link_identity",
    "delete_user",
    "update_user",
    "users_by_email",
    "connections",
    "token",
    "authorize",
    "discovery",
    "jwks",
    "userinfo",
)


class FaultSpecError(ValueError):
    """A POST /__dev/faults body that does not describe a fault."""


@dataclass
class Fault:
    """One fault rule; `times` None means until cleared."""

    id: int
    endpoint: str
    status: int | None = None
    body: Any = None
    headers: dict[str, str] | None = None
    delay: float = 0.0
    drop: bool = False
    malformed: bool = False
    after: bool = False
    times: int | None = None
    skip: int = 0  # calls to let through first (to fail, say, the second of two PATCHes)

    @property
    def replaces(self) -> bool:
        """Whether the fault answers instead of the real response (not just a delay)."""
        return self.status is not None or self.body is not None or self.drop or self.malformed

    def as_dict(self) -> dict[str, Any]:
        """JSON form for the admin API."""
        return dict(self.__dict__)


def parse_fault(data: Any, fault_id: int) -> Fault:
    """Validate a fault spec from JSON."""
    if not isinstance(data, dict):
        raise FaultSpecError("body must be a JSON object")
    endpoint = data.get("endpoint")
    if endpoint != "*" and endpoint not in ENDPOINTS:
        raise FaultSpecError(f"endpoint must be one of {', '.join(ENDPOINTS)} or *")
    status = data.get("status")
    if status is not None and (not isinstance(status, int) or not 100 <= status <= 599):
        raise FaultSpecError("status must be an HTTP status code")
    times = data.get("times")  # absent or null: until cleared
    if times is not None and (not isinstance(times, int) or times < 1):
        raise FaultSpecError("times must be a positive integer or null")
    headers = data.get("headers") or {}
    if not isinstance(headers, dict):
        raise FaultSpecError("headers must be an object")
    try:
        delay = float(data.get("delay") or 0)
    except (TypeError, ValueError) as exc:
        raise FaultSpecError("delay must be a number") from exc
    skip = data.get("skip", 0)
    if not isinstance(skip, int) or skip < 0:
        raise FaultSpecError("skip must be a whole number")
    return Fault(
        id=fault_id,
        endpoint=endpoint,
        status=status,
        body=data.get("body"),
        headers={str(k): str(v) for k, v in headers.items()},
        delay=max(0.0, delay),
        drop=bool(data.get("drop", False)),
        malformed=bool(data.get("malformed", False)),
        after=bool(data.get("after", False)),
        times=times,
        skip=skip,
    )


class FaultRegistry:
    """Active faults, consumed in the order they were added."""

    def __init__(self) -> None:
        """No faults."""
        self.lock = threading.Lock()
        self.faults: list[Fault] = []
        self.ids = itertools.count(1)

    def add(self, data: Any) -> Fault:
        """Parse and register a fault."""
        with self.lock:
            fault = parse_fault(data, next(self.ids))
            self.faults.append(fault)
            return fault

    def clear(self) -> None:
        """Remove every fault."""
        with self.lock:
            self.faults.clear()

    def list(self) -> list[dict[str, Any]]:
        """Active faults as JSON."""
        with self.lock:
            return [f.as_dict() for f in self.faults]

    def take(self, endpoint: str | None) -> Fault | None:
        """The first fault for this endpoint, counting one use of it."""
        if endpoint is None:
            return None
        with self.lock:
            for fault in self.faults:
                if fault.endpoint in ("*", endpoint):
                    if fault.skip:
                        fault.skip -= 1
                        return None  # this call goes through as it would without the fault
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self.faults.remove(fault)
                    return fault
        return None


def fault_response(fault: Fault) -> Response:
    """The response a replacing fault sends (drop is handled by `drop_connection`)."""
    status = fault.status if fault.status is not None else 200
    if fault.malformed:
        # Truncated JSON: the client must cope with a body that does not parse.
        response = Response('{"statusCode": ' + str(status) + ', "error": "Inter', status=status)
        response.headers["Content-Type"] = "application/json"
    else:
        body = fault.body
        if body is None:
            phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
            body = {"statusCode": status, "error": phrase, "message": "Injected fault"}
        response = Response(json.dumps(body), status=status, mimetype="application/json")
    for name, value in (fault.headers or {}).items():
        response.headers[name] = value
    return response


def drop_connection(environ: dict[str, Any]) -> Response:
    """Shut the client's TCP connection so it gets no response at all."""
    sock = environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        # After shutdown, werkzeug's own write of the response fails with a ConnectionError,
        # which it treats as a client that went away, so nothing at all reaches the client.
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    # Werkzeug writes nothing useful after this; the body is never seen by the client.
    response = Response(b"", status=500)
    response.headers["Connection"] = "close"
    return response


def sleep(seconds: float) -> None:
    """Sleep for an injected delay."""
    if seconds > 0:
        time.sleep(seconds)
