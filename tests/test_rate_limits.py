"""Rate limits as the page tells them: Retry-After honoured when a 429 carries it,
x-ratelimit-reset otherwise, the M2M deletion included. (The tenant's own limits are tested in
tests/devtenant.)"""

from __future__ import annotations

import time
from email.utils import formatdate

import pytest
import requests

from tests.support import tenant as t
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
    # One call left, refilled a minute later: the deletion reads the user, then deletes it.
    configure(tenant, rate_burst=1, rate_per_second=1 / 60)
    href = page.text.split(OFFER)[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    refused = visitor.press(visitor.get(href), "Delete the separate GitHub account")
    assert refused.status_code == 429
    wait = int(refused.headers["Retry-After"])
    assert 55 <= wait <= 61 and f"try again in {wait} seconds" in refused.text
    assert t.user(tenant, t.ADA_GITHUB) is not None  # nothing was deleted
