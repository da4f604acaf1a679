"""What each worker remembers for read-ahead (storage/read_ahead.py): the side keys of the most
recently seen sessions, a bounded number of them, a few keys each, and nothing when it is off."""

from __future__ import annotations

import pytest
from flask import Flask

from linked_accounts.storage.read_ahead import KEYS_PER_SESSION, MISSING, ReadAhead


@pytest.fixture
def app() -> Flask:
    return Flask(__name__)


def view(app: Flask, ahead: ReadAhead, store_id: str, *keys: str) -> None:
    """One request of session `store_id` that reads `keys` from the side store."""
    with app.test_request_context():
        ahead.opened(store_id, {})
        for key in keys:
            assert ahead.take(key) is MISSING


def test_the_least_recently_seen_session_is_forgotten_first(app):
    ahead = ReadAhead("side:", kept=2)
    view(app, ahead, "a", "ka")
    view(app, ahead, "b", "kb")
    assert ahead.keys_for("a") == ("ka",)  # a session's next request: now the most recent
    view(app, ahead, "c", "kc")
    assert ahead.keys_for("b") == ()  # the least recently seen, pushed out
    assert ahead.keys_for("a") == ("ka",)
    assert ahead.keys_for("c") == ("kc",)


def test_a_session_keeps_its_latest_keys_only(app):
    ahead = ReadAhead("side:")
    keys = [f"k{i}" for i in range(KEYS_PER_SESSION + 2)]
    view(app, ahead, "a", *keys, keys[-1])  # a key read twice is kept once
    assert ahead.keys_for("a") == tuple(keys[-KEYS_PER_SESSION:])


def test_off_it_learns_nothing(app):
    ahead = ReadAhead("side:", kept=0)
    view(app, ahead, "a", "ka")
    assert ahead.keys_for("a") == ()
    ahead = ReadAhead("side:")
    view(app, ahead, "a", "ka")
    ahead.kept = 0  # as a Redis that refuses MGET turns it off
    view(app, ahead, "b", "kb")
    assert ahead.keys_for("b") == ()


def test_what_was_fetched_ahead_is_served_once_and_dropped_by_a_write(app):
    ahead = ReadAhead("side:")
    assert ahead.names(["k"]) == ["side:k"]
    with app.test_request_context():
        ahead.opened("a", {"k": b"1", "w": b"2"})
        assert ahead.take("k") == b"1"
        assert ahead.take("k") is MISSING
        ahead.drop("w")
        assert ahead.take("w") is MISSING
    with app.test_request_context():
        assert ahead.take("k") is MISSING  # nothing opened in this request
