"""The tenant as a program: CLI, fixed issuer, and thread safety under concurrent requests."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from devtenant import create_app
from tests.support.servers import serving
from tests.support.tenant_api import ADA, auth, http, identity_url, stored_user, user_url
from tests.support.tenant_login import login

ROOT = Path(__file__).resolve().parents[2]


def test_cli_serves_and_says_it_is_not_auth0():
    with subprocess.Popen(
        [sys.executable, "-m", "devtenant", "--port", "0", "--latency", "0", "--rate-burst", "3"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            assert "not auth0" in line.lower() and "development tenant" in line.lower()
            url = "http://" + line.split("http://", 1)[1].split()[0].rstrip("/")
            doc = http.get(f"{url}/.well-known/openid-configuration").json()
            assert doc["issuer"] == f"{url}/"
            token = login(url, "Ada Lovelace")["access_token"]
            response = http.get(user_url(url, ADA), headers=auth(token))
            assert response.headers["x-ratelimit-limit"] == "3"
        finally:
            process.terminate()
            process.wait(timeout=10)


def test_configured_issuer_is_used_everywhere():
    app = create_app({"DEVTENANT_ISSUER": "http://127.0.0.1:5001", "DEVTENANT_RATE_BURST": 4})
    with serving(app) as url:
        doc = http.get(f"{url}/.well-known/openid-configuration").json()
        assert doc["issuer"] == "http://127.0.0.1:5001/"
        assert doc["token_endpoint"] == "http://127.0.0.1:5001/oauth/token"
        body = login(url, "Ada Lovelace", audience="http://127.0.0.1:5001/api/v2/")
        response = http.get(user_url(url, ADA), headers=auth(body["access_token"]))
        assert response.status_code == 200
        assert response.headers["x-ratelimit-limit"] == "4"


def test_concurrent_calls_respect_the_rate_limit_exactly(tenant):
    http.post(f"{tenant}/__dev/config", json={"rate_burst": 10, "rate_per_second": 0})
    token = login(tenant, "Ada Lovelace")["access_token"]
    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(
            pool.map(
                lambda _: http.get(user_url(tenant, ADA), headers=auth(token)).status_code,
                range(20),
            )
        )
    assert sorted(statuses) == [200] * 10 + [429] * 10
    stats = http.get(f"{tenant}/__dev/stats").json()
    assert stats["management_calls"][ADA] == 20
    assert stats["management_connections"] == 20  # werkzeug closes every connection


def test_concurrent_unlinks_of_one_identity_succeed_once(tenant):
    token = login(tenant, "Ada Lovelace")["access_token"]
    url = identity_url(tenant, ADA, "google-oauth2", "109876543210987654321")
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(
            pool.map(lambda _: http.delete(url, headers=auth(token)).status_code, range(6))
        )
    assert sorted(statuses) == [200] + [400] * 5
    users = [u["user_id"] for u in http.get(f"{tenant}/__dev/users").json()]
    assert users.count("google-oauth2|109876543210987654321") == 1
    assert len(stored_user(tenant, ADA).json()["identities"]) == 3
