"""The documentation: the site builds without a warning, every Python snippet in it is run by a
test (or says why it cannot be), and the README stays a five-minute read."""

from __future__ import annotations

import re
import subprocess
import sys

from flask import Flask

from linked_accounts import LinkedAccounts, init_sessions
from tests.support.forms import submit
from tests.support.readme import MARKER, README, ROOT, pages, snippet
from tests.support.servers import serving
from tests.support.visitor import Visitor

DOCS = ROOT / "docs"

# A ```python block with no snippet marker that a test runs, listed here with the reason it cannot
# be run: (page, the block's first line) -> why. Anything else unmarked fails the test below.
NOT_RUN: dict[tuple[str, str], str] = {}

README_MAX_LINES = 230


def test_the_site_builds_without_a_warning(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", DOCS, tmp_path],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr or built.stdout
    assert (tmp_path / "index.html").is_file()


def test_every_python_block_is_run_by_a_test():
    run = _snippets_the_tests_use()
    unrun = []
    for page in pages():
        name = str(page.relative_to(ROOT))
        for line, first, marker in _python_blocks(page.read_text()):
            if marker in run or (name, first) in NOT_RUN:
                continue
            why = f"snippet {marker!r} is run by no test" if marker else "it has no snippet marker"
            unrun.append(f"{name}:{line} ({why})")
    assert not unrun, "Python blocks no test runs: " + "; ".join(unrun)


def test_the_listed_exceptions_still_exist():
    blocks = {
        (str(page.relative_to(ROOT)), first)
        for page in pages()
        for _, first, _ in _python_blocks(page.read_text())
    }
    assert set(NOT_RUN) <= blocks, set(NOT_RUN) - blocks


def test_the_readme_stays_short_and_links_every_page():
    text = README.read_text()
    assert len(text.splitlines()) < README_MAX_LINES
    for page in sorted(DOCS.glob("*.md")):
        if page.name != "index.md":
            assert f"](docs/{page.name}" in text, f"the README does not link docs/{page.name}"


def test_the_theming_snippet_names_and_draws_a_connection(tenant, tmp_path):
    """LINKED_ACCOUNTS_CONNECTIONS as docs/theming.md sets it: Ada's SAML login, unnamed "Single
    sign-on (acme-saml)" by default, reads "Acme SSO" with the host's icon."""
    app = Flask("docs_theming", instance_path=str(tmp_path))
    app.config.update(
        SECRET_KEY="k" * 64,
        AUTH0_DOMAIN=tenant,
        AUTH0_CLIENT_ID="dev-client",
        AUTH0_CLIENT_SECRET="dev-client-secret",
    )
    exec(compile(snippet("connections"), "docs/theming.md", "exec"), {"app": app})  # noqa: S102
    init_sessions(app)
    LinkedAccounts(app, url_prefix="/account")
    with serving(app) as url:
        visitor = Visitor(url)
        page = submit(visitor.http, visitor.get("/account/login"), "Continue as Ada Lovelace")
        assert page.url.split("?")[0] == url + "/account/", page.url
        assert "Acme SSO" in page.text and "Single sign-on (acme-saml)" not in page.text
        assert 'src="/static/acme-sso.svg"' in page.text


def _snippets_the_tests_use() -> set[str]:
    used = set()
    for path in (ROOT / "tests").rglob("*.py"):
        if "node_modules" not in path.parts:
            used.update(re.findall(r"""\bsnippet\(\s*["']([\w-]+)["']""", path.read_text()))
    return used


def _python_blocks(text: str):
    """(line number, first line, snippet name or None) of each ```python block: a block carries the
    marker it follows with nothing but blank lines and other fenced blocks in between."""
    marker, fence, opened = None, None, None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if fence:
            if opened is not None:
                yield opened, stripped, marker
                opened = None
            if stripped == fence:
                fence = None
            continue
        if stripped.startswith("```"):
            fence = "`" * (len(stripped) - len(stripped.lstrip("`")))
            if stripped[len(fence) :] == "python":
                opened = number
        elif found := MARKER.fullmatch(stripped):
            marker = found.group(1)
        elif stripped:
            marker = None
