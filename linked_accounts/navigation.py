"""Where the browser goes next: return addresses that stay on this site, and the way back to the
accounts page with an outcome."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import redirect, request, url_for

from . import outcomes

MAX_NEXT = 2048


def safe_next(target: str | None) -> str | None:
    """Accept a return address only as a path on this site: never another origin, and never
    longer than MAX_NEXT (it is kept in the session during a trip to Auth0)."""
    if not target or len(target) > MAX_NEXT:
        return None
    if not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(c in target for c in "\r\n\t\\"):
        return None
    return target


def return_path() -> str | None:
    """Return this page; for a form post, the page the form was on (it is not re-posted)."""
    if request.endpoint == "linked_accounts.callback":
        return None  # a callback URL works once: come back to the accounts page instead
    if request.method == "GET":
        return safe_next(request.full_path.rstrip("?"))
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host:
        return None
    return safe_next(referrer.path + (f"?{referrer.query}" if referrer.query else ""))


def to_accounts(message: str | None = None, category: str = "info"):
    """Go back to the accounts page after a form post (303: the browser GETs it), with the
    outcome in the URL rather than the session, which another tab may be saving too."""
    args = {outcomes.PARAM: outcomes.seal(category, message)} if message else {}
    return redirect(url_for("linked_accounts.accounts", **args), 303)
