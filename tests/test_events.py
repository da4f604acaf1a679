"""Every link and unlink emits a signal for the host and a structured log line, with no secrets."""

from __future__ import annotations

import logging

from linked_accounts import identity_linked, identity_unlinked
from tests.support import tenant as t
from tests.support.servers import serving
from tests.support.visitor import Visitor


def test_unlink_and_link_emit_signals_and_log_who_what_when_where(make_app, tenant, caplog):
    """The log line's fields are record attributes, which the JSON formatter writes as fields."""
    app = make_app(LINK_CONNECTIONS="github")
    received = []

    def on_unlinked(sender, **kw):
        received.append(("unlinked", sender, kw))

    def on_linked(sender, **kw):
        received.append(("linked", sender, kw))

    identity_unlinked.connect(on_unlinked, app)
    identity_linked.connect(on_linked, app)
    caplog.set_level(logging.INFO, logger="linked_accounts.events")
    with serving(app) as url:
        visitor = Visitor(url)
        visitor.http.headers["User-Agent"] = "EventsTest/1.0"
        visitor.login("Ben Carter")
        visitor.link("Link GitHub", "Grace Hopper")
        visitor.unlink("github|7654321")

    assert [(kind, sender) for kind, sender, _ in received] == [("linked", app), ("unlinked", app)]
    assert all(kw["user_id"] == t.BEN for _, _, kw in received)
    assert [kw["identity"].key for _, _, kw in received] == ["github|7654321"] * 2

    fields = ("event", "user_id", "provider", "connection", "identity", "at", "ip", "user_agent")
    records = [r for r in caplog.records if r.name == "linked_accounts.events"]
    merged = [(r.primary_id, r.merged_id) for r in records if r.event == "accounts-merged"]
    assert merged == [(t.BEN, "github|7654321")]  # the link merged that user into Ben
    lines = [{f: getattr(r, f) for f in fields} for r in records if r.event != "accounts-merged"]
    assert [line["event"] for line in lines] == ["identity-linked", "identity-unlinked"]
    for line in lines:
        assert line["user_id"] == t.BEN
        assert line["provider"] == "github"
        assert line["ip"] == "127.0.0.1"
        assert line["user_agent"] == "EventsTest/1.0"
        assert line["at"].endswith("Z")
    text = caplog.text
    session_id = visitor.http.cookies.get("session")
    assert "eyJ" not in text  # no JWT (access or ID token) in any log line
    assert "dev-client-secret" not in text
    assert session_id and session_id not in text
