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

Every series whose labels come from a fixed set is there from start-up, at zero (`init_app`), so
that the first rate limit, timeout or merge is an increase Prometheus sees, not a series appearing
at 1 (which `rate()` and `increase()` miss). Labels from open sets (an HTTP status, most refusal
codes) have their series from the first time they are counted, except the ones alerts watch: the
429s and Auth0's failures.

Exposing them: `scrape(accept)` renders the text format, aggregating every gunicorn worker when
`PROMETHEUS_MULTIPROC_DIR` is set (prometheus_client's multiprocess mode; gunicorn.conf.py sets it
up). A host app with its own single-process registry calls `register(registry)` instead.
"""

from __future__ import annotations

import platform
import re
from importlib import metadata
from urllib.parse import urlsplit

import requests
from flask import Flask, after_this_request, current_app, g, has_request_context
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, values
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

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
# The suggestions (an optional feature) count through these: metrics never imports it.
SUGGESTIONS_SHOWN = Counter(
    "linked_accounts_suggestions_shown",
    "Suggested accounts shown: one per account offered by a settings page or JSON listing.",
    registry=None,
)
SUGGESTIONS_DISMISSED = Counter(
    "linked_accounts_suggestions_dismissed",
    'Suggestions dismissed, by reason ("Not now" or "Not mine").',
    ["reason"],
    registry=None,
)
MERGES = Counter(
    "linked_accounts_merges",
    "Suggested accounts merged, by which account stayed (the signed-in one or the suggested "
    "one) and why; manual links are not merges.",
    ["kept", "reason"],
    registry=None,
)
BUILD_INFO = Gauge(
    "linked_accounts_build_info",
    "Always 1: the extension's version and the Python running it, as labels.",
    ["version", "python"],
    # Every process reports the same 1: the largest reading is that 1, and a worker's file is
    # folded as any other when it exits (standalone/metrics_files.py).
    multiprocess_mode="max",
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
    SUGGESTIONS_SHOWN,
    SUGGESTIONS_DISMISSED,
    MERGES,
    BUILD_INFO,
)

OTHER = "other"
# A merge ends in a link too (the one every link goes through), but is counted apart from the
# links a person starts with a "Link" button.
ACTIONS = ("link", "unlink", "delete_separated", "merge")
# The trip purposes whose finishing is itself a change attempt.
_TRIP_ACTIONS = {
    Trip.LINK: "link",
    Trip.DELETE_SEPARATED: "delete_separated",
    Trip.MERGE: "merge",
}
DISMISS_REASONS = ("not_now", "not_mine")  # the suggestions' own (dismissals.REASONS)
MERGE_REASONS = ("older", "newer", "has_links", "host")  # merging.Reason's values
# Which account stays, for each reason it can stay for.
_MERGE_OUTCOMES = (
    ("signed_in", "older"),
    ("signed_in", "has_links"),
    ("signed_in", "host"),
    ("suggested", "newer"),
    ("suggested", "host"),
)
# Every Management API (and M2M token) call the extension makes, as endpoint_template names it.
ENDPOINTS = (
    "GET /api/v2/users/{id}",
    "PATCH /api/v2/users/{id}",
    "DELETE /api/v2/users/{id}",
    "POST /api/v2/users/{id}/identities",
    "DELETE /api/v2/users/{id}/identities/{provider}/{user_id}",
    "GET /api/v2/users-by-email",
    "GET /api/v2/connections",
    "POST /oauth/token",
)
# The refusals an operator alerts on, there at zero from start-up: Auth0's rate limit, Auth0
# failing or out of reach, and a tenant that withholds a scope (a setup to fix).
WATCHED_REFUSALS = (
    "rate_limited",
    "auth0_timeout",
    "auth0_unreachable",
    "auth0_error",
    "auth0_bad_answer",
    "auth0_forbidden",
    "scope_not_granted",
)
# Every labelled counter and histogram, with the label values it has from start-up.
_FROM_START = (
    (PAGE_VIEWS, [("cached",), ("auth0",)]),
    (CHANGES, [(action, "done") for action in ACTIONS]),
    (REFUSALS, [(code,) for code in WATCHED_REFUSALS]),
    (AUTH0_REQUESTS, [(endpoint, "429") for endpoint in ENDPOINTS]),
    (AUTH0_LATENCY, [(endpoint,) for endpoint in ENDPOINTS]),
    (AUTH0_RATE_LIMITED, [(endpoint,) for endpoint in ENDPOINTS]),
    (CACHE_LOOKUPS, [("hit",), ("miss",)]),
    (TRIPS_STARTED, [(trip.value,) for trip in Trip]),
    (TRIPS_FINISHED, [(trip.value,) for trip in Trip]),
    (SUGGESTIONS_DISMISSED, [(reason,) for reason in DISMISS_REASONS]),
    (MERGES, list(_MERGE_OUTCOMES)),
)
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
    present()


def register(registry: CollectorRegistry) -> None:
    """Register every collector on a host app's own registry (single-process hosts).

    Not under prometheus_client's multiprocess mode: there the host's MultiProcessCollector
    already exports these from the workers' files, and registering them too would export them
    twice.
    """
    for collector in COLLECTORS:
        registry.register(collector)


def scrape(accept: str | None = None, extra: tuple[Collector, ...] = ()) -> tuple[bytes, str]:
    """Render every metric in the format `accept` asks for (the text format by default), and the
    app's own `extra` collectors; return (body, content type). In multiprocess mode, every
    worker's figures added up (`extra` among them: they write to the same files)."""
    registry = CollectorRegistry(auto_describe=True)
    if multiprocess():
        # A worker forked from a master that loaded the app (preload) writes its file on its
        # first count: this scrape may come first, so it writes it now, with every zero.
        present()
        MultiProcessCollector(registry)
    else:
        register(registry)
        for collector in extra:
            registry.register(collector)
    encode, content_type = choose_encoder(accept or "")
    return encode(registry), content_type


def present() -> None:
    """Give every series of a fixed label set its value in this process (zero until counted),
    and the build info its 1.

    Under multiprocess mode a process's first write, after a fork, also writes every value the
    process holds to its own file: the master's zeros were in the master's file, which gunicorn
    empties once it starts (gunicorn.conf.py `on_starting`)."""
    for collector, label_sets in _FROM_START:
        for values_ in label_sets:
            collector.labels(*values_)
    BUILD_INFO.labels(_version(), platform.python_version()).set(1)


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


def suggestions_shown(count: int) -> None:
    """Count `count` suggested accounts shown on a page or listed by the JSON API."""
    if _on() and count > 0:
        SUGGESTIONS_SHOWN.inc(count)


def suggestion_dismissed(reason: str) -> None:
    """Count a suggestion dismissed: "not_now" or "not_mine"."""
    if _on():
        SUGGESTIONS_DISMISSED.labels(_choice(reason, DISMISS_REASONS)).inc()


def merged(*, keep_signed_in: bool, reason: str) -> None:
    """Count a merge made: which account stayed (the signed-in one, or the suggested one), and
    the reason the plan gave (`merging.Reason`)."""
    if _on():
        kept = "signed_in" if keep_signed_in else "suggested"
        MERGES.labels(kept, _choice(str(reason), MERGE_REASONS)).inc()


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
    if segments in (["users-by-email"], ["connections"]):
        template = "/api/v2/" + segments[0]
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
        done = action
        if has_request_context():
            # A merge links too: the link it ends in is counted as the merge it is.
            if action == "link" and g.get("_la_metrics_action") == "merge":
                done = "merge"
            g._la_metrics_action = None
        CHANGES.labels(done, "done").inc()

    return count


def _version() -> str:
    try:
        return metadata.version("linked-accounts")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def _on() -> bool:
    return bool(current_app.extensions.get(EXTENSION_KEY))


def _choice(value: str, allowed: tuple[str, ...]) -> str:
    return value if value in allowed else OTHER
