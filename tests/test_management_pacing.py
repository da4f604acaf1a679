"""The Management API client slows down before Auth0's rate limit instead of running into it:
after an answer with `x-ratelimit-remaining: 0` the next call waits for the reset when it is
near, and is refused without calling when it is not. Against the development tenant's bucket."""

from __future__ import annotations

import time

import pytest
import requests

from linked_accounts.auth0 import management as m
from tests.support import tenant as t
from tests.support.tenant_login import login


def configure(tenant: str, **settings) -> None:
    requests.post(f"{tenant}/__dev/config", json=settings, timeout=5).raise_for_status()


@pytest.fixture
def ada(tenant) -> tuple[m.ManagementClient, str]:
    """A client of the tenant, and Ada's Management API token."""
    return m.ManagementClient(tenant), login(tenant, "Ada Lovelace")["access_token"]


def test_a_drained_bucket_that_refills_soon_is_waited_for_not_hit(tenant, ada):
    configure(tenant, rate_burst=2, rate_per_second=1)  # full again 2 s after draining
    client, token = ada
    for _ in range(4):
        assert client.get_user(token, t.ADA)["user_id"] == t.ADA
    stats = t.stats(tenant)
    assert stats["rate_limited"] == 0  # never a 429
    assert stats["management_calls_total"] == 4


def test_a_far_reset_is_refused_at_once_without_calling(tenant, ada):
    configure(tenant, rate_burst=1, rate_per_second=1 / 120)  # full again in two minutes
    client, token = ada
    client.get_user(token, t.ADA)
    with pytest.raises(m.RateLimited) as refused:
        client.unlink(token, t.ADA, "github", "1234567")
    assert time.time() + 100 <= refused.value.reset_at <= time.time() + 121
    stats = t.stats(tenant)
    assert stats["management_calls_total"] == 1 and stats["rate_limited"] == 0
    assert t.identity_keys(tenant, t.ADA)[2] == t.ADA_GITHUB  # nothing was done


def test_a_429_holds_back_the_next_call_too(tenant, ada):
    client, token = ada
    reset = int(time.time()) + 60
    limits = {"x-ratelimit-limit": "10", "x-ratelimit-remaining": "0"}
    t.fault(
        tenant,
        "get_user",
        times=1,
        status=429,
        headers={**limits, "x-ratelimit-reset": str(reset)},
    )
    for _ in range(2):
        with pytest.raises(m.RateLimited) as refused:
            client.get_user(token, t.ADA)
        assert refused.value.reset_at == reset
    assert t.stats(tenant)["management_calls_total"] == 1


def test_calls_left_or_a_reset_passed_let_calls_through(tenant, ada):
    client, token = ada
    passed = int(time.time()) - 1
    t.fault(
        tenant,
        "get_user",
        times=1,
        after=True,
        status=200,
        body={"user_id": t.ADA},
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(passed)},
    )
    client.get_user(token, t.ADA)
    client.get_user(token, t.ADA)  # the reset has passed: no wait, no refusal
    assert t.stats(tenant)["management_calls_total"] == 2
