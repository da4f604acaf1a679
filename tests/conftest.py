"""Shared fixtures: a development tenant served over real HTTP, the app's test config, and apps
served for one test."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from types import MappingProxyType

import pytest
import requests

from devtenant import create_app as create_tenant
from linked_accounts import accounts_merged
from tests.support.servers import serving


@pytest.fixture(scope="session")
def tenant_server():
    """One development tenant for the whole run, on a free loopback port."""
    app = create_tenant()
    with serving(app) as url:
        yield url


@pytest.fixture
def tenant(tenant_server):
    """The tenant's base URL, reseeded before each test so tests never see each other's changes."""
    requests.post(f"{tenant_server}/__dev/reset", timeout=5).raise_for_status()
    return tenant_server


@pytest.fixture(scope="session")
def app_config(tmp_path_factory) -> Mapping[str, object]:
    """The app's config for tests, read-only: build each app's own with `{**app_config, ...}`.

    Its INSTANCE_PATH keeps the test apps' session files out of the checkout.
    """
    return MappingProxyType(
        {
            "AUTH0_CLIENT_ID": "dev-client",
            "AUTH0_CLIENT_SECRET": "dev-client-secret",
            "APP_SECRET_KEY": "test-secret-key-" + "x" * 32,
            "REDIS_URL": "",
            "SESSION_COOKIE_SECURE": False,
            "AUTH0_READ_TIMEOUT": "1.5",
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path_factory.mktemp("instance")),
        }
    )


@pytest.fixture
def serve() -> Iterator[Callable[[Callable], str]]:
    """`serve(app)` serves a WSGI app on a free loopback port and returns its base URL (no
    trailing slash); every server a test started is shut down when the test ends."""
    with ExitStack() as servers:

        def start(app: Callable) -> str:
            return servers.enter_context(serving(app))

        yield start


@pytest.fixture
def make_app(tenant, app_config):
    """Build the standalone app pointed at the test tenant; keyword arguments override config."""
    from app import create_app

    def make(**overrides):
        return create_app({**app_config, "AUTH0_DOMAIN": tenant, **overrides})

    return make


@pytest.fixture
def app(make_app):
    """The standalone app on the test tenant, offering GitHub and Google to link."""
    return make_app(LINK_CONNECTIONS="github,google-oauth2")


@pytest.fixture
def base(app, serve):
    """`app` served over real HTTP: its base URL."""
    return serve(app)


@pytest.fixture
def app_url(make_app, serve):
    """The app served over real HTTP on a free loopback port."""
    return serve(make_app())


@pytest.fixture
def visitor(app_url):
    from tests.support.visitor import Visitor

    return Visitor(app_url)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """One real, throwaway redis-server for the whole run, started by the first test needing it."""
    from tests.support.redis_server import running_redis

    with running_redis() as url:
        yield url


@pytest.fixture
def redis_url(redis_server) -> str:
    """The run's Redis, emptied before each test, so no test sees another's sessions or caches."""
    import redis

    client = redis.Redis.from_url(redis_server)
    try:
        client.flushall()
    finally:
        client.close()
    return redis_server


@pytest.fixture(params=["files", "redis"])
def session_store(request) -> str:
    """REDIS_URL for the file store, then for a real redis-server: for what must hold in both."""
    return "" if request.param == "files" else request.getfixturevalue("redis_url")


@pytest.fixture
def merges():
    """Every accounts_merged signal the test's apps send, as (primary_id, merged_id)."""
    seen: list[tuple[str, str]] = []

    def record(sender, primary_id, merged_id):
        seen.append((primary_id, merged_id))

    accounts_merged.connect(record)
    yield seen
    accounts_merged.disconnect(record)
