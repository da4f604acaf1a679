"""Browser-facing defences a host app turns on for the pages it serves, and the check of the
framing policy (FRAME_ANCESTORS) it is configured with."""

from __future__ import annotations

import re

from flask import Flask, request
from publicsuffixlist import PublicSuffixList

from linked_accounts.settings import is_loopback


def install_security_headers(
    app: Flask, *, frame_ancestors: str = "'none'", form_action: tuple[str, ...] = ()
) -> None:
    """Add CSP (no inline script), framing, sniffing, referrer and HSTS headers to every response.

    `form_action` lists extra origins a form may lead to: logging out is a POST answered by a
    redirect to Auth0, and browsers apply `form-action` to that redirect too.
    """
    csp = "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action " + " ".join(["'self'", *form_action]),
            f"frame-ancestors {frame_ancestors}",
        ]
    )

    defaults = [
        ("Content-Security-Policy", csp),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
    ]
    if frame_ancestors == "'none'":
        defaults.append(("X-Frame-Options", "DENY"))
    secure_only = [("Strict-Transport-Security", "max-age=63072000; includeSubDomains")]

    @app.after_request
    def security_headers(response):
        # Each is a default: a header the view set wins. One look at what it set, rather than a
        # setdefault (a scan of every header) per header: this runs on every answer.
        headers = response.headers
        present = {name.lower() for name, _ in headers}
        for name, value in defaults + secure_only if request.is_secure else defaults:
            if name.lower() not in present:
                headers.add(name, value)
        return response


# CSP frame-ancestors sources a host may allow to frame its pages (default: nobody). Only
# keywords and origins: a ';' or a newline would smuggle other directives or headers in.
_ORIGIN = re.compile(r"(https?)://(\*\.)?([A-Za-z0-9.-]+)(?::\d{1,5})?")
_PUBLIC_SUFFIXES = PublicSuffixList()


def frame_ancestors_problem(value: str) -> str | None:
    """Say what is wrong with a FRAME_ANCESTORS value, or None: 'none', 'self', or https origins
    (plain http only on loopback), a wildcard only for the subdomains of one registrable domain
    (`https://*.example.com`; never `https://*` or `https://*.com`)."""
    if value in ("'none'", "'self'"):
        return None
    for source in value.split(" "):
        match = _ORIGIN.fullmatch(source)
        if source == "'self'":
            continue
        if not match:
            return f"{source!r} is not 'self' or an origin like https://portal.example.com"
        scheme, wildcard, host = match.groups()
        host = host.lower()
        if scheme == "http" and (wildcard or not is_loopback(host)):
            return f"{source!r} is plain http: use https (http only for localhost)"
        if is_loopback(host):
            continue
        registrable = _PUBLIC_SUFFIXES.privatesuffix(host)
        if registrable is None or (wildcard and registrable != host):
            return f"{source!r} covers more than one site: name a domain you control"
    return None
