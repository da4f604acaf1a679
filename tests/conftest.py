"""Shared fixtures: a development tenant served over real HTTP, and apps served for one test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
import requests

from devtenant import create_app as create_tenant
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


APP_CONFIG = {
    "AUTH0_CLIENT_ID": "dev-client",
    "AUTH0_CLIENT_SECRET": "dev-client-secret",
    "APP_SECRET_KEY": "test-secret-key-" + "x" * 32,
    "REDIS_URL": "",
    "SESSION_COOKIE_SECURE": False,
    "AUTH0_READ_TIMEOUT": "1.5",
    "TESTING": True,
}


@pytest.fixture(scope="session", autouse=True)
def _instance_path(tmp_path_factory):
    """Keep the test apps' session files out of the checkout."""
    APP_CONFIG["INSTANCE_PATH"] = str(tmp_path_factory.mktemp("instance"))


@pytest.fixture
def serve() -> Iterator[Callable[[Callable], str]]:
    """`serve(app)` serves a WSGI app on a free loopback port and returns its base URL (no
    trailing slash); every server a test started is shut down when the test ends."""
    with ExitStack() as servers:

        def start(app: Callable) -> str:
            return servers.enter_context(serving(app))

        yield start


@pytest.fixture
def make_app(tenant):
    """Build the standalone app pointed at the test tenant; keyword arguments override config."""
    from app import create_app

    def make(**overrides):
        return create_app({**APP_CONFIG, "AUTH0_DOMAIN": tenant, **overrides})

    return make


@pytest.fixture
def app_url(make_app, serve):
    """The app served over real HTTP on a free loopback port."""
    return serve(make_app())


@pytest.fixture
def visitor(app_url):
    from tests.support.visitor import Visitor

    return Visitor(app_url)
