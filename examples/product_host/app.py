"""Acme Notes: a tiny product that mounts the linked-accounts page as its own settings page.

    AUTH0_DOMAIN=... AUTH0_CLIENT_ID=... AUTH0_CLIENT_SECRET=... APP_SECRET_KEY=... \\
        flask --app examples/product_host/app.py run

Everything the page needs comes from the extension; the product supplies its layout, its nav,
its brand (CSS custom properties) and the names and icons of its own enterprise login.
"""

from __future__ import annotations

import os

from flask import Flask, render_template
from flask_wtf import CSRFProtect

from linked_accounts import LinkedAccounts, current_account, init_sessions

AUTH0_SETTINGS = ("AUTH0_DOMAIN", "AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET")


def create_app(config: dict | None = None) -> Flask:
    """Build the product; `config` overrides what it reads from the environment."""
    app = Flask(__name__)
    app.config.update(
        LINKED_ACCOUNTS_BASE_TEMPLATE="layout.html",  # our layout wraps the extension's pages
        LINKED_ACCOUNTS_APP_NAME="Acme Notes",
        LINKED_ACCOUNTS_CONNECTIONS={
            "acme-saml": {"name": "Acme SSO", "icon": "/static/acme-sso.svg"},
        },
    )
    for name in AUTH0_SETTINGS:  # the extension reads app.config only: the product maps its env
        app.config[name] = os.environ.get(name)
    app.config.update(config or {})
    app.config["SECRET_KEY"] = app.config.get("APP_SECRET_KEY") or os.environ["APP_SECRET_KEY"]
    init_sessions(app)  # server-side sessions first: the extension keeps Auth0 tokens in them
    CSRFProtect(app)
    LinkedAccounts(app, url_prefix="/settings/sign-in")
    issuer = app.extensions["linked_accounts"].settings.issuer_origin
    # The product's own policy: nothing from elsewhere, and logout posts on to Auth0.
    policy = f"default-src 'self'; img-src 'self' data:; form-action 'self' {issuer}"

    @app.after_request
    def content_security_policy(response):
        response.headers.setdefault("Content-Security-Policy", policy + "; frame-ancestors 'none'")
        return response

    @app.get("/")
    def home():
        """The product's own page."""
        return render_template("home.html", signed_in=current_account() is not None)

    return app
