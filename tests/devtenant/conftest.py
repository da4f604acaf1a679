"""A development tenant that runs the fixture post-login Action on every login."""

from __future__ import annotations

import os
import shutil

import pytest
import requests

from devtenant import create_app as create_tenant
from tests.devtenant.action_flow import FIXTURE, LINKING_SECRET, LINKING_URL
from tests.support.servers import serving

# Outside CI a machine without Node skips the tests that run Actions; CI must have it.
needs_node = pytest.mark.skipif(
    shutil.which("node") is None and os.environ.get("CI") != "true",
    reason="node is not installed: the tenant cannot run Actions here",
)
ACTION_TIMEOUT = 2.0  # seconds: a hanging Action must fail the login this quickly


@pytest.fixture(scope="session")
def action_tenant_server():
    """A tenant whose start-up Action is tests/devtenant/fixtures/post_login.js."""
    secrets = {
        "LINKING_SECRET": LINKING_SECRET,
        "LINKING_URL": LINKING_URL,
        "M2M_CLIENT_ID": "dev-m2m",
        "M2M_CLIENT_SECRET": "dev-m2m-secret",
    }
    app = create_tenant(
        {
            "DEVTENANT_ACTION": str(FIXTURE),
            "DEVTENANT_ACTION_SECRETS": secrets,
            "DEVTENANT_ACTION_TIMEOUT": ACTION_TIMEOUT,
        }
    )
    with serving(app) as url:
        # Known once it serves: the origin the Action calls back, as make run passes it.
        app.extensions["devtenant"].actions.default_secrets["AUTH0_DOMAIN"] = url
        yield url


@pytest.fixture
def action_tenant(action_tenant_server):
    """That tenant, reseeded before each test."""
    requests.post(f"{action_tenant_server}/__dev/reset", timeout=5).raise_for_status()
    return action_tenant_server
