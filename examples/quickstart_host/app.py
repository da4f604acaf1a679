"""Acme Shop: a product that signs its users in the way Auth0's Flask quickstart does (its own
Authlib client, /login, /callback, /logout), with the linked-accounts page mounted as its account
settings in host sign-in mode: people sign in once, to the product.

    AUTH0_DOMAIN=... AUTH0_CLIENT_ID=... AUTH0_CLIENT_SECRET=... APP_SECRET_KEY=... \\
        flask --app examples/quickstart_host/app.py run

The Auth0 application needs both callback URLs allowed: the product's `/callback` and the
extension's `/settings/accounts/callback`.
"""

from __future__ import annotations

import os
from urllib.parse import quote_plus, urlencode

from authlib.integrations.flask_client import OAuth
from flask import Flask, redirect, render_template, request, session, url_for

from linked_accounts import (
    LinkedAccounts,
    accounts_merged,
    init_sessions,
    merged_at_login,
    safe_next,
)

SETTINGS = ("AUTH0_DOMAIN", "AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET", "APP_SECRET_KEY", "REDIS_URL")
# The at-login door (optional): the secret shared with the post-login Action.
DOOR_SETTINGS = {"AT_LOGIN_SECRET": "LINKED_ACCOUNTS_AT_LOGIN_SECRET"}


def create_app(config: dict | None = None) -> Flask:
    """Build the product; `config` overrides what it reads from the environment."""
    app = Flask(__name__)
    app.config.update({name: os.environ.get(name) for name in SETTINGS})
    app.config.update({key: os.environ[n] for n, key in DOOR_SETTINGS.items() if n in os.environ})
    app.config["LINKED_ACCOUNTS_BASE_TEMPLATE"] = "layout.html"  # the settings in our own layout
    app.config.update(config or {})
    app.secret_key = app.config["APP_SECRET_KEY"]
    domain = app.config["AUTH0_DOMAIN"]
    issuer = domain if "://" in domain else f"https://{domain}"
    if "SESSION_COOKIE_SECURE" not in (config or {}):
        # Secure (so the cookie is named __Host-session) everywhere but on this machine with the
        # development tenant: only a loopback tenant may be plain http.
        app.config["SESSION_COOKIE_SECURE"] = not issuer.startswith("http://")
    # The quickstart keeps its session in Flask's cookie; tokens belong on the server, and the
    # extension needs server-side sessions anyway (in Redis when REDIS_URL is set).
    init_sessions(app, app.config.get("REDIS_URL"))

    oauth = OAuth(app)
    oauth.register(
        "auth0",
        client_id=app.config["AUTH0_CLIENT_ID"],
        client_secret=app.config["AUTH0_CLIENT_SECRET"],
        # The quickstart's client, plus PKCE (current OAuth advice, RFC 9700). Like Auth0, the
        # development tenant checks PKCE when sent and does not require it of a confidential
        # client: the host snippet of docs/embedding.md, without it, signs in too.
        client_kwargs={"scope": "openid profile email", "code_challenge_method": "S256"},
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
    )

    @app.route("/login")
    def login():
        session["next"] = safe_next(request.args.get("next"))  # back where they were going
        return oauth.auth0.authorize_redirect(redirect_uri=url_for("callback", _external=True))

    @app.route("/callback", methods=["GET", "POST"])
    def callback():
        token = oauth.auth0.authorize_access_token()
        session["user"] = token
        app.session_interface.regenerate(session)  # a new id at sign-in: a planted one is void
        # A login the at-login door merged says so in its ID token: tell the product, once.
        merged_at_login(token["userinfo"])
        return redirect(session.pop("next", None) or "/")

    @app.route("/logout")
    def logout():
        session.clear()
        query = {
            "returnTo": url_for("home", _external=True),
            "client_id": app.config["AUTH0_CLIENT_ID"],
        }
        return redirect(f"{issuer}/v2/logout?" + urlencode(query, quote_via=quote_plus))

    @app.route("/")
    def home():
        return render_template("home.html", user=(session.get("user") or {}).get("userinfo"))

    def current_user() -> str | None:
        """The Auth0 user id of the person this product has signed in, or None."""
        return ((session.get("user") or {}).get("userinfo") or {}).get("sub")

    def current_user_name() -> str | None:
        """How that person knows their account: named when Auth0 signs someone else in."""
        userinfo = (session.get("user") or {}).get("userinfo") or {}
        return userinfo.get("email") or userinfo.get("name")

    def accounts_were_merged(sender, primary_id: str, merged_id: str) -> None:
        """Auth0 linked `merged_id` into `primary_id`: the merged user id no longer exists.
        Move what the product keeps under it here (Acme Shop keeps nothing). If the person is
        signed in as it, sign them in again: Auth0's latest sign-in is the primary's, so the
        product's login comes straight back as the primary, with no page in between."""
        if current_user() == merged_id:
            session.pop("user", None)

    # Not weak: the receiver is a local function, which would be collected after create_app.
    accounts_merged.connect(accounts_were_merged, app, weak=False)
    LinkedAccounts(
        app,
        url_prefix="/settings/accounts",
        current_user=current_user,
        current_user_name=current_user_name,
        login_url="login",  # your login endpoint (or URL); it gets ?next=<the page asked for>
    )
    return app
