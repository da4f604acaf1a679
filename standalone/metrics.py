"""GET /metrics for Prometheus, when METRICS=1: behind a bearer token (METRICS_TOKEN).

A token rather than a second port: under gunicorn every worker answers on the app's one port, and
a scrape through the same proxy and TLS as the pages needs no extra listener to secure. The token
is compared in constant time, and a missing or wrong one gets a bare 401 (never a session, a page
or a hint of what is counted).

It also counts the app's own requests, by route template (the rule a request matched, e.g.
`/account/api/identities/<provider>/<user_id>`: never the path, which can hold ids), method and
status, and their latency by route. Written with prometheus_client's own primitives in one request
hook rather than with prometheus-flask-exporter (0.23): its request counter has no route label
(only its histogram has), and a second app in one process (an app factory, the tests) meets the
first one's collectors in the registry, an error it swallows, and then counts nothing at all.
"""

from __future__ import annotations

import hmac
import os
import re
import time

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    request,
    request_finished,
    request_started,
)
from prometheus_client import Counter, Histogram, disable_created_metrics

from linked_accounts import ConfigError, metrics
from standalone import metrics_files

bp = Blueprint("metrics", __name__)
TOKEN_KEY = "METRICS_TOKEN"  # noqa: S105 (the setting's name, not a token)
MIN_TOKEN = 32

REQUESTS = Counter(
    "linked_accounts_http_requests",
    "Requests the app answered, by route template, method and status.",
    ["route", "method", "status"],
    registry=None,
)
LATENCY = Histogram(
    "linked_accounts_http_request_duration_seconds",
    "Time from the app taking a request (session loaded, route matched) to its answer, by "
    "route template and method.",
    ["route", "method"],
    # A cached page takes milliseconds; one that waits on Auth0 up to its timeouts.
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=None,
)
UNMATCHED = "unmatched"  # no route: a 404, or a 405 for a method the route does not take
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_STATUS = re.compile(r"[1-5][0-9][0-9]")


def install(app: Flask) -> None:
    """Serve /metrics if the extension counts (LINKED_ACCOUNTS_METRICS); it needs a token."""
    if not app.extensions.get(metrics.EXTENSION_KEY):
        return
    token = str(app.config.get(TOKEN_KEY) or os.environ.get(TOKEN_KEY, "")).strip()
    if len(token) < MIN_TOKEN:
        raise ConfigError(
            [
                f"METRICS=1 needs {TOKEN_KEY}: at least {MIN_TOKEN} random characters "
                "(e.g. `openssl rand -hex 32`), sent by the scraper as a bearer token"
            ]
        )
    app.config[TOKEN_KEY] = token
    # A counter's `_created` series doubles what is stored and helps no alert; the app owns the
    # process, so it turns them off for every collector in it.
    disable_created_metrics()
    app.register_blueprint(bp)
    request_started.connect(_started, sender=app, weak=False)
    request_finished.connect(_finished, sender=app, weak=False)


@bp.get("/metrics")
def scrape() -> Response:
    """Answer the figures of every worker, to a scraper holding the token."""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    expected = current_app.config[TOKEN_KEY]
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), expected.encode()):
        return Response("", 401, {"WWW-Authenticate": 'Bearer realm="metrics"'})
    # Under gunicorn the master may be folding an exited worker's files into the directory's
    # `exited` ones (metrics_files): read it whole, before or after, never halfway.
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR") if metrics.multiprocess() else None
    with metrics_files.reading(directory):
        body, content_type = metrics.scrape(request.headers.get("Accept"), (REQUESTS, LATENCY))
    return Response(body, 200, {"Content-Type": content_type, "Cache-Control": "no-store"})


def _started(sender: Flask, **extra) -> None:
    g._metrics_started = time.perf_counter()


def _finished(sender: Flask, response: Response, **extra) -> None:
    """Count an answered request (an error page too: Flask finishes those the same way)."""
    started = g.pop("_metrics_started", None)
    rule = request.url_rule
    route = rule.rule if rule is not None else UNMATCHED
    method = request.method if request.method in _METHODS else metrics.OTHER
    status = str(response.status_code)
    REQUESTS.labels(route, method, status if _STATUS.fullmatch(status) else metrics.OTHER).inc()
    if started is not None:
        LATENCY.labels(route, method).observe(time.perf_counter() - started)
