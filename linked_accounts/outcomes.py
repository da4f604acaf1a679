"""The outcome of a form post ("GitHub was unlinked"), carried to the next page in its URL.

Two tabs share one server-side session, which each request saves whole: a message kept in the
session (Flask's `flash`) by one tab can be overwritten, or shown, by the other. The outcome rides
in the URL of the redirect instead, sealed with Fernet (encrypted, so the account it names stays
private; authenticated, so no one can make the page say something else; and short-lived).

A sealed outcome also names the session that produced it (when it began, to the microsecond: a
value the session keeps from sign-in on, so two tabs agree on it), so a link holding one shows its
message to nobody else: not even a genuine message ("...is now linked") can be sent to another
visitor. The text itself is always ours, never a URL's.

It is also how a page that answers something that cannot be reloaded (a callback from Auth0, a
form post) ends on an address that can be: the failure is sealed, with its HTTP status, into the
redirect to a plain GET page, which shows it again on a reload for as long as it lives.
"""

from __future__ import annotations

import base64
import hmac
import json
import time
from typing import NamedTuple

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app, request, session

from .storage.rules import STARTED

PARAM = "done"
LIFETIME = 300  # seconds: long enough for a slow redirect, short enough not to replay for long


class Outcome(NamedTuple):
    """What a page was sent to say: its category ("success", "error"...), the text, and the HTTP
    status the page answers with (a failure shown on a page of its own keeps its status, and its
    title and Retry-After when it had them)."""

    category: str
    text: str
    status: int = 200
    title: str = ""
    retry_after: int | None = None


def seal(
    category: str, text: str, status: int = 200, *, title: str = "", retry_after: int | None = None
) -> str:
    """Return the outcome as an opaque URL-safe token, readable only in this session."""
    if STARTED not in session:
        session[STARTED] = time.time()
    binding = repr(session[STARTED])
    sealed = [binding, category, str(text), int(status), str(title), retry_after]
    return _fernet().encrypt(json.dumps(sealed).encode()).decode()


def current() -> Outcome | None:
    """Return the outcome this page was sent with, if it is genuine, recent and this session's."""
    # Only a redirect after a change carries one: most views have no query string to parse.
    token = request.args.get(PARAM) if request.query_string else None
    if not token or STARTED not in session:
        return None
    binding = repr(session[STARTED])
    try:
        sealed_for, category, text, *rest = json.loads(
            _fernet().decrypt(token.encode(), ttl=LIFETIME)
        )
        # Sealed by an earlier release: no status, or no title and Retry-After.
        status = int(rest[0]) if rest else 200
        title = str(rest[1]) if len(rest) > 1 else ""
        retry_after = int(rest[2]) if len(rest) > 2 and rest[2] is not None else None
    except (InvalidToken, ValueError, TypeError):
        return None
    if not hmac.compare_digest(str(sealed_for), binding):
        return None
    return Outcome(str(category), str(text), status, title, retry_after)


def _fernet() -> Fernet:
    # A key of its own, derived from the app's secret: the secret itself signs CSRF tokens.
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"linked-accounts outcome"
    ).derive(current_app.secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))
