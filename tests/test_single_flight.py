"""Single flight: when a session's cached list expires, concurrent views make one Auth0 call to
refresh it, not one each."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.support import tenant as t
from tests.support.redis_server import running_redis
from tests.support.servers import serving
from tests.support.visitor import Visitor


def concurrent_views(visitor: Visitor, n: int) -> list[int]:
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda _: visitor.get("/account/").status_code, range(n)))


@pytest.fixture(params=["files", "redis"])
def session_store(request):
    """The file store, then a real redis-server: the single flight must hold in both."""
    if request.param == "files":
        yield ""
    else:
        with running_redis() as url:
            yield url


def test_an_expired_cache_is_refreshed_once_while_other_views_show_the_list(
    make_app, tenant, session_store
):
    with serving(make_app(IDENTITIES_CACHE_SECONDS="1", REDIS_URL=session_store)) as url:
        visitor = Visitor(url)
        visitor.login()  # reads the identities once
        time.sleep(1.2)  # the cache has expired
        requests.post(f"{tenant}/__dev/config", json={"latency": 0.5}, timeout=5).raise_for_status()
        before = t.stats(tenant)["management_calls_total"]
        assert concurrent_views(visitor, 4) == [200] * 4
        assert t.stats(tenant)["management_calls_total"] == before + 1
        # The single flight ends once the new list is saved: the next expiry refreshes again.
        requests.post(f"{tenant}/__dev/config", json={"latency": 0}, timeout=5).raise_for_status()
        time.sleep(1.2)
        visitor.get("/account/")
        assert t.stats(tenant)["management_calls_total"] == before + 2


def test_with_nothing_cached_yet_every_view_must_read(make_app, tenant):
    with serving(make_app()) as url:
        visitor = Visitor(url)
        visitor.login()
        assert "Unlink GitHub" in visitor.get("/account/").text
