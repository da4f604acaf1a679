"""Browser tests: Debian's Chromium driven by Playwright against a served tenant and app.

One browser per session; the default app is served once per session on the shared development
tenant (tests/conftest.py), which is reseeded before every test; each test gets a fresh browser
context (cookies).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from tests.support.browser import CHROMIUM_FLAGS, system_chromium
from tests.support.servers import serving


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, browser_type):
    """Launch Debian's Chromium when it is on PATH, else Playwright's own; in CI never skip."""
    system = system_chromium()
    if system:
        return {**browser_type_launch_args, "executable_path": system, "args": CHROMIUM_FLAGS}
    if Path(browser_type.executable_path).exists():
        return {**browser_type_launch_args, "args": CHROMIUM_FLAGS}
    message = (
        "No browser for the browser tests: install Debian's `chromium` "
        "or run `.venv/bin/python -m playwright install chromium`."
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _create_app(app_config: Mapping[str, object], tenant_url: str, **overrides):
    from app import create_app

    # A browser is slower than requests: a longer read timeout keeps slow CI runs honest.
    config = {**app_config, "AUTH0_READ_TIMEOUT": "5", "AUTH0_DOMAIN": tenant_url}
    return create_app({**config, **overrides})


@pytest.fixture(scope="session")
def app_server(tenant_server: str, app_config: Mapping[str, object]) -> Iterator[str]:
    with serving(_create_app(app_config, tenant_server)) as url:
        yield url


@pytest.fixture
def app_url(app_server: str, tenant: str) -> str:
    """The standalone app's origin, talking to a freshly reseeded tenant."""
    return app_server


@pytest.fixture
def serve_app(
    tenant: str, app_config: Mapping[str, object]
) -> Callable[..., AbstractContextManager[str]]:
    """Serve an app with extra config for one test: `with serve_app(KEY=value) as url:`."""

    def serve(**overrides) -> AbstractContextManager[str]:
        return serving(_create_app(app_config, tenant, **overrides))

    return serve


@pytest.fixture(scope="session")
def screenshot_dir(pytestconfig) -> Path:
    """Where the tests keep screenshots of the main pages (a CI artefact)."""
    path = Path(pytestconfig.getoption("--output")) / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path
