"""The extension's own defences for its pages and JSON answers, wherever it is mounted.

A host may send no security headers at all, or cache pages by default: the pages that show a
user's accounts, their CSRF token or a sealed outcome must still never be stored by a browser or
a proxy, sniffed, or framed by another site. A host's own header always wins (it ran first, and
only adds to ours): a host's `frame-ancestors` is its choice to make.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Flask, request

from ..settings import is_loopback

log = logging.getLogger(__name__)

MIN_SECRET = 32


def install(
    app: Flask,
    blueprints: tuple[str, ...],
    prefixes: tuple[str, ...] = (),
    *,
    frame_ancestors: str = "'self'",
) -> None:
    """Add the headers to every answer of `blueprints`, and to the 404 and 405 answers under
    their `prefixes` (no rule matched there, so Flask names no blueprint for them).

    Registered first among the app's after-request functions, which Flask runs in reverse: so
    this runs last and sees what the host's own functions have set.
    """

    xfo = {"'none'": "DENY", "'self'": "SAMEORIGIN"}.get(frame_ancestors)

    def protect(response):
        if request.blueprint in blueprints:
            static = (request.endpoint or "").endswith(".static")
        elif request.url_rule is None and _under(request.path, prefixes):
            static = False
        else:
            return response  # the host's own answers: its call
        headers = response.headers
        # One look at the names already set, not a scan of every header per header: this runs
        # on every answer.
        present = {name.lower() for name, _ in headers}
        if not static:
            # Personal data and CSRF tokens: not for any cache, nor the back button's copy.
            # Stylesheets and icons may be cached (Flask revalidates them by ETag).
            headers["Cache-Control"] = "no-store"
        if "x-content-type-options" not in present:
            headers.add("X-Content-Type-Options", "nosniff")
        policies = headers.getlist("Content-Security-Policy")
        if not any("frame-ancestors" in policy for policy in policies):
            # A second policy header is enforced alongside the host's: it only narrows.
            headers.add("Content-Security-Policy", f"frame-ancestors {frame_ancestors}")
            if xfo and "x-frame-options" not in present:
                headers.add("X-Frame-Options", xfo)
        return response

    app.after_request_funcs.setdefault(None, []).insert(0, protect)


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    """Tell whether `path` is one of `prefixes` or below one (never a mere string prefix:
    `/accounting` is not under `/account`)."""
    return any(path == p or path.startswith(p + "/") for p in prefixes if p)


def warn_if_weak(app: Flask, issuer_url: str) -> None:
    """Say loudly at start-up what leaves sessions open outside local development."""
    if is_loopback(urlsplit(issuer_url).hostname or ""):
        return  # a development tenant on this machine, over plain http
    if not app.config.get("SESSION_COOKIE_SECURE"):
        log.warning(
            "SESSION_COOKIE_SECURE is off with a real Auth0 tenant: the session cookie (and with "
            "it the user's Auth0 tokens) travels over plain http. Turn it on, and serve https."
        )
    if len(str(app.secret_key or "")) < MIN_SECRET:
        log.warning(
            "The app's SECRET_KEY is shorter than %d characters: CSRF tokens and sealed "
            "outcomes are only as strong as it is. Use a long random value.",
            MIN_SECRET,
        )
