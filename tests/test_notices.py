"""Security notices: an email after every link and unlink, through a real local SMTP server;
a mail server that is down never blocks or undoes the change."""

from __future__ import annotations

import logging
import re
import time
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from tests.support import tenant as t
from tests.support.servers import free_port, serving
from tests.support.visitor import Visitor

UA = "NoticesTest/1.0 (X11; Linux)"


class Inbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        msg = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((envelope.rcpt_tos, msg))
        return "250 OK"

    def wait_for(self, count: int, seconds: float = 10) -> list:
        deadline = time.monotonic() + seconds
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield inbox, f"smtp://127.0.0.1:{controller.port}"
    finally:
        controller.stop()


def body(msg) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content()


def test_link_and_unlink_each_send_a_notice_saying_what_when_and_from_where(make_app, tenant, smtp):
    inbox, url = smtp
    app = make_app(LINK_CONNECTIONS="github", SMTP_URL=url, SMTP_FROM="security@app.test")
    with serving(app) as base:
        visitor = Visitor(base)
        visitor.http.headers["User-Agent"] = UA
        visitor.login("Ben Carter")
        before = time.gmtime(time.time() - 1)
        assert "is now linked" in visitor.link("Link GitHub", "Grace Hopper").text
        linked = inbox.wait_for(1)
        assert len(linked) == 1
        assert "was unlinked" in visitor.unlink(t.GRACE).text
        messages = inbox.wait_for(2)
    assert len(messages) == 2
    for (rcpt, msg), verb in zip(messages, ("linked to", "unlinked from"), strict=True):
        assert rcpt == ["ben@example.com"]
        assert msg["To"] == "ben@example.com"
        assert msg["From"] == "security@app.test"
        assert msg["Subject"] == f"GitHub was {verb.split()[0]} on your account"
        text = body(msg)
        assert f"GitHub (grace@example.com) was {verb} your account." in text
        assert "From IP address: 127.0.0.1" in text
        assert f"Browser: {UA}" in text
        # The time in UTC, said so, in words: "When: December 2, 2026, 1:02:38 AM UTC".
        day = f"{time.strftime('%B', before)} {before.tm_mday}, {before.tm_year}"
        assert re.search(rf"When: {day}, \d{{1,2}}:\d\d:\d\d\s[AP]M UTC\r?\n", text), text
        assert "eyJ" not in text  # no token
    assert t.identity_keys(tenant, t.BEN) == [t.BEN]


def test_a_mail_server_that_is_down_never_blocks_or_undoes_an_unlink(make_app, tenant, caplog):
    caplog.set_level(logging.WARNING, logger="linked_accounts.notices")
    app = make_app(SMTP_URL=f"smtp://127.0.0.1:{free_port()}")  # nothing listens there
    with serving(app) as base:
        visitor = Visitor(base)
        visitor.login("Ada Lovelace")
        page = visitor.unlink(t.ADA_GITHUB)
        app.extensions["linked_accounts"].notifier.flush()
    assert page.status_code == 200 and "was unlinked" in page.text
    assert t.identity_keys(tenant, t.ADA) == [t.ADA, t.ADA_GOOGLE, t.ADA_SAML]
    failures = [r.getMessage() for r in caplog.records if r.name == "linked_accounts.notices"]
    assert failures == ["security notice for identity-unlinked not sent: ConnectionRefusedError"]
    assert "ada@example.com" not in caplog.text


def test_without_smtp_url_no_notices_are_set_up(make_app, monkeypatch):
    monkeypatch.delenv("SMTP_URL", raising=False)
    assert make_app().extensions["linked_accounts"].notifier is None
    monkeypatch.setenv("SMTP_URL", "smtp://127.0.0.1:2525")
    assert make_app().extensions["linked_accounts"].notifier.port == 2525
