"""Single flight: when a session's cached list expires, concurrent views make one Auth0 call to
refresh it, not one each; with nothing cached yet there is no list to show meanwhile, so every
view reads it."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urljoin, urlsplit

import requests

from tests.support import tenant as t
from tests.support.forms import forms
from tests.support.visitor import Visitor


def concurrent_views(visitor: Visitor, n: int) -> list[requests.Response]:
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda _: visitor.get("/account/"), range(n)))


def sign_in_without_viewing(visitor: Visitor, name: str = "Ada Lovelace") -> None:
    """Sign in, stopping at the redirect to the settings page: the session caches no list yet."""
    page = visitor.get("/account/login")  # the tenant's login page
    form = next(f for f in forms(page.text) if f.button(f"Continue as {name}"))
    button = form.button(f"Continue as {name}")
    to_callback = visitor.http.post(
        urljoin(page.url, form.action),
        data={**form.fields, button["name"]: button["value"]},
        allow_redirects=False,
        timeout=15,
    )
    assert to_callback.status_code == 302, to_callback.text[:300]
    signed_in = visitor.http.get(
        urljoin(to_callback.url, to_callback.headers["Location"]), allow_redirects=False, timeout=15
    )
    assert signed_in.status_code == 302, signed_in.text[:300]
    assert urlsplit(signed_in.headers["Location"]).path == "/account/"


def test_an_expired_cache_is_refreshed_once_while_other_views_show_the_list(
    make_app, serve, tenant, session_store
):
    visitor = Visitor(serve(make_app(IDENTITIES_CACHE_SECONDS="1", REDIS_URL=session_store)))
    visitor.login()  # reads the identities once
    time.sleep(1.2)  # the cache has expired
    requests.post(f"{tenant}/__dev/config", json={"latency": 0.5}, timeout=5).raise_for_status()
    before = t.stats(tenant)["management_calls_total"]
    assert [page.status_code for page in concurrent_views(visitor, 4)] == [200] * 4
    assert t.stats(tenant)["management_calls_total"] == before + 1
    # The single flight ends once the new list is saved: the next expiry refreshes again.
    requests.post(f"{tenant}/__dev/config", json={"latency": 0}, timeout=5).raise_for_status()
    time.sleep(1.2)
    visitor.get("/account/")
    assert t.stats(tenant)["management_calls_total"] == before + 2


def test_with_nothing_cached_yet_every_view_must_read(make_app, serve, tenant, session_store):
    visitor = Visitor(serve(make_app(REDIS_URL=session_store)))
    sign_in_without_viewing(visitor)
    # Slow answers: all four views start before any has saved a list to the session.
    requests.post(f"{tenant}/__dev/config", json={"latency": 0.5}, timeout=5).raise_for_status()
    before = t.stats(tenant)["management_calls_total"]
    pages = concurrent_views(visitor, 4)
    assert [page.status_code for page in pages] == [200] * 4
    assert all("Unlink GitHub" in page.text for page in pages)
    assert t.stats(tenant)["management_calls_total"] == before + 4
