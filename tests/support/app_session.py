"""Read and change a served app's server-side session from a test, by the visitor's cookie."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from flask.testing import FlaskClient

from tests.support.visitor import Visitor


def client_for(app: Flask, visitor: Visitor) -> FlaskClient:
    """A Flask test client carrying the visitor's session cookie (the same server-side session)."""
    client = app.test_client()
    name = app.config.get("SESSION_COOKIE_NAME", "session")
    client.set_cookie(name, visitor.http.cookies[name])
    return client


@contextmanager
def app_session(app: Flask, visitor: Visitor) -> Iterator[dict]:
    """Open the visitor's session in the app's store; changes are saved on exit."""
    with client_for(app, visitor).session_transaction() as session:
        yield session


def stored_session(app: Flask, sid: str) -> dict | None:
    """The session the app's store holds under `sid` as the app itself loads it for a request
    carrying that cookie (so expired, unparsable or never-issued ids read as None)."""
    client = app.test_client()
    client.set_cookie(app.config.get("SESSION_COOKIE_NAME", "session"), sid)
    with client.session_transaction() as session:
        return dict(session) if session and session.sid == sid else None


def expire_token(app: Flask, visitor: Visitor) -> None:
    """Make the visitor's access token expired as the app sees it (its clock, not Auth0's)."""
    with app_session(app, visitor) as session:
        data = dict(session["linked_accounts"])
        data["expires_at"] = 0
        session["linked_accounts"] = data
