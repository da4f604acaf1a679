"""Read and edit a served app's stored session by its id, as time or another tab would have."""

from __future__ import annotations

import flask
import requests

from tests.support.app_session import stored_session
from tests.support.visitor import Visitor

PREFIX = "linked-accounts:"
COOKIE = "session"


def stored(app, sid: str) -> dict | None:
    return stored_session(app, sid)


def edit_stored(app, sid: str, change) -> None:
    """Change the stored session as time would have: `change(data)` edits it in place."""
    with app.test_request_context("/", headers={"Cookie": f"{COOKIE}={sid}"}):
        session = app.session_interface.open_session(app, flask.request)
        assert session.sid == sid, "the session was not loaded"
        change(session)
        session.modified = True
        app.session_interface.save_session(app, session, app.response_class())


def signed_in(visitor: Visitor) -> bool:
    return visitor.get("/account/", allow_redirects=False).status_code == 200


def cookie_expires(response: requests.Response) -> float | None:
    from email.utils import parsedate_to_datetime

    for header in response.raw.headers.getlist("Set-Cookie"):
        for attribute in header.split(";"):
            name, _, value = attribute.strip().partition("=")
            if name.lower() == "expires":
                return parsedate_to_datetime(value).timestamp()
    return None
