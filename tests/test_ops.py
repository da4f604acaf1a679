"""Operations: health and readiness endpoints, request ids, JSON logs, graceful shutdown."""

from __future__ import annotations

import io
import json
import logging
import os
import runpy
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from devtenant import create_app as create_tenant
from linked_accounts.signin import trips
from standalone.logs import json_handler, scrub
from tests.support import tenant as t
from tests.support.servers import free_port, serving, wait_for
from tests.support.visitor import Visitor

ROOT = Path(__file__).resolve().parent.parent


def dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def log_lines():
    """Every log line written while the test runs, as the production handler formats it."""
    stream = io.StringIO()
    handler = json_handler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)


def test_healthz_answers_even_when_every_dependency_is_down(make_app):
    app = make_app(AUTH0_DOMAIN=dead_url(), REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_is_ready_with_the_file_store_and_the_tenant_up(make_app):
    response = make_app().test_client().get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ready"
    assert body["checks"]["sessions"]["ok"] and body["checks"]["auth0"]["ok"]
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_pings_redis_when_sessions_live_there(make_app, redis_url):
    assert make_app(REDIS_URL=redis_url).test_client().get("/readyz").status_code == 200
    down = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0").test_client().get("/readyz")
    assert down.status_code == 503
    checks = down.get_json()["checks"]
    assert checks["sessions"] == {"ok": False, "ms": checks["sessions"]["ms"],
                                  "error": "ConnectionError"}  # fmt: skip
    assert checks["auth0"]["ok"]


def test_readyz_goes_unavailable_when_the_tenant_goes_down(make_app):
    with serving(create_tenant()) as own_tenant:
        client = make_app(AUTH0_DOMAIN=own_tenant, READYZ_CACHE_SECONDS="0").test_client()
        assert client.get("/readyz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"]["auth0"]["ok"] is False
    assert body["checks"]["sessions"]["ok"] is True


def test_readyz_asks_the_tenant_every_time_not_authlibs_cache(make_app):
    with serving(create_tenant()) as own_tenant:
        app = make_app(AUTH0_DOMAIN=own_tenant)
        with app.app_context():
            app.extensions["linked_accounts"].auth0.load_server_metadata()  # cached forever
        client = app.test_client()
    assert client.get("/readyz").status_code == 503


def test_readyz_reuses_its_answer_so_no_request_rate_reaches_auth0(make_app, tenant):
    client = make_app().test_client()
    first = client.get("/readyz")
    assert first.status_code == 200
    # From now on the discovery document would fail: a probe reaching the tenant would use up
    # the fault and answer 503. The answer is reused instead, and says how old it is.
    t.fault(tenant, "discovery", status=503, times=5)
    for _ in range(20):
        again = client.get("/readyz")
        assert again.status_code == 200
        assert again.get_json()["checks"] == first.get_json()["checks"]
        assert 0 <= again.get_json()["age_s"] < 5
    assert requests.get(f"{tenant}/__dev/faults", timeout=5).json()[0]["times"] == 5


def test_readyz_may_require_a_token(make_app):
    client = make_app(READYZ_TOKEN="probe-token-1234").test_client()
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "probe-token-1234"}):
        refused = client.get("/readyz", headers=headers)
        assert refused.status_code == 401 and refused.get_json() == {"status": "unauthorized"}
        assert refused.headers["WWW-Authenticate"] == "Bearer"
    allowed = client.get("/readyz", headers={"Authorization": "Bearer probe-token-1234"})
    assert allowed.status_code == 200 and allowed.get_json()["status"] == "ready"
    assert client.get("/healthz").status_code == 200  # liveness stays open


def test_readyz_may_be_kept_to_loopback_or_a_token(make_app):
    client = make_app(READYZ_LOOPBACK_ONLY="1").test_client()
    assert client.get("/readyz").status_code == 200  # the test client comes from 127.0.0.1
    remote = {"REMOTE_ADDR": "10.0.0.7"}
    refused = client.get("/readyz", environ_base=remote)
    assert refused.status_code == 403 and refused.get_json() == {"status": "forbidden"}
    both = make_app(READYZ_LOOPBACK_ONLY="1", READYZ_TOKEN="probe-token-1234").test_client()
    token = {"Authorization": "Bearer probe-token-1234"}
    assert both.get("/readyz", environ_base=remote, headers=token).status_code == 200
    assert both.get("/readyz", environ_base=remote).status_code == 401


def test_readyz_loopback_only_behind_a_trusted_proxy_stops_start_up(make_app):
    # With TRUST_PROXY=1 the address checked is the forwarded one: a client sending
    # X-Forwarded-For: 127.0.0.1 would pass, and a proxy on the same host is loopback itself.
    for token in ("", "probe-token-1234"):
        with pytest.raises(SystemExit) as stopped:
            make_app(READYZ_LOOPBACK_ONLY="1", TRUST_PROXY="1", READYZ_TOKEN=token)
        message = str(stopped.value)
        assert "READYZ_LOOPBACK_ONLY=1" in message and "TRUST_PROXY=1" in message
        assert "Set READYZ_TOKEN instead" in message
    # Each on its own still starts; so does the token behind a proxy.
    make_app(READYZ_LOOPBACK_ONLY="1")
    client = make_app(TRUST_PROXY="1", READYZ_TOKEN="probe-token-1234").test_client()
    forged = {"X-Forwarded-For": "127.0.0.1"}
    assert (
        client.get("/readyz", headers=forged, environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code
        == 401
    )


def test_a_readyz_cache_time_that_is_not_a_number_stops_start_up(make_app):
    with pytest.raises(SystemExit, match="READYZ_CACHE_SECONDS must be a number"):
        make_app(READYZ_CACHE_SECONDS="soon")


def test_a_sane_request_id_is_echoed_and_a_bad_one_replaced(make_app):
    client = make_app().test_client()
    given = "req-1234abcd.5678"
    assert client.get("/healthz", headers={"X-Request-ID": given}).headers["X-Request-ID"] == given
    for bad in ("short", "x" * 200, "a b c d e f g h", "<script>alert(1)</script>"):
        echoed = client.get("/healthz", headers={"X-Request-ID": bad}).headers["X-Request-ID"]
        assert echoed != bad and len(echoed) == 32
    first, second = (client.get("/healthz").headers["X-Request-ID"] for _ in range(2))
    assert first != second


def test_every_response_says_how_long_the_server_took(make_app):
    timing = make_app().test_client().get("/healthz").headers["Server-Timing"]
    assert timing.startswith("app;dur=")
    assert float(timing.split("=", 1)[1]) >= 0


def test_log_lines_are_json_and_carry_the_request_id(make_app, log_lines):
    app = make_app()

    @app.get("/log-probe")
    def log_probe():
        logging.getLogger("tests.probe").warning("probe from inside a request")
        return "ok"

    response = app.test_client().get("/log-probe?secret=1", headers={"X-Request-ID": "probe-0001"})
    assert response.headers["X-Request-ID"] == "probe-0001"
    lines = [line for line in log_lines() if line["request_id"] == "probe-0001"]
    assert {line["logger"] for line in lines} == {"tests.probe", "linked_accounts.access"}
    access = next(line for line in lines if line["logger"] == "linked_accounts.access")
    assert access["path"] == "/log-probe" and access["status"] == 200
    assert access["method"] == "GET" and access["duration_ms"] >= 0


def test_a_whole_login_and_unlink_logs_no_token_cookie_or_query_string(app_url, tenant, log_lines):
    ada = Visitor(app_url)
    ada.login("Ada Lovelace")
    ada.unlink(t.ADA_GITHUB)
    cookie = ada.http.cookies.get("session", domain="127.0.0.1")
    text = "\n".join(json.dumps(line) for line in log_lines())
    access = [line for line in log_lines() if line["logger"] == "linked_accounts.access"]
    assert {"/account/callback", "/account/unlink"} <= {line["path"] for line in access}
    assert all(line["request_id"] for line in log_lines())
    for secret in (cookie, "?", "code=", "state=", "eyJ", "Bearer"):
        assert secret not in text


@pytest.mark.parametrize(
    ("message", "leak"),
    [
        ('"GET /account/callback?code=abc&state=def HTTP/1.1" 302', "code=abc"),
        ("Authorization: Bearer abc.def.ghi", "abc.def"),
        ("token eyJhbGciOi.eyJzdWIiOi.sig", "eyJzdWIiOi"),
        ("Cookie: session=0123456789abcdef", "0123456789abcdef"),
        ("set session=0123456789abcdef; HttpOnly", "0123456789abcdef"),
    ],
)
def test_scrub_removes_tokens_cookies_and_query_strings(message, leak):
    assert leak not in scrub(message)


def test_worker_exit_closes_the_pooled_auth0_connections(make_app):
    app = make_app()
    assert app.test_client().get("/readyz").status_code == 200
    pools = app.extensions["linked_accounts"].management.http.adapters["http://"].poolmanager.pools
    assert len(pools) == 1  # the keep-alive connection readiness just used
    hooks = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    hooks["worker_exit"](None, type("Worker", (), {"wsgi": app})())
    assert len(pools) == 0


def test_gunicorn_finishes_the_request_in_flight_on_sigterm(tenant, tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "DEV_AUTH0_DOMAIN": tenant,
        "DEV_TENANT": "1",
        "APP_SECRET_KEY": "s" * 40,
        "IDENTITIES_CACHE_SECONDS": "0",  # every page view waits on the (slowed) tenant
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
    }
    env.pop("AUTH0_DOMAIN", None)
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("w") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn"], cwd=ROOT, env=env, stderr=log_file
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/healthz", server)
        ada = Visitor(base)
        ada.login("Ada Lovelace")
        requests.post(f"{tenant}/__dev/config", json={"latency": 1.5}, timeout=5)
        calls = t.stats(tenant)["management_calls_total"]
        answer: dict[str, requests.Response] = {}
        viewer = threading.Thread(target=lambda: answer.update(page=ada.get("/account/")))
        viewer.start()
        # Signal once the worker's Auth0 call has reached the tenant, which holds it 1.5 s.
        while t.stats(tenant)["management_calls_total"] == calls and viewer.is_alive():
            time.sleep(0.02)
        server.send_signal(signal.SIGTERM)
        viewer.join(timeout=30)
        assert answer["page"].status_code == 200
        assert "Unlink GitHub" in answer["page"].text
        assert server.wait(timeout=30) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        requests.post(f"{tenant}/__dev/config", json={"latency": 0}, timeout=5)
    assert "Handling signal: term" in log_path.read_text()


def test_the_master_checks_a_throwaway_id_token_before_forking(make_app, monkeypatch):
    """gunicorn's `when_ready` checks one RS256 ID token the way the callback does, so OpenSSL's
    RSA code is set up once in the master and shared, not in each worker on its first sign-in
    (about 2 MB each: `make bench`'s USS figure)."""
    app = make_app()
    checked = []

    def decode(value, key, registry):
        checked.append((registry.allowed, decoded := real_decode(value, key, registry=registry)))
        return decoded

    real_decode = trips.jwt.decode
    monkeypatch.setattr(trips.jwt, "decode", decode)
    hooks = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    hooks["when_ready"](type("Server", (), {"app": type("Loaded", (), {"callable": app})()})())
    assert [(allowed, token.claims["sub"]) for allowed, token in checked] == [(["RS256"], "warm")]
