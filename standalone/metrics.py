"""GET /metrics for Prometheus, when METRICS=1: behind a bearer token (METRICS_TOKEN).

A token rather than a second port: under gunicorn every worker answers on the app's one port, and
a scrape through the same proxy and TLS as the pages needs no extra listener to secure. The token
is compared in constant time, and a missing or wrong one gets a bare 401 (never a session, a page
or a hint of what is counted).
"""

from __future__ import annotations

import hmac
import os

from flask import Blueprint, Flask, Response, current_app, request

from linked_accounts import ConfigError, metrics
from standalone import metrics_files

bp = Blueprint("metrics", __name__)
TOKEN_KEY = "METRICS_TOKEN"  # noqa: S105 (the setting's name, not a token)
MIN_TOKEN = 32


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
    app.register_blueprint(bp)


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
        body, content_type = metrics.scrape(request.headers.get("Accept"))
    return Response(body, 200, {"Content-Type": content_type, "Cache-Control": "no-store"})
