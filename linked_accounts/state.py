"""Per-app state of the extension, kept in `app.extensions` (never on the extension object)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import current_app

if TYPE_CHECKING:  # types only: these modules themselves look up the state
    from .auth0.m2m import ClientCredentials
    from .auth0.management import ManagementClient
    from .notices import Notifier
    from .purposes import Resumable, Trip, TripHandler
    from .settings import Settings

EXTENSION = "linked_accounts"

# Carries out a confirmed action after a fresh login: (acct, proof=FreshLogin, **args).
ResumableAction = Callable[..., Any]


@dataclass(frozen=True)
class State:
    """What one host app's instance of the extension works with."""

    settings: Settings
    management: ManagementClient  # the Management API, with the user's own token
    auth0: Any  # Authlib's FlaskOAuth2App for the tenant, on this app's own OAuth registry
    m2m: ClientCredentials | None  # only for LINKED_ACCOUNTS_DELETE_SEPARATED_MODE=server
    notifier: Notifier | None  # security emails, when LINKED_ACCOUNTS_SMTP_URL is set
    trip_handlers: Mapping[Trip, TripHandler]  # what finishes each kind of trip to Auth0
    resumable: Mapping[Resumable, ResumableAction]  # what a fresh login resumes, and how
    # Host sign-in mode: the host's signed-in user's Auth0 id (or None), and where it signs in.
    current_user: Callable[[], str | None] | None = None
    login_url: str | None = None
    # ...and how that user knows their account (an email or a name), to name it on a page.
    current_user_name: Callable[[], str | None] | None = None
    # The host's preparation for a merge, before every link: (primary_id, merged_id).
    before_merge: Callable[[str, str], None] | None = None

    @property
    def host_signs_in(self) -> bool:
        """Tell whether the host owns sign-in and sign-out (the extension is its guest)."""
        return self.current_user is not None

    def host_user(self) -> str | None:
        """Return the Auth0 user id of the person the host has signed in, if any."""
        if self.current_user is None:
            return None
        sub = self.current_user()
        return str(sub) if sub else None


def state() -> State:
    """Return the current app's extension state."""
    return current_app.extensions[EXTENSION]
