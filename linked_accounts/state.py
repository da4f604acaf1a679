"""Per-app state of the extension, kept in `app.extensions` (never on the extension object)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app

from .m2m import ClientCredentials
from .management import ManagementClient
from .settings import Settings

EXTENSION = "linked_accounts"


@dataclass(frozen=True)
class State:
    """What one host app's instance of the extension works with."""

    settings: Settings
    client: ManagementClient
    oauth: Any  # Authlib's FlaskOAuth2App registered as "auth0" on this app's own registry
    m2m: ClientCredentials | None = None  # only for DELETE_SEPARATED_MODE=server


def state() -> State:
    """Return the current app's extension state."""
    return current_app.extensions[EXTENSION]
