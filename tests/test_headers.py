"""The extension's own headers, wherever it is mounted: no-store, nosniff and a framing policy
unless the host set one; warnings at start-up for a weak cookie or secret with a real tenant."""

from __future__ import annotations

import logging

import flask
import pytest

from tests.support import tenant as t
from tests.support.forms import submit
from tests.support.visitor import Visitor


def bare_host(tenant: str, tmp_path, **config) -> flask.Flask:
    """A host app that sends no security headers of its own."""
    from linked_accounts import LinkedAccounts
    from tests.test_extension import host

    secret = config.pop("SECRET_KEY", None)
    app = host(tenant, tmp_path, **config)
    if secret:
        app.config["SECRET_KEY"] = secret
    LinkedAccounts(app, url_prefix="/account")

    @app.get("/")
    def index():
        return "host page"

    return app


def test_embedded_pages_carry_no_store_nosniff_and_a_framing_policy(tenant, tmp_path, serve):
    app = bare_host(tenant, tmp_path)
    visitor = Visitor(serve(app))
    submit(visitor.http, visitor.get("/account/login"), "Continue as Ada Lovelace")
    for path in ("/account/", f"/account/unlink?identity={t.ADA_GITHUB}", "/account/api/session"):
        response = visitor.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"], path
    host_page = visitor.get("/")
    assert "Content-Security-Policy" not in host_page.headers  # the host's own pages: its call


def test_a_hosts_own_framing_policy_wins(tenant, tmp_path):
    app = bare_host(tenant, tmp_path)

    @app.after_request
    def host_policy(response):
        response.headers["Content-Security-Policy"] = "frame-ancestors https://portal.example"
        return response

    response = app.test_client().get("/account/api/session")
    assert response.headers.getlist("Content-Security-Policy") == [
        "frame-ancestors https://portal.example"
    ]


def test_start_up_warns_when_the_cookie_is_not_secure_for_a_real_tenant(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="linked_accounts"):
        bare_host("https://tenant.eu.auth0.com", tmp_path, SESSION_COOKIE_SECURE=False)
    assert any("SESSION_COOKIE_SECURE is off" in r.getMessage() for r in caplog.records)


def test_control_no_warning_for_a_loopback_development_tenant(tenant, tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="linked_accounts"):
        bare_host(tenant, tmp_path, SESSION_COOKIE_SECURE=False)
    assert not any("SESSION_COOKIE_SECURE" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    "path", ["/account/", "/account/api/session", "/account/api/identities", "/account/unlink"]
)
def test_every_page_and_json_answer_of_a_signed_in_user_is_no_store(base, path):
    ada = Visitor(base)
    ada.login()
    query = f"?identity={t.ADA_GITHUB}" if path.endswith("unlink") else ""
    response = ada.get(path + query)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_start_up_warns_when_the_secret_is_short_for_a_real_tenant(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="linked_accounts"):
        bare_host("https://tenant.eu.auth0.com", tmp_path, SECRET_KEY="short-secret")
    assert any("shorter than 32 characters" in r.getMessage() for r in caplog.records)


def host_signing_in(tmp_path) -> flask.Flask:
    """A host in host sign-in mode that sends no security headers and has its own 404s."""
    from linked_accounts import LinkedAccounts
    from tests.test_extension import OFFLINE_TENANT, host

    app = host(OFFLINE_TENANT, tmp_path)
    LinkedAccounts(app, url_prefix="/account", current_user=lambda: None, login_url="/login")
    return app


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/account/no-such-page", 404),
        ("GET", "/account/logout", 404),  # the host signs people out in this mode
        ("GET", "/account/api/no-such-call", 404),
        ("POST", "/account/", 405),
        ("GET", "/account/api/identities/unlink", 405),
    ],
)
def test_in_host_sign_in_mode_its_404_and_405_answers_carry_its_headers(
    tmp_path, method, path, status
):
    response = host_signing_in(tmp_path).test_client().open(path, method=method)
    assert response.status_code == status
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "frame-ancestors 'self'"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_in_host_sign_in_mode_its_static_files_are_not_sniffed_nor_framed_yet_cacheable(tmp_path):
    client = host_signing_in(tmp_path).test_client()
    with client.get("/account/la-static/linked-accounts.css") as response:
        assert response.status_code == 200 and response.mimetype == "text/css"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]
        assert "no-store" not in response.headers.get("Cache-Control", "")


@pytest.mark.parametrize("path", ["/no-such-page", "/accounting", "/api/no-such-call"])
def test_control_the_hosts_own_404s_are_left_to_it(tmp_path, path):
    response = host_signing_in(tmp_path).test_client().get(path)
    assert response.status_code == 404
    assert "Content-Security-Policy" not in response.headers
    assert "Cache-Control" not in response.headers
