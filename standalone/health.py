"""Liveness and readiness: /healthz (the process answers) and /readyz (it can serve users).

Readiness asks the two things every signed-in page needs: the session store and Auth0. A load
balancer stops sending traffic to an instance that is not ready, and resumes when it is.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, Flask, current_app, jsonify

from linked_accounts.state import EXTENSION

# Short on purpose: a probe that hangs is worse than one that says "not ready".
PROBE_TIMEOUT = (1.0, 2.0)

bp = Blueprint("health", __name__)


@dataclass(frozen=True)
class Check:
    """The outcome of one dependency check; `error` names the failure, never its details."""

    ok: bool
    ms: float
    error: str | None = None

    def as_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"ok": self.ok, "ms": round(self.ms, 1)}
        if self.error:
            body["error"] = self.error
        return body


def timed(probe: Callable[[], None]) -> Check:
    """Run `probe`; any exception means the dependency is not usable right now."""
    started = time.perf_counter()
    try:
        probe()
    except Exception as exc:  # every failure means "not ready", whatever its kind
        return Check(False, (time.perf_counter() - started) * 1000, type(exc).__name__)
    return Check(True, (time.perf_counter() - started) * 1000)


def check_session_store(app: Flask) -> Check:
    """PING Redis, or write and delete a probe entry in the file store."""

    def probe() -> None:
        if app.config.get("SESSION_TYPE") == "redis":
            app.config["SESSION_REDIS"].ping()
            return
        cache = app.config["SESSION_CACHELIB"]
        # cachelib reports a failed write by returning False, not by raising.
        if not cache.set("readyz-probe", "1", timeout=30):
            raise OSError("session store is not writable")
        cache.delete("readyz-probe")

    return timed(probe)


def check_auth0(app: Flask) -> Check:
    """GET the tenant's OpenID discovery document, over the Management API's pooled session.

    Authlib keeps the metadata forever once loaded, so asking it would say nothing about now.
    """
    state = app.extensions[EXTENSION]

    def probe() -> None:
        response = state.management.http.get(state.settings.metadata_url, timeout=PROBE_TIMEOUT)
        response.raise_for_status()

    return timed(probe)


def readiness(app: Flask) -> tuple[bool, dict[str, Check]]:
    """Run every readiness check; ready only if all pass."""
    checks = {"sessions": check_session_store(app), "auth0": check_auth0(app)}
    return all(c.ok for c in checks.values()), checks


@bp.get("/healthz")
def healthz():
    """Say the process is up; touch nothing else, so a slow dependency never restarts it."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    """Say whether sessions and Auth0 are reachable: 200 when ready, 503 when not."""
    ready, checks = readiness(current_app._get_current_object())  # type: ignore[attr-defined]
    body = {
        "status": "ready" if ready else "unavailable",
        "checks": {name: check.as_dict() for name, check in checks.items()},
    }
    return jsonify(body), 200 if ready else 503, {"Cache-Control": "no-store"}
