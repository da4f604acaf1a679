"""Normal use stays far below any of Auth0's limits (a tenant-wide bucket; the 10 calls a minute per
user of Auth0's 2019 docs, the tightest figure, is the budget checked here), and when Auth0 does
answer 429 the page says when to try again."""

from __future__ import annotations

import re
import time

import requests

from tests.support import tenant as t
from tests.support.servers import serving
from tests.support.tenant_api import auth, http, identity_url
from tests.support.tenant_login import login as tenant_login
from tests.support.visitor import Visitor, unlink_buttons

BUDGET = 10


def calls(tenant: str, user_id: str) -> int:
    return t.stats(tenant)["management_calls"].get(user_id, 0)


def test_thirty_reloads_in_a_minute_stay_within_the_budget(visitor, tenant):
    visitor.login("Ada Lovelace")
    pages = [visitor.get("/account/") for _ in range(30)]
    assert [p.status_code for p in pages] == [200] * 30
    assert all(len(unlink_buttons(p.text)) == 3 for p in pages)
    assert calls(tenant, t.ADA) <= BUDGET


def test_thirty_refresh_clicks_stay_within_the_budget(visitor, tenant):
    page = visitor.login("Ada Lovelace")
    for _ in range(30):
        page = visitor.press(page, "Refresh list")
        assert page.status_code == 200
        assert "up to date" in page.text
        assert len(unlink_buttons(page.text)) == 3
    assert calls(tenant, t.ADA) <= BUDGET


def test_a_refresh_shows_a_change_made_elsewhere(make_app, tenant):
    with serving(make_app(REFRESH_MIN_INTERVAL="0")) as url:
        tab = Visitor(url)
        page = tab.login("Ada Lovelace")
        # Unlinked at Auth0 itself (another app of the tenant), so nothing here has heard of it.
        token = tenant_login(tenant, "Ada Lovelace")["access_token"]
        gone = http.delete(identity_url(tenant, t.ADA, "github", "1234567"), headers=auth(token))
        assert gone.status_code == 200
        assert "Unlink GitHub (ada@users.noreply.github.com)" in unlink_buttons(
            tab.get("/account/").text
        )  # still the cached list
        page = tab.press(page, "Refresh list")
        assert "Unlink GitHub (ada@users.noreply.github.com)" not in unlink_buttons(page.text)


def test_a_429_from_auth0_says_when_to_try_again(make_app, tenant):
    with serving(make_app(IDENTITIES_CACHE_SECONDS="0")) as url:
        visitor = Visitor(url)
        visitor.login("Ada Lovelace")
        wait = 42
        t.fault(
            tenant,
            "get_user",
            times=1,
            status=429,
            body={"statusCode": 429, "error": "Too Many Requests",
                  "message": "Global limit has been reached", "errorCode": "too_many_requests"},
            headers={"x-ratelimit-limit": "10", "x-ratelimit-remaining": "0",
                     "x-ratelimit-reset": str(int(time.time()) + wait)},
        )  # fmt: skip
        page = visitor.get("/account/")
    assert page.status_code == 429
    retry_after = int(page.headers["Retry-After"])
    assert wait - 2 <= retry_after <= wait
    assert f"try again in {retry_after} seconds" in page.text


def test_the_tenants_own_rate_limit_is_reported_with_its_reset_time(make_app, tenant):
    requests.post(f"{tenant}/__dev/config", json={"rate_limit": 3}, timeout=5).raise_for_status()
    with serving(make_app(IDENTITIES_CACHE_SECONDS="0")) as url:
        visitor = Visitor(url)
        visitor.login("Ada Lovelace")  # call 1
        pages = [visitor.get("/account/") for _ in range(3)]  # calls 2, 3, then refused
    assert [p.status_code for p in pages] == [200, 200, 429]
    retry_after = int(pages[-1].headers["Retry-After"])
    assert 50 <= retry_after <= 60  # the first call leaves the 60 s window
    assert re.search(rf"try again in {retry_after} seconds", pages[-1].text)
    assert t.identity_keys(tenant, t.ADA) == [t.ADA, t.ADA_GOOGLE, t.ADA_GITHUB, t.ADA_SAML]
