"""Prometheus metrics: every one the extension has, defined here and nowhere else.

Off unless `LINKED_ACCOUNTS_METRICS` is set. `init_app` then hooks in through what already exists:
the link, unlink and deletion signals, and a response hook on the Management API client's pooled
`requests.Session` (every call to Auth0, with its status, latency and rate-limit headers). The
rest of the extension makes one-line calls (`page_view()`, `refused(refusal)`, ...), which record
nothing for an app that did not turn metrics on.

Labels hold only values from fixed sets (an endpoint *template* such as `GET /api/v2/users/{id}`,
an HTTP status, a trip's purpose, an action) or a refusal code, which must look like one (lower
case, digits and `_`: no `|`, `@` or `.`). Anything else becomes "other", so no user id, email or
token can reach a label, whatever a caller passes.

Exposing them: `scrape(accept)` renders the text format, aggregating every gunicorn worker when
`PROMETHEUS_MULTIPROC_DIR` is set (prometheus_client's multiprocess mode; gunicorn.conf.py sets it
up). A host app with its own single-process registry calls `register(registry)` instead.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import requests
from flask import Flask, after_this_request, current_app, g, has_request_context
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, values
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector

from .purposes import Trip
from .settings import flag
from .signals import identity_linked, identity_unlinked, separated_deleted

CONFIG_KEY = "LINKED_ACCOUNTS_METRICS"
EXTENSION_KEY = "linked_accounts.metrics"  # in app.extensions once turned on

# Created unregistered (registry=None): the standalone app exposes them through its own registry
# (or every worker's files), a host through whichever registry it passes to register().
PAGE_VIEWS = Counter(
    "linked_accounts_page_views",
    "Settings page and identities listing views answered, by where the list came from "
    "(cached: no call to Auth0; auth0: read from the Management API).",
    ["kind"],
    registry=None,
)
CHANGES = Counter(
    "linked_accounts_changes",
    "Link, unlink and deletion attempts, by outcome: done, or the refusal code that stopped it.",
    ["action", "result"],
    registry=None,
)
REFUSALS = Counter(
    "linked_accounts_refusals",
    "Requests refused (nothing changed), by refusal code.",
    ["code"],
    registry=None,
)
AUTH0_REQUESTS = Counter(
    "linked_accounts_auth0_requests",
    "Management API (and M2M token) calls answered, by endpoint template and HTTP status.",
    ["endpoint", "status"],
    registry=None,
)
AUTH0_LATENCY = Histogram(
    "linked_accounts_auth0_request_duration_seconds",
    "Time from sending a Management API call to reading its answer's headers.",
    ["endpoint"],
    # Auth0 answers in tens to hundreds of ms; the read timeout is 10 s by default.
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=None,
)
AUTH0_RATE_LIMITED = Counter(
    "linked_accounts_auth0_rate_limited",
    "Management API calls Auth0 answered with 429 Too Many Requests, by endpoint template.",
    ["endpoint"],
    registry=None,
)
RATELIMIT_REMAINING = Gauge(
    "linked_accounts_auth0_ratelimit_remaining",
    "The x-ratelimit-remaining header of the latest Management API answer, by endpoint template.",
    ["endpoint"],
    # Across workers, the newest reading wins: the bucket is Auth0's, shared by every worker, so
    # the freshest answer any of them saw is the best estimate (a sum or max would be wrong). A
    # reading of a worker that has since exited stays true until a newer one replaces it.
    multiprocess_mode="mostrecent",
    registry=None,
)
CACHE_LOOKUPS = Counter(
    "linked_accounts_identities_cache",
    "Lookups of a user's cached identities (a refresh that skips the cache is not one).",
    ["result"],
    registry=None,
)
SINGLE_FLIGHT_WAITS = Counter(
    "linked_accounts_single_flight_waits",
    "Views that showed the just-expired list because another request of the same user was "
    "re-reading it from Auth0.",
    registry=None,
)
TRIPS_STARTED = Counter(
    "linked_accounts_trips_started",
    "Browsers sent to Auth0's /authorize, by purpose.",
    ["purpose"],
    registry=None,
)
TRIPS_FINISHED = Counter(
    "linked_accounts_trips_finished",
    "Trips back from Auth0 with a verified sign-in, handed to their purpose's handler.",
    ["purpose"],
    registry=None,
)
COLLECTORS = (
    PAGE_VIEWS,
    CHANGES,
    REFUSALS,
    AUTH0_REQUESTS,
    AUTH0_LATENCY,
    AUTH0_RATE_LIMITED,
    RATELIMIT_REMAINING,
    CACHE_LOOKUPS,
    SINGLE_FLIGHT_WAITS,
    TRIPS_STARTED,
    TRIPS_FINISHED,
)

OTHER = "other"
ACTIONS = ("link", "unlink", "delete_separated")
# The trip purposes whose finishing is itself a change attempt.
# A merge's sign-ins end in a link (of a suggested account): counted as one.
_TRIP_ACTIONS = {
    Trip.LINK: "link",
    Trip.DELETE_SEPARATED: "delete_separated",
    Trip.MERGE: "link",
}
# Refusal codes are identifiers the code base writes as literals: lower-case words.
_CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")
_METHODS = ("GET", "POST", "PATCH", "DELETE")
_STATUS = re.compile(r"[1-5][0-9][0-9]")


def init_app(app: Flask, management_http: requests.Session) -> None:
    """Turn metrics on for `app` when its config asks: count every Management API answer on
    `management_http`, and each link, unlink and deletion its signals announce."""
    if not flag(app.config.setdefault(CONFIG_KEY, False)):
        return
    app.extensions[EXTENSION_KEY] = True
    management_http.hooks["response"].append(_count_answer)
    for signal, action in (
        (identity_linked, "link"),
        (identity_unlinked, "unlink"),
        (separated_deleted, "delete_separated"),
    ):
        signal.connect(_done(action), sender=app, weak=False)


def register(registry: CollectorRegistry) -> None:
    """Register every collector on a host app's own registry (single-process hosts).

    Not under prometheus_client's multiprocess mode: there the host's MultiProcessCollector
    already exports these from the workers' files, and registering them too would export them
    twice.
    """
    for collector in COLLECTORS:
        registry.register(collector)


def scrape(accept: str | None = None) -> tuple[bytes, str]:
    """Render every metric in the format `accept` asks for (the text format by default);
    return (body, content type). In multiprocess mode, every worker's figures added up."""
    registry = CollectorRegistry(auto_describe=True)
    if multiprocess():
        MultiProcessCollector(registry)
    else:
        register(registry)
    encode, content_type = choose_encoder(accept or "")
    return encode(registry), content_type


def multiprocess() -> bool:
    """Tell whether prometheus_client keeps values in files shared by the workers: it decides once,
    when first imported, from PROMETHEUS_MULTIPROC_DIR (the extension never reads the
    environment itself)."""
    return values.ValueClass is not values.MutexValue


# One-line calls from the rest of the extension. Each records only when metrics are on.


def page_view() -> None:
    """Count this page view once it is answered, as cached or read from Auth0."""
    if not _on():
        return

    @after_this_request
    def count(response):
        if response.status_code == 200:
            PAGE_VIEWS.labels("auth0" if g.get("_la_metrics_read") else "cached").inc()
        return response


def cache_lookup(*, found: bool, bypassed: bool = False) -> None:
    """Count a look at the user's cached identities: a hit, or a miss (a bypass is neither)."""
    if _on() and not bypassed:
        CACHE_LOOKUPS.labels("hit" if found else "miss").inc()


def single_flight_wait() -> None:
    """Count a view served the just-expired list while another request re-reads it."""
    if _on():
        SINGLE_FLIGHT_WAITS.inc()


def attempt(action: str) -> None:
    """Note that this request tries a change, so a refusal is also counted as its outcome."""
    if _on():
        g._la_metrics_action = _choice(action, ACTIONS)


def refused(refusal: Exception) -> None:
    """Count a refusal by code, and as the outcome of the change this request tried, if any."""
    if not _on():
        return
    code = str(getattr(refusal, "code", ""))
    code = code if _CODE.fullmatch(code) else OTHER
    REFUSALS.labels(code).inc()
    action = g.get("_la_metrics_action")
    if action:
        CHANGES.labels(action, code).inc()
        g._la_metrics_action = None  # one outcome per attempt


def trip_started(purpose: Trip) -> None:
    """Count a browser sent to Auth0 for `purpose`."""
    if _on():
        TRIPS_STARTED.labels(purpose.value).inc()


def trip_finished(purpose: Trip) -> None:
    """Count a trip back from Auth0 with a verified sign-in; finishing a link or a deletion trip
    is a change attempt."""
    if not _on():
        return
    TRIPS_FINISHED.labels(purpose.value).inc()
    if purpose in _TRIP_ACTIONS:
        attempt(_TRIP_ACTIONS[purpose])


def endpoint_template(method: str, url: str) -> str:
    """Name a Management API call by method and path template, never by the ids in it:
    `DELETE https://t/api/v2/users/auth0%7C1/identities/github/9` -> `DELETE
    /api/v2/users/{id}/identities/{provider}/{user_id}`."""
    method = _choice(method.upper(), _METHODS)
    path = urlsplit(url).path
    if path.endswith("/oauth/token"):
        return f"{method} /oauth/token"
    _, api, rest = path.partition("/api/v2/")
    segments = rest.split("/") if api else []
    if segments == ["users-by-email"]:
        template = "/api/v2/users-by-email"
    elif segments[:1] == ["users"] and len(segments) == 2:
        template = "/api/v2/users/{id}"
    elif segments[:1] == ["users"] and len(segments) == 3 and segments[2] == "identities":
        template = "/api/v2/users/{id}/identities"
    elif segments[:1] == ["users"] and len(segments) == 5 and segments[2] == "identities":
        template = "/api/v2/users/{id}/identities/{provider}/{user_id}"
    else:
        template = OTHER
    return f"{method} {template}"


def _count_answer(response: requests.Response, *args, **kwargs) -> None:
    """requests' response hook: one Management API answer (a timeout or refused connection never
    gets here: those show as the refusals auth0_timeout and auth0_unreachable)."""
    endpoint = endpoint_template(response.request.method or "", response.request.url or "")
    status = str(response.status_code)
    AUTH0_REQUESTS.labels(endpoint, status if _STATUS.fullmatch(status) else OTHER).inc()
    AUTH0_LATENCY.labels(endpoint).observe(response.elapsed.total_seconds())
    if response.status_code == 429:
        AUTH0_RATE_LIMITED.labels(endpoint).inc()
    remaining = response.headers.get("x-ratelimit-remaining", "").strip()
    if remaining.isdigit():
        RATELIMIT_REMAINING.labels(endpoint).set(int(remaining))
    if endpoint == "GET /api/v2/users/{id}" and has_request_context():
        g._la_metrics_read = True  # page_view() labels this request's view "auth0"


def _done(action: str):
    def count(sender, **extra) -> None:
        CHANGES.labels(action, "done").inc()
        if has_request_context():
            g._la_metrics_action = None

    return count


def _on() -> bool:
    return bool(current_app.extensions.get(EXTENSION_KEY))


def _choice(value: str, allowed: tuple[str, ...]) -> str:
    return value if value in allowed else OTHER
