"""Rate limits as Auth0 applies them: per user only for tokens with current-user scopes, a
tenant-wide limit for the rest (the M2M deletion fallback), and Retry-After honoured when a 429
carries it, x-ratelimit-reset otherwise."""

from __future__ import annotations

import time
from email.utils import formatdate

import pytest
import requests

from tests.support import tenant as t
from tests.support.tenant_api import ADA, auth, http, m2m_token, user_url
from tests.support.tenant_login import login
from tests.support.visitor import Visitor

LIMITED = {
    "statusCode": 429,
    "error": "Too Many Requests",
    "message": "Global limit has been reached",
    "errorCode": "too_many_requests",
}
OFFER = "Also delete the separate GitHub account"


def configure(tenant: str, **settings) -> None:
    requests.post(f"{tenant}/__dev/config", json=settings, timeout=5).raise_for_status()


def test_m2m_tokens_share_the_tenant_wide_limit_not_a_per_user_one(tenant):
    configure(tenant, rate_limit=2, tenant_rate_limit=3)
    m2m = auth(m2m_token(tenant))
    answers = [http.get(user_url(tenant, ADA), headers=m2m) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0].headers["x-ratelimit-limit"] == "3"
    limited = answers[-1]
    assert limited.json() == LIMITED
    assert 55 <= int(limited.headers["Retry-After"]) <= 61
    # A user token has its own per-user budget, untouched by the machine's calls.
    user = auth(login(tenant, "Ada Lovelace")["access_token"])
    mine = http.get(user_url(tenant, ADA), headers=user)
    assert mine.status_code == 200 and mine.headers["x-ratelimit-limit"] == "2"
    assert "Retry-After" not in http.get(user_url(tenant, ADA), headers=user).headers


def test_a_user_token_without_current_user_scopes_counts_tenant_wide(tenant):
    configure(tenant, tenant_rate_limit=1)
    token = login(tenant, "Ada Lovelace", scope="openid profile")["access_token"]
    first = http.get(user_url(tenant, ADA), headers=auth(token))
    assert first.status_code == 403  # no read scope; the call still counts
    assert first.headers["x-ratelimit-limit"] == "1"
    assert http.get(user_url(tenant, ADA), headers=auth(token)).status_code == 429


@pytest.mark.parametrize("as_date", [False, True])
def test_retry_after_wins_over_the_reset_time(make_app, serve, tenant, as_date):
    visitor = Visitor(serve(make_app(IDENTITIES_CACHE_SECONDS="0")))
    visitor.login()
    retry = formatdate(time.time() + 20, usegmt=True) if as_date else "7"
    t.fault(
        tenant,
        "get_user",
        times=1,
        status=429,
        body=LIMITED,
        headers={"Retry-After": retry, "x-ratelimit-reset": str(int(time.time()) + 50)},
    )
    page = visitor.get("/account/")
    assert page.status_code == 429
    wait = int(page.headers["Retry-After"])
    assert (18 <= wait <= 20) if as_date else wait == 7
    assert f"try again in {wait} seconds" in page.text


def test_the_m2m_deletion_says_when_to_retry_at_the_tenant_wide_limit(make_app, serve, tenant):
    app = make_app(
        OFFER_DELETE_SEPARATED="1",
        DELETE_SEPARATED_MODE="server",
        AUTH0_M2M_CLIENT_ID="dev-m2m",
        AUTH0_M2M_CLIENT_SECRET="dev-m2m-secret",
    )
    visitor = Visitor(serve(app))
    visitor.login()
    page = visitor.unlink(t.ADA_GITHUB)
    configure(tenant, tenant_rate_limit=1)  # the deletion reads the user, then deletes it
    href = page.text.split(OFFER)[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    refused = visitor.press(visitor.get(href), "Delete the separate GitHub account")
    assert refused.status_code == 429
    wait = int(refused.headers["Retry-After"])
    assert 55 <= wait <= 61 and f"try again in {wait} seconds" in refused.text
    assert t.user(tenant, t.ADA_GITHUB) is not None  # nothing was deleted
