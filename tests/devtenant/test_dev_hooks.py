"""The development tenant's test hooks: faults, stats, live config, clock and reset."""

from __future__ import annotations

import json
import time

import pytest
import requests

from tests.support.tenant import m2m_token
from tests.support.tenant_api import (
    ADA,
    BEN,
    EVE,
    GRACE,
    LINUS,
    MAYA,
    MAYA_GITHUB,
    MAYA_LOOKALIKE,
    auth,
    http,
    identity_url,
    stored_user,
    user_url,
)
from tests.support.tenant_login import LoginError, login


def add_fault(tenant: str, **spec) -> dict:
    """Register a fault and return it."""
    response = http.post(f"{tenant}/__dev/faults", json=spec)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def ada_token(tenant) -> str:
    """A Management API token for Ada."""
    return login(tenant, "Ada Lovelace")["access_token"]


def test_status_fault_replaces_the_response_without_touching_state(tenant, ada_token):
    add_fault(
        tenant,
        endpoint="delete_identity",
        status=503,
        body={"statusCode": 503, "error": "Service Unavailable", "message": "down"},
        headers={"Retry-After": "2"},
        times=1,
    )
    url = identity_url(tenant, ADA, "github", 1234567)
    failed = http.delete(url, headers=auth(ada_token))
    assert failed.status_code == 503
    assert failed.json() == {"statusCode": 503, "error": "Service Unavailable", "message": "down"}
    assert failed.headers["Retry-After"] == "2"
    assert "x-ratelimit-limit" in failed.headers
    assert len(stored_user(tenant, ADA).json()["identities"]) == 4
    # times=1: the next call goes through.
    assert http.delete(url, headers=auth(ada_token)).status_code == 200
    assert len(stored_user(tenant, ADA).json()["identities"]) == 3


def test_after_fault_applies_the_operation_then_loses_the_response(tenant, ada_token):
    add_fault(tenant, endpoint="delete_identity", status=500, after=True, times=1)
    url = identity_url(tenant, ADA, "github", 1234567)
    response = http.delete(url, headers=auth(ada_token))
    assert response.status_code == 500
    assert response.json()["statusCode"] == 500
    assert len(stored_user(tenant, ADA).json()["identities"]) == 3
    assert stored_user(tenant, "github|1234567").status_code == 200


def test_drop_closes_the_connection_without_a_response(tenant):
    add_fault(tenant, endpoint="token", drop=True, times=1)
    with pytest.raises(requests.ConnectionError):
        login(tenant, "Ben Carter")
    # Only one request was dropped; the server is still healthy.
    assert "access_token" in login(tenant, "Ben Carter")


def test_drop_after_the_link_happened(tenant):
    ben = login(tenant, "Ben Carter")["access_token"]
    grace = login(tenant, "Grace Hopper", extra_params={"prompt": "login"})["id_token"]
    add_fault(tenant, endpoint="link_identity", drop=True, after=True, times=1)
    with pytest.raises(requests.ConnectionError):
        http.post(
            f"{user_url(tenant, BEN)}/identities", headers=auth(ben), json={"link_with": grace}
        )
    assert stored_user(tenant, GRACE).status_code == 404
    assert len(stored_user(tenant, BEN).json()["identities"]) == 2


def test_malformed_sends_truncated_json(tenant, ada_token):
    add_fault(tenant, endpoint="get_user", malformed=True, times=1)
    response = http.get(user_url(tenant, ADA), headers=auth(ada_token))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)
    add_fault(tenant, endpoint="jwks", malformed=True, status=502, times=1)
    jwks = http.get(f"{tenant}/.well-known/jwks.json")
    assert jwks.status_code == 502
    with pytest.raises(json.JSONDecodeError):
        json.loads(jwks.text)


def test_delay_only_slows_the_real_response(tenant, ada_token):
    add_fault(tenant, endpoint="get_user", delay=0.4, times=1)
    started = time.monotonic()
    response = http.get(user_url(tenant, ADA), headers=auth(ada_token))
    assert time.monotonic() - started >= 0.4
    assert response.status_code == 200 and response.json()["user_id"] == ADA


def test_wildcard_fault_until_cleared(tenant):
    add_fault(tenant, endpoint="*", status=500, times=None)
    for _ in range(3):
        assert http.get(f"{tenant}/.well-known/openid-configuration").status_code == 500
        assert http.get(f"{tenant}/.well-known/jwks.json").status_code == 500
    # The hooks themselves are never faulted.
    assert http.get(f"{tenant}/__dev/users").status_code == 200
    assert http.delete(f"{tenant}/__dev/faults").status_code == 204
    assert http.get(f"{tenant}/.well-known/jwks.json").status_code == 200


@pytest.mark.parametrize("endpoint", ["authorize", "discovery", "userinfo", "token"])
def test_each_oidc_endpoint_can_be_faulted(tenant, endpoint):
    add_fault(tenant, endpoint=endpoint, status=418, times=2)
    paths = {
        "authorize": ("GET", "/authorize"),
        "discovery": ("GET", "/.well-known/openid-configuration"),
        "userinfo": ("GET", "/userinfo"),
        "token": ("POST", "/oauth/token"),
    }
    method, path = paths[endpoint]
    assert http.request(method, f"{tenant}{path}").status_code == 418
    assert http.request(method, f"{tenant}{path}").status_code == 418
    assert http.request(method, f"{tenant}{path}").status_code != 418


def test_fault_only_hits_its_own_management_operation(tenant, ada_token):
    add_fault(tenant, endpoint="delete_user", status=500, times=None)
    assert http.get(user_url(tenant, ADA), headers=auth(ada_token)).status_code == 200
    m2m = m2m_token(tenant)
    assert http.delete(user_url(tenant, EVE), headers=auth(m2m)).status_code == 500
    assert stored_user(tenant, EVE).status_code == 200


@pytest.mark.parametrize(
    "spec",
    [{"endpoint": "nope", "status": 500}, {"endpoint": "get_user", "status": 1000}, []],
)
def test_invalid_fault_specs_are_rejected(tenant, spec):
    assert http.post(f"{tenant}/__dev/faults", json=spec).status_code == 400


def test_stats_count_management_calls_and_token_requests(tenant, ada_token):
    for _ in range(3):
        http.get(user_url(tenant, ADA), headers=auth(ada_token))
    http.get(user_url(tenant, ADA), headers=auth("garbage"))
    stats = http.get(f"{tenant}/__dev/stats").json()
    assert stats["management_calls"][ADA] == 3
    assert stats["management_calls_total"] == 4
    assert stats["token_requests"] == 1
    assert stats["management_connections"] >= 1
    http.post(f"{tenant}/__dev/reset")
    assert http.get(f"{tenant}/__dev/stats").json() == {
        "management_calls": {},
        "management_calls_total": 0,
        "management_connections": 0,
        "token_requests": 0,
        "rate_limited": 0,
    }


def test_config_changes_rate_limit_and_token_lifetime_live(tenant, ada_token):
    assert http.post(f"{tenant}/__dev/config", json={"rate_limit": 2}).status_code == 200
    codes = [http.get(user_url(tenant, ADA), headers=auth(ada_token)) for _ in range(3)]
    assert [r.status_code for r in codes] == [200, 200, 429]
    assert codes[2].headers["x-ratelimit-limit"] == "2"
    http.post(f"{tenant}/__dev/config", json={"access_token_lifetime": 30})
    assert login(tenant, "Ben Carter")["expires_in"] == 30
    assert http.post(f"{tenant}/__dev/config", json={"bogus": 1}).status_code == 400
    http.post(f"{tenant}/__dev/reset")
    assert login(tenant, "Ben Carter")["expires_in"] == 86400


def test_clock_offset_expires_tokens(tenant, ada_token):
    assert http.post(f"{tenant}/__dev/clock", json={"offset": 86399}).status_code == 200
    assert http.get(user_url(tenant, ADA), headers=auth(ada_token)).status_code == 200
    http.post(f"{tenant}/__dev/clock", json={"offset": 86401})
    assert http.get(user_url(tenant, ADA), headers=auth(ada_token)).status_code == 401


def test_dev_users_and_reset_restore_the_seed(tenant, ada_token):
    users = http.get(f"{tenant}/__dev/users").json()
    assert [u["user_id"] for u in users] == [
        ADA,
        BEN,
        GRACE,
        LINUS,
        EVE,
        MAYA,
        MAYA_GITHUB,
        MAYA_LOOKALIKE,
    ]
    assert users[4]["email_verified"] is False
    assert http.get(f"{tenant}/__dev/users/nobody%7Cx").status_code == 404
    http.delete(identity_url(tenant, ADA, "github", 1234567), headers=auth(ada_token))
    assert len(http.get(f"{tenant}/__dev/users").json()) == 9
    http.post(f"{tenant}/__dev/reset")
    assert len(http.get(f"{tenant}/__dev/users").json()) == 8
    assert len(stored_user(tenant, ADA).json()["identities"]) == 4


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Host": "evil.example"},  # a DNS name rebound to 127.0.0.1
    ],
)
def test_hooks_refuse_other_sites(tenant, headers):
    refused = http.post(
        f"{tenant}/__dev/scopes", json={"withhold": ["read:current_user"]}, headers=headers
    )
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    assert http.get(f"{tenant}/__dev/users", headers=headers).status_code == 403
    assert "read:current_user" in login(tenant, "Ada Lovelace")["scope"].split()


def test_hooks_answer_tools_and_the_tenants_own_pages(tenant):
    port = tenant.rsplit(":", 1)[1]
    for headers in (
        {},
        {"Origin": tenant, "Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Site": "none"},
        {"Host": f"localhost:{port}"},
    ):
        assert http.get(f"{tenant}/__dev/stats", headers=headers).status_code == 200, headers


def test_a_client_without_a_client_grant_gets_auth0s_refusal_for_the_api_only(tenant):
    http.post(f"{tenant}/__dev/refusals", json={"no_client_grant": ["dev-client"]})
    with pytest.raises(LoginError) as caught:
        login(tenant, "Ada Lovelace")
    audience = f"{tenant}/api/v2/"
    assert caught.value.error == "access_denied"
    assert caught.value.description == (
        f'Client is not authorized to access "{audience}". You need to create a "client-grant" '
        "associated to this API. See: "
        "https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants"
    )
    # A login without the API's audience needs no grant.
    assert "id_token" in login(tenant, "Ada Lovelace", audience=None, scope="openid")


def test_an_action_denies_after_the_login_with_its_own_reason_until_removed(tenant):
    http.post(f"{tenant}/__dev/refusals", json={"action_denies": "Weekdays only."})
    with pytest.raises(LoginError) as caught:
        login(tenant, "Ada Lovelace")
    assert (caught.value.error, caught.value.description) == ("access_denied", "Weekdays only.")
    http.post(f"{tenant}/__dev/refusals", json={"action_denies": None})
    assert "access_token" in login(tenant, "Ada Lovelace")


@pytest.mark.parametrize(
    "body", [[], {"no_client_grant": "dev-client"}, {"action_denies": 3}, {"other": 1}]
)
def test_the_refusals_hook_refuses_what_it_does_not_know(tenant, body):
    assert http.post(f"{tenant}/__dev/refusals", json=body).status_code == 400


def test_a_fault_with_skip_lets_that_many_calls_through_first(tenant, ada_token):
    add_fault(tenant, endpoint="get_user", status=500, times=1, skip=2)
    codes = [http.get(user_url(tenant, ADA), headers=auth(ada_token)).status_code for _ in range(4)]
    assert codes == [200, 200, 500, 200]
    refused = http.post(f"{tenant}/__dev/faults", json={"endpoint": "get_user", "skip": -1})
    assert refused.status_code == 400 and "skip must be a whole number" in refused.text
