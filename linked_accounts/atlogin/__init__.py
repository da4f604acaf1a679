"""The at-login door: this extension as the "external linking application" of Auth0's post-login
Action pattern, which replaces the Account Link Extension. The Action (action/link-accounts.js,
shipped with the package) sends a person whose new account shares its verified email with an
older one here at their first login; the page asks, proves, and answers; the Action links.

An optional feature, like `suggestions` (whose words, plan and proof it reuses): only the wiring
imports it, and only when `LINKED_ACCOUNTS_AT_LOGIN_SECRET` is set.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Flask
from flask.cli import AppGroup

from ..signals import login_finished
from . import views
from .install import install_action_command
from .merged import announce_from_claims, merged_at_login

DEFAULTS: Mapping[str, Any] = {
    # The HS256 secret shared with the post-login Action (its LINKING_SECRET): the door is open
    # only when it is set.
    views.SECRET: "",
}
MIN_SECRET = 32  # characters: an HS256 key shorter than its hash is guessable offline


def problems(config: Mapping[str, Any]) -> list[str]:
    """Name what is wrong with the door's config, for the one start-up message."""
    secret = str(config.get(views.SECRET) or "")
    if secret and len(secret) < MIN_SECRET:
        return [f"{views.SECRET} must be at least {MIN_SECRET} characters (a random secret)"]
    return []


def enabled(config: Mapping[str, Any]) -> bool:
    return bool(config.get(views.SECRET))


def init_app(app: Flask, html: Blueprint) -> None:
    """Add the door's pages, and tell the host of a merge the Action made at login."""
    views.register(html)
    login_finished.connect(announce_from_claims, sender=app, weak=False)


def add_commands(app: Flask) -> None:
    """`flask linked-accounts install-action`: the Action onto a tenant, whether or not the door
    is open in this app yet (the install often runs before the page serves)."""
    group = AppGroup("linked-accounts", help="The linked-accounts extension's commands.")
    group.add_command(install_action_command)
    app.cli.add_command(group)


__all__ = [
    "DEFAULTS",
    "add_commands",
    "announce_from_claims",
    "enabled",
    "init_app",
    "merged_at_login",
    "problems",
]
