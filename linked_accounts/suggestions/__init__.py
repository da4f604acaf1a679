"""Link suggestions: the other Auth0 accounts with the person's verified email, offered on the
settings page and merged the right way round. An optional feature: only the wiring imports it,
and it hears of the core's changes through the core's signals."""

from __future__ import annotations

from flask import Blueprint, Flask

from ..auth0.m2m import ClientCredentials
from . import lookup, views
from . import settings as config
from .lookup import ChoosePrimary

__all__ = ["ChoosePrimary", "config", "init_app"]


def init_app(
    app: Flask,
    m2m: ClientCredentials | None,
    choose_primary: ChoosePrimary | None,
    html: Blueprint,
    json_api: Blueprint,
    app_metadata: ClientCredentials | None = None,
) -> None:
    """Keep this app's suggester and add its pages (`m2m`: read:users, when the feature is on;
    `app_metadata`: read:users update:users_app_metadata, with MERGE_APP_METADATA)."""
    lookup.init_app(app, config.load(app.config), m2m, choose_primary, app_metadata)
    views.register(app, html, json_api)
