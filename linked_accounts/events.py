"""Link and unlink events: a Flask signal for the host, and one structured log line each."""

from __future__ import annotations

import logging
import time

from blinker import Namespace
from flask import current_app, request

from .identities import Identity

signals = Namespace()
identity_linked = signals.signal("identity-linked")
identity_unlinked = signals.signal("identity-unlinked")
separated_deleted = signals.signal("separated-account-deleted")

log = logging.getLogger("linked_accounts.events")


def emit(signal, *, user_id: str, identity: Identity) -> None:
    """Tell subscribers and the log who changed what, when and from where; never a token."""
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
    signal.send(current_app._get_current_object(), user_id=user_id, identity=identity, event=record)
