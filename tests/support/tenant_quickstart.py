"""A product written as Auth0's Flask quickstart writes it (Authlib, a Regular Web Application,
no PKCE), to check that the development tenant lets it sign in as Auth0 does."""

from __future__ import annotations

from authlib.integrations.flask_client import OAuth
from flask import Flask, redirect, session, url_for


def create_app(domain: str, client_id: str, client_secret: str) -> Flask:
    """The quickstart's app: /login, /callback, and a home page naming who is signed in."""
    app = Flask(__name__)
    app.secret_key = "quickstart-test-secret-" + "x" * 20  # noqa: S105 - a test app's key
    oauth = OAuth(app)
    oauth.register(
        "auth0",
        client_id=client_id,
        client_secret=client_secret,
        client_kwargs={"scope": "openid profile email"},  # as written: no code_challenge_method
        server_metadata_url=f"{domain}/.well-known/openid-configuration",
    )

    @app.route("/login")
    def login():
        return oauth.auth0.authorize_redirect(redirect_uri=url_for("callback", _external=True))

    @app.route("/callback")
    def callback():
        token = oauth.auth0.authorize_access_token()
        session["user"] = token["userinfo"]["name"]
        return redirect("/")

    @app.route("/")
    def home():
        return f"Hello {session['user']}" if "user" in session else "Signed out"

    return app
