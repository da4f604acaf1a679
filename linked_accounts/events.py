"""Link, unlink, merge and deletion events: one structured log line, the security email (when
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

__all__ = [
    "accounts_merged",
    "emit",
    "identity_linked",
    "identity_unlinked",
    "merged",
    "separated_deleted",
]

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


def merged(primary_id: str, merged_id: str) -> None:
    """Tell the log and the host that `merged_id` was linked into `primary_id` (after every link,
    whoever started it), so the host can move what it keeps under the merged id: Auth0 does not,
    and that user id no longer exists."""
    log.info(
        "accounts merged: %s into %s",
        merged_id,
        primary_id,
        extra={"event": "accounts-merged", "primary_id": primary_id, "merged_id": merged_id},
    )
    accounts_merged.send(
        current_app._get_current_object(), primary_id=primary_id, merged_id=merged_id
    )
