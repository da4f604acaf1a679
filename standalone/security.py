"""Browser-facing defences a host app turns on for the pages it serves."""

from __future__ import annotations

from flask import Flask, request


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

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", csp)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        if frame_ancestors == "'none'":
            headers.setdefault("X-Frame-Options", "DENY")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
        return response
