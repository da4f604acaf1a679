"""Liveness and readiness: /healthz (the process answers) and /readyz (it can serve users).

Readiness asks the two things every signed-in page needs: the session store and Auth0. A load
balancer stops sending traffic to an instance that is not ready, and resumes when it is. The
answer is reused for a few seconds, so however often (or by whom) /readyz is asked, each process
calls Auth0 at most once a window; and it may be kept to holders of a token, or to loopback when
no proxy's forwarded address is trusted (behind a proxy, loopback-only keeps no one out).
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Blueprint, Flask, Request, current_app, jsonify, request
from werkzeug.middleware.proxy_fix import ProxyFix

from linked_accounts.settings import ConfigError, is_loopback
from linked_accounts.state import EXTENSION

# Short on purpose: a probe that hangs is worse than one that says "not ready".
PROBE_TIMEOUT = (1.0, 2.0)

# How long one readiness answer is reused: short enough for a load balancer probing every few
# seconds to see a failure on its next probe, long enough that no request rate reaches Auth0.
CACHE_SECONDS = 5.0

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


@dataclass
class Readiness:
    """How /readyz answers: who may ask (anyone, unless a token or loopback is required) and for
    how long one answer is reused."""

    token: str = ""
    loopback_only: bool = False
    cache_seconds: float = CACHE_SECONDS
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _last: tuple[float, bool, dict[str, Check]] | None = field(default=None, repr=False)

    def allows(self, req: Request) -> bool:
        """Tell whether `req` may read readiness: open unless restricted; then from loopback
        (READYZ_LOOPBACK_ONLY) or with `Authorization: Bearer <READYZ_TOKEN>`."""
        if not (self.token or self.loopback_only):
            return True
        if self.loopback_only and is_loopback(req.remote_addr or ""):
            return True
        given = req.headers.get("Authorization", "").encode()
        return bool(self.token) and hmac.compare_digest(given, f"Bearer {self.token}".encode())

    def answer(self, app: Flask) -> tuple[bool, dict[str, Check], float]:
        """Return readiness and its age in seconds, checked again only once the last answer is
        `cache_seconds` old, by one request at a time (the others wait for its answer)."""
        with self._lock:
            if self._last is None or time.monotonic() - self._last[0] >= self.cache_seconds:
                ready, checks = readiness(app)
                self._last = (time.monotonic(), ready, checks)
            at, ready, checks = self._last
        return ready, checks, time.monotonic() - at


def init_app(app: Flask, policy: Readiness | None = None) -> None:
    """Serve /healthz and /readyz, answering readiness as `policy` says.

    Raises ConfigError for loopback-only readiness behind a proxy the app trusts (TRUST_PROXY):
    the address it would check is then whatever the forwarded header says, so it keeps no one out.
    """
    policy = policy or Readiness()
    if policy.loopback_only and forwarded_for_trusted(app):
        raise ConfigError(
            [
                "READYZ_LOOPBACK_ONLY=1 protects nothing with TRUST_PROXY=1: the address it "
                "checks is the one the proxy forwards (a client can send 127.0.0.1), and behind "
                "a proxy on the same host every request comes from loopback. Set READYZ_TOKEN "
                "instead (the probe sends `Authorization: Bearer <token>`) and remove "
                "READYZ_LOOPBACK_ONLY"
            ]
        )
    app.extensions["readyz"] = policy
    app.register_blueprint(bp)


def forwarded_for_trusted(app: Flask) -> bool:
    """Tell whether the app takes the client's address from X-Forwarded-For: a ProxyFix with
    `x_for` anywhere in its WSGI middleware (each keeps the app it wraps as `.app`)."""
    layer, seen = app.wsgi_app, 0
    while layer is not None and seen < 20:
        if isinstance(layer, ProxyFix) and layer.x_for > 0:
            return True
        layer, seen = getattr(layer, "app", None), seen + 1
    return False


@bp.get("/healthz")
def healthz():
    """Say the process is up; touch nothing else, so a slow dependency never restarts it."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    """Say whether sessions and Auth0 are reachable: 200 when ready, 503 when not."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    settings: Readiness = app.extensions["readyz"]
    if not settings.allows(request):
        if settings.token:
            headers = {"Cache-Control": "no-store", "WWW-Authenticate": "Bearer"}
            return jsonify({"status": "unauthorized"}), 401, headers
        return jsonify({"status": "forbidden"}), 403, {"Cache-Control": "no-store"}
    ready, checks, age = settings.answer(app)
    body = {
        "status": "ready" if ready else "unavailable",
        "checks": {name: check.as_dict() for name, check in checks.items()},
        "age_s": round(age, 1),  # how long ago the checks ran (answers are reused a while)
    }
    return jsonify(body), 200 if ready else 503, {"Cache-Control": "no-store"}
