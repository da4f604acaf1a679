"""Link, unlink and deletion events: one structured log line, the security email (when
configured), and a Flask signal for the host."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from flask import current_app, request

from .identities import Identity
from .names import identity_name
from .signals import accounts_merged, identity_linked, identity_unlinked, separated_deleted
from .state import state

if TYPE_CHECKING:
    from .signin.account import Account

__all__ = ["accounts_merged", "emit", "identity_linked", "identity_unlinked", "separated_deleted"]

log = logging.getLogger("linked_accounts.events")

# The changes the user is emailed about (when LINKED_ACCOUNTS_SMTP_URL is set).
NOTIFIED = {identity_linked: "linked", identity_unlinked: "unlinked"}


def emit(signal, acct: Account, identity: Identity) -> None:
    """Tell the log, the user and the host who changed what, when and from where; never a token."""
    user_id = acct.user_id
    record = {
        "event": signal.name,
        "user_id": user_id,
        "provider": identity.provider,
        "connection": identity.connection,
        "identity": identity.key,
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "ip": request.remote_addr,
        "user_agent": request.user_agent.string[:200],
    }
    # The fields go in as `extra`, so the JSON log formatter writes them as fields of the line
    # (searchable), not as a JSON string inside its message.
    log.info("%s %s for %s", record["event"], record["identity"], user_id, extra=record)
    notifier = state().notifier
    if notifier is not None and signal in NOTIFIED:
        # Everything the email says comes with it: whom to write to, and the host's name for the
        # sign-in method (in this request's language).
        notifier.notify(NOTIFIED[signal], identity, identity_name(identity), acct.email, record)
    signal.send(current_app._get_current_object(), user_id=user_id, identity=identity, event=record)
