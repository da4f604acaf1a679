"""The distribution a product installs: the extension alone, working from a fresh virtualenv.

The wheel is built from a copy of the checkout, installed into a new virtualenv outside it
(dependencies from the package index, as a product would get them), and a small host app written
to a temporary folder is served by that virtualenv's Python against the development tenant.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from tests.support import tenant as t
from tests.support.forms import submit
from tests.support.readme import snippet
from tests.support.servers import free_port, wait_for
from tests.support.visitor import Visitor

ROOT = Path(__file__).resolve().parent.parent
NOT_SHIPPED = (".git", ".venv", "node_modules", "test-results", "instance", "build", "dist")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Build the wheel from a copy of the checkout (the build leaves files where it runs)."""
    source = tmp_path_factory.mktemp("source") / "linked-accounts"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(*NOT_SHIPPED, "__pycache__", "*.egg-info"),
        symlinks=True,
    )
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), "."],
        cwd=source,
        check=True,
        timeout=300,
    )
    (built,) = out.glob("linked_accounts-*.whl")
    return built


@pytest.fixture(scope="module")
def fresh_python(wheel, tmp_path_factory) -> Path:
    """A new virtualenv outside the checkout with only the wheel (and its dependencies)."""
    home = tmp_path_factory.mktemp("venv")
    venv.create(home, with_pip=True)
    python = home / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel],
        check=True,
        timeout=600,
    )
    return python


def test_the_wheel_holds_the_extension_and_nothing_else(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    packages = {
        name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")
    }
    assert packages == {"linked_accounts"}
    for shipped in (
        "linked_accounts/templates/linked_accounts/settings.html",
        "linked_accounts/static/linked-accounts.css",
        "linked_accounts/translations/de/LC_MESSAGES/linked_accounts.mo",
    ):
        assert shipped in names
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    requires = [
        line
        for line in zipfile.ZipFile(wheel).read(metadata).decode().splitlines()
        if line.startswith("Requires-Dist:")
    ]
    hard = [line for line in requires if "extra ==" not in line]
    assert not any("redis" in line or "gunicorn" in line for line in hard)  # extras only
    assert any("redis" in line and 'extra == "redis"' in line for line in requires)


def test_the_installed_distribution_has_no_app_or_devtenant_module(fresh_python, tmp_path):
    probe = (
        "import importlib.util as u;"
        "print([m for m in ('app', 'devtenant', 'standalone', 'linked_accounts')"
        " if u.find_spec(m)])"
    )
    found = subprocess.run(
        [str(fresh_python), "-c", probe],
        cwd=tmp_path,  # not the checkout: nothing of it on sys.path
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    assert found == "['linked_accounts']"


def test_a_host_app_served_from_the_fresh_virtualenv_renders_and_unlinks(
    fresh_python, tmp_path, tenant
):
    host = tmp_path / "host.py"
    host.write_text(
        snippet("extension") + "\nimport sys\napp.run(host='127.0.0.1', port=int(sys.argv[1]))\n"
    )
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PYTHON")},
        "AUTH0_DOMAIN": tenant,
        "AUTH0_CLIENT_ID": "dev-client",
        "AUTH0_CLIENT_SECRET": "dev-client-secret",
    }
    server = subprocess.Popen(
        [str(fresh_python), str(host), str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/account/login", server)
        visitor = Visitor(base)
        login_page = visitor.get("/account/login")
        settings = submit(visitor.http, login_page, "Continue as Ada Lovelace")
        assert settings.status_code == 200 and "Unlink GitHub" in settings.text
        assert "/account/la-static/linked-accounts.css" in settings.text
        assert visitor.get("/account/la-static/linked-accounts.css").status_code == 200
        page = visitor.unlink(t.ADA_GITHUB)
        assert "was unlinked" in page.text
        assert t.identity_keys(tenant, t.ADA) == [t.ADA, t.ADA_GOOGLE, t.ADA_SAML]
    finally:
        server.terminate()
        server.wait(timeout=10)
