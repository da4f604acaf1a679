"""The outcome of a form post ("GitHub was unlinked"), carried to the next page in its URL.

Two tabs share one server-side session, which each request saves whole: a message kept in the
session (Flask's `flash`) by one tab can be overwritten, or shown, by the other. The outcome rides
in the URL of the redirect instead, sealed with Fernet (encrypted, so the account it names stays
private; authenticated, so no one can make the page say something else; and short-lived).

A sealed outcome also names the session that produced it (when it began, to the microsecond: a
value the session keeps from sign-in on, so two tabs agree on it), so a link holding one shows its
message to nobody else: not even a genuine message ("...is now linked") can be sent to another
visitor. The text itself is always ours, never a URL's.
"""

from __future__ import annotations

import base64
import hmac
import json
import time

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app, request, session

from .storage.rules import STARTED

PARAM = "done"
LIFETIME = 300  # seconds: long enough for a slow redirect, short enough not to replay for long


def seal(category: str, text: str) -> str:
    """Return the outcome as an opaque URL-safe token, readable only in this session."""
    if STARTED not in session:
        session[STARTED] = time.time()
    binding = repr(session[STARTED])
    return _fernet().encrypt(json.dumps([binding, category, str(text)]).encode()).decode()


def current() -> tuple[str, str] | None:
    """Return the outcome this page was sent with, if it is genuine, recent and this session's."""
    # Only a redirect after a change carries one: most views have no query string to parse.
    token = request.args.get(PARAM) if request.query_string else None
    if not token or STARTED not in session:
        return None
    binding = repr(session[STARTED])
    try:
        sealed_for, category, text = json.loads(_fernet().decrypt(token.encode(), ttl=LIFETIME))
    except (InvalidToken, ValueError, TypeError):
        return None
    if not hmac.compare_digest(str(sealed_for), binding):
        return None
    return str(category), str(text)


def _fernet() -> Fernet:
    # A key of its own, derived from the app's secret: the secret itself signs CSRF tokens.
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"linked-accounts outcome"
    ).derive(current_app.secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))
