"""Security notices: email the user after every link and unlink, saying what changed, when, and
from which IP address and browser.

On when `LINKED_ACCOUNTS_SMTP_URL` is set: `smtp://host:port`, or
`smtps://user:password@host:465`; `LINKED_ACCOUNTS_SMTP_FROM` names the sender. `events.emit`
calls `notify` after every link and unlink, with everything the mail says: the recipient, the
sign-in method's name, and the event. Mail goes out from a background
thread with a short socket timeout, so a slow or dead mail server never makes the user wait, and
a failure is logged (one line, no secrets) without touching the change already made.
"""

from __future__ import annotations

import logging
import smtplib
import threading
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlsplit

from babel.dates import format_datetime

from .i18n import _, html_lang
from .identities import Identity

log = logging.getLogger(__name__)

SMTP_TIMEOUT = 5.0  # seconds per socket operation, in the background thread


class Notifier:
    """Sends one email per link/unlink event to the signed-in user's address."""

    def __init__(self, url: str, sender: str = "", timeout: float = SMTP_TIMEOUT):
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://host:port or smtps://host:port")
        self.tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = sender or f"no-reply@{self.host}"
        self.timeout = timeout
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def flush(self, timeout: float = 10.0) -> None:
        """Wait for the mails being sent (tests, and a clean shutdown)."""
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)

    def notify(
        self,
        change: str,
        identity: Identity,
        name: str,
        to: str | None,
        event: dict[str, Any],
    ) -> None:
        """Email `to` that `identity` (called `name`) was `change`d ("linked"/"unlinked")."""
        if not to:
            log.warning("security notice not sent: the account has no email address")
            return
        message = self._message(to, change, identity, name, event)
        thread = threading.Thread(target=self._send, args=(message, event["event"]), daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def _message(
        self, to: str, change: str, identity: Identity, name: str, event: dict[str, Any]
    ) -> EmailMessage:
        which = f"{name} ({identity.detail})" if identity.detail else name
        # Built in the request that made the change, so in the language of its pages.
        if change == "linked":
            subject = _("%(name)s was linked on your account", name=name)
            what = _("%(which)s was linked to your account.", which=which)
        else:
            subject = _("%(name)s was unlinked on your account", name=name)
            what = _("%(which)s was unlinked from your account.", which=which)
        facts = [
            _("When: %(when)s", when=_when(event["at"])),
            _("From IP address: %(ip)s", ip=event["ip"]),
            _("Browser: %(browser)s", browser=event["user_agent"] or _("unknown")),
        ]
        advice = _(
            "If this was you, there is nothing to do. If it was not, sign in, check your linked "
            "accounts, and change your password."
        )
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message.set_content(f"{what}\n\n" + "\n".join(facts) + f"\n\n{advice}\n")
        return message

    def _send(self, message: EmailMessage, event_name: str) -> None:
        smtp_class = smtplib.SMTP_SSL if self.tls else smtplib.SMTP
        try:
            with smtp_class(self.host, self.port, timeout=self.timeout) as smtp:
                if self.username and self.password:
                    smtp.login(self.username, self.password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            # The change stands either way; say what failed, never the address or credentials.
            log.warning("security notice for %s not sent: %s", event_name, type(exc).__name__)


def _when(at: str) -> str:
    """The event's moment in the reader's language, in UTC, said so: an email is read later and
    anywhere, and the server does not know the reader's time zone ("December 2, 2026, 1:02:38 AM
    UTC", German "2. Dezember 2026, 01:02:38 UTC")."""
    moment = datetime.strptime(at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    locale = html_lang().replace("-", "_")
    return format_datetime(moment, "long", tzinfo=UTC, locale=locale)  # ends in "UTC"
