"""Client for the few Auth0 Management API calls a user may make with their own token.

It knows HTTP and Auth0's error bodies, and nothing of Flask. Every call has a connect and a read
timeout, every path segment is percent-encoded, and writes are never retried: a repeated unlink or
link after a lost answer could act twice.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import requests

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = (3.05, 10.0)
# The longest a call waits for Auth0's rate limit rather than being refused at once. A waiting call
# holds a worker (a sync worker's only thread), so the wait is a fraction of a second: long enough
# for a call that is due any moment (`x-ratelimit-reset` counts whole seconds), too short for
# anyone to notice; a call due later is refused at once, and the page says when to try again.
PACING_MAX_WAIT = 0.25


class ManagementError(Exception):
    """Auth0 did not do what was asked. `status` is Auth0's HTTP status, or None without one."""

    status: int | None = None

    def __init__(self, message: str = "", *, status: int | None = None, code: str | None = None):
        super().__init__(message or self.__class__.__name__)
        self.message = message
        self.code = code
        if status is not None:
            self.status = status


class TokenRejected(ManagementError):
    """401: the access token is invalid or expired; the user must log in again."""


class Forbidden(ManagementError):
    """403: the token lacks a scope or names another user."""


class NotFound(ManagementError):
    """404: the user (or identity) does not exist."""


class BadRequest(ManagementError):
    """400: Auth0 refused the request as given."""


class Conflict(ManagementError):
    """409: the identity is already linked."""


class RateLimited(ManagementError):
    """429, or held back before calling: Auth0's rate limit is spent. `retry_after` (seconds, from
    a Retry-After header) says when to try again, else `reset_at` (Unix s, x-ratelimit-reset)."""

    def __init__(
        self,
        message: str = "",
        *,
        reset_at: int | None = None,
        retry_after: int | None = None,
        **kwargs: Any,
    ):
        super().__init__(message, **kwargs)
        self.reset_at = reset_at
        self.retry_after = retry_after


class Unavailable(ManagementError):
    """5xx: Auth0 failed."""


class Timeout(ManagementError):
    """No answer in time. For a write, Auth0 may or may not have done it."""


class ConnectionFailed(ManagementError):
    """Auth0 could not be reached, or dropped the connection."""


class BadResponse(ManagementError):
    """Auth0 answered with something that is not the JSON it documents."""


_BY_STATUS: dict[int, type[ManagementError]] = {
    400: BadRequest,
    401: TokenRejected,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    429: RateLimited,
}


# Auth0's rate-limit groups on the paid plans, each a token bucket of its own ("Rate limit
# configurations": reading users, writing users, users-by-email, and "all other endpoints
# combined"), so one group at zero does not stop the others. Only the Management API is paced:
# the client-credentials token (/oauth/token) is the Authentication API, and never comes here.
USERS_READ = "users read"  # GET /api/v2/users/{id}
USERS_WRITE = "users write"  # PATCH, DELETE /users/{id}; POST, DELETE /users/{id}/identities[/...]
USERS_BY_EMAIL = "users-by-email"  # GET /api/v2/users-by-email
OTHER = "other"  # every other Management API endpoint


def endpoint_group(method: str, path: tuple[str, ...]) -> str:
    """The rate-limit group of a Management API call, from its method and its path segments
    after /api/v2 (the one place a call's group is decided)."""
    if path[:1] == ("users-by-email",):
        return USERS_BY_EMAIL
    if path[:1] == ("users",) and len(path) > 1:
        return USERS_READ if method == "GET" else USERS_WRITE
    return OTHER


class Pacer:
    """Slows down before Auth0's rate limit rather than running into it: one bucket per group.

    Auth0's current limits are token buckets per endpoint group (`endpoint_group`), and every
    Management API answer tells its group's: the calls left (`x-ratelimit-remaining`), the size
    (`x-ratelimit-limit`) and when it is full again (`x-ratelimit-reset`). A bucket refills
    evenly, so after an answer that leaves none the group's next call is due (reset - now) /
    limit seconds later (a Retry-After, when an answer has one, is a floor). A call sent earlier
    would only earn a 429: it waits when it is due within `max_wait` (a fraction of a second),
    and is refused at once otherwise, with the RateLimited the 429 would have raised (the reset
    in it, for the page's "try again at"); a refused call never counts against the budget. The
    other groups' calls go on as before. One Pacer per client (per process): the buckets are the
    tenant's, so one user's answer holds back every user's calls of that group.
    """

    def __init__(
        self,
        max_wait: float = PACING_MAX_WAIT,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.max_wait = max_wait
        self.clock = clock
        self.sleep = sleep
        self._lock = threading.Lock()
        self._held: dict[str, tuple[float, int]] = {}  # group -> (next call due, reset)

    def observe(self, group: str, headers: Mapping[str, str]) -> None:
        """Remember an answer's rate-limit headers for its group: none left holds the group's
        calls until the next one is due; calls left release them."""
        remaining = headers.get("x-ratelimit-remaining", "").strip()
        reset = headers.get("x-ratelimit-reset", "").strip()
        if not remaining.isdigit():
            return
        if int(remaining) > 0 or not reset.isdigit():
            with self._lock:
                self._held.pop(group, None)
            return
        now = self.clock()
        limit = headers.get("x-ratelimit-limit", "").strip()
        size = int(limit) if limit.isdigit() and int(limit) > 0 else 1
        due = now + max(0.0, int(reset) - now) / size
        retry_after = _retry_after(headers.get("Retry-After", ""), now)
        if retry_after is not None:
            due = max(due, now + retry_after)
        with self._lock:
            self._held[group] = (due, int(reset))

    def before_call(self, group: str, what: str) -> None:
        """Let a call of `group` go, after a wait of at most `max_wait`, or raise RateLimited
        (never calling) when the group's next call is due later than that."""
        with self._lock:
            held = self._held.get(group)
        if held is None:
            return
        due, reset = held
        wait = due - self.clock()
        if wait > self.max_wait:
            log.warning("auth0 %s held back: %s rate limit spent for %.1f s", what, group, wait)
            raise RateLimited("rate limit spent; not called", reset_at=reset)
        if wait > 0:
            log.info("auth0 %s waits %.2f s for its rate limit", what, wait)
            self.sleep(wait)
        with self._lock:
            if self._held.get(group) == held:
                del self._held[group]


class ManagementClient:
    """Calls `{base_url}/api/v2/...` over one pooled, keep-alive `requests.Session`."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.http = session or requests.Session()
        self.pacer = pacer or Pacer()

    def get_user(self, token: str, user_id: str) -> dict[str, Any]:
        """GET the user the token belongs to. Raises a ManagementError subclass on failure."""
        body = self._call("GET", token, ("users", user_id))
        if not isinstance(body, dict):
            raise BadResponse("user is not a JSON object", status=200)
        return body

    def users_by_email(self, token: str, email: str, fields: str) -> list[dict[str, Any]]:
        """GET the users whose email is exactly `email` (case-sensitive). Needs read:users."""
        params = {"email": email, "fields": fields, "include_fields": "true"}
        body = self._call("GET", token, ("users-by-email",), params=params)
        if not isinstance(body, list) or not all(isinstance(u, dict) for u in body):
            raise BadResponse("users-by-email answer is not a JSON array of users", status=200)
        return body

    def connections(
        self, token: str, fields: str, page: int, per_page: int
    ) -> list[dict[str, Any]]:
        """GET one page of the tenant's connections, with `fields` only. Needs read:connections."""
        params = {"fields": fields, "include_fields": "true", "page": page, "per_page": per_page}
        body = self._call("GET", token, ("connections",), params=params)
        if not isinstance(body, list) or not all(isinstance(c, dict) for c in body):
            raise BadResponse("connections answer is not a JSON array of connections", status=200)
        return body

    def update_user_metadata(
        self, token: str, user_id: str, metadata: dict[str, Any], *, kind: str = "user_metadata"
    ) -> dict[str, Any]:
        """PATCH the user's `user_metadata`, or its `app_metadata` (`kind`); Auth0 merges
        top-level keys, None removes one. Needs update:current_user_metadata (own
        user_metadata), update:users_app_metadata (app_metadata) or update:users."""
        if kind not in ("user_metadata", "app_metadata"):
            raise ValueError(kind)
        body = self._call("PATCH", token, ("users", user_id), json={kind: metadata})
        if not isinstance(body, dict):
            raise BadResponse("user is not a JSON object", status=200)
        return body

    def unlink(
        self, token: str, primary_id: str, provider: str, secondary_user_id: str
    ) -> list[dict[str, Any]]:
        """DELETE a secondary identity; return the primary's remaining identities."""
        path = ("users", primary_id, "identities", provider, secondary_user_id)
        return self._identities(self._call("DELETE", token, path))

    def link(self, token: str, primary_id: str, id_token: str) -> list[dict[str, Any]]:
        """POST the secondary's ID token as `link_with`; return the primary's new identities."""
        body = self._call(
            "POST", token, ("users", primary_id, "identities"), json={"link_with": id_token}
        )
        return self._identities(body)

    def delete_user(self, token: str, user_id: str) -> None:
        """DELETE a user (Auth0 answers 204). Needs delete:current_user (own) or delete:users."""
        self._call("DELETE", token, ("users", user_id))

    def url(self, *segments: str) -> str:
        """Build an API URL with every segment percent-encoded (`|`, `/`, `#` included)."""
        return "/".join([f"{self.base_url}/api/v2", *(quote(str(s), safe="") for s in segments)])

    def _call(self, method: str, token: str, path: tuple[str, ...], **kwargs: Any) -> Any:
        if any(str(segment) in (".", "..") for segment in path):
            # Percent-encoding leaves them as they are, and urllib3 would then collapse them:
            # DELETE .../identities/github/.. would act on another resource than named.
            raise BadRequest("a path segment may not be . or ..")
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        # Logged by what it is, never by URL: the URL holds user ids, and the token must not
        # come near a log.
        what = f"{method} {path[0]}{'/' + path[2] if len(path) > 2 else ''}"
        group = endpoint_group(method, path)
        self.pacer.before_call(group, what)
        return send(
            self.http,
            method,
            self.url(*path),
            what,
            timeout=self.timeout,
            headers=headers,
            paced=(self.pacer, group),
            **kwargs,
        )

    @staticmethod
    def _identities(body: Any) -> list[dict[str, Any]]:
        if not isinstance(body, list):
            raise BadResponse("identities are not a JSON array")
        return body


def send(
    http: requests.Session,
    method: str,
    url: str,
    what: str,
    *,
    timeout: Any,
    paced: tuple[Pacer, str] | None = None,
    **kwargs: Any,
) -> Any:
    """Make one request to Auth0 and return its JSON (None for 204), or raise a typed error.
    `paced`, a Management API call's (pacer, group), has the pacer told the answer's rate-limit
    headers (a 429's too)."""
    try:
        response = http.request(method, url, timeout=timeout, **kwargs)
    except requests.Timeout as exc:
        raise Timeout(f"{what} timed out") from exc
    except requests.ConnectionError as exc:
        raise ConnectionFailed(f"{what}: connection failed") from exc
    log.debug("auth0 %s -> %s", what, response.status_code)
    if paced is not None:
        pacer, group = paced
        pacer.observe(group, response.headers)
    if response.status_code >= 400:
        raise _error_from(response)
    if response.status_code == 204:
        return None
    try:
        return response.json()
    except ValueError as exc:
        raise BadResponse(f"{what}: response is not JSON", status=response.status_code) from exc


def _error_from(response: requests.Response) -> ManagementError:
    """Turn an Auth0 error answer into a typed error carrying its message and errorCode."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    message = str(body.get("message") or body.get("error") or response.reason or "")
    code = body.get("errorCode") if isinstance(body.get("errorCode"), str) else None
    if status == 429:
        reset = response.headers.get("x-ratelimit-reset", "")
        return RateLimited(
            message,
            status=status,
            code=code,
            reset_at=int(reset) if reset.isdigit() else None,
            retry_after=_retry_after(response.headers.get("Retry-After", "")),
        )
    cls = _BY_STATUS.get(status) or (Unavailable if status >= 500 else ManagementError)
    return cls(message, status=status, code=code)


def _retry_after(value: str, now: float | None = None) -> int | None:
    """Read a Retry-After header: delay-seconds or an HTTP date (RFC 9110); None if neither."""
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0, math.ceil(when.timestamp() - (time.time() if now is None else now)))
