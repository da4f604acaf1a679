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

from linked_accounts import LinkedAccounts, account, init_sessions
from linked_accounts.security import install_security_headers


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
    app.config.update(config or {})
    app.config["SECRET_KEY"] = app.config.get("APP_SECRET_KEY") or os.environ["APP_SECRET_KEY"]
    init_sessions(app)  # server-side sessions first: the extension keeps Auth0 tokens in them
    CSRFProtect(app)
    LinkedAccounts(app, url_prefix="/settings/sign-in")  # AUTH0_* from config, else environment
    issuer = app.extensions["linked_accounts"].settings.issuer_origin
    install_security_headers(app, form_action=(issuer,))  # logout posts on to Auth0

    @app.get("/")
    def home():
        """The product's own page."""
        return render_template("home.html", signed_in=account.current() is not None)

    return app
