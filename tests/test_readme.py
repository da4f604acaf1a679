"""The README's embedding snippets work as written."""

from __future__ import annotations

import shlex
from pathlib import Path

from tests.support import tenant as t
from tests.support.forms import submit
from tests.support.readme import snippet
from tests.support.servers import serving
from tests.support.visitor import Visitor

ROOT = Path(__file__).resolve().parent.parent


def test_the_extension_snippet_makes_a_working_host(monkeypatch, tenant, tmp_path):
    for key, value in {
        "AUTH0_DOMAIN": tenant,
        "AUTH0_CLIENT_ID": "dev-client",
        "AUTH0_CLIENT_SECRET": "dev-client-secret",
    }.items():
        monkeypatch.setenv(key, value)
    namespace = {"__name__": "readme_host"}
    exec(compile(snippet("extension"), "README.md", "exec"), namespace)  # noqa: S102
    app = namespace["app"]
    app.instance_path = str(tmp_path)
    with serving(app) as url:
        visitor = Visitor(url)
        login_page = visitor.get("/account/login")
        settings = submit(visitor.http, login_page, "Continue as Ada Lovelace")
        assert settings.url.split("?")[0] == url + "/account/"
        page = visitor.unlink(t.ADA_GITHUB)
        assert "was unlinked" in page.text
    assert t.identity_keys(tenant, t.ADA) == [t.ADA, t.ADA_GOOGLE, t.ADA_SAML]


def test_the_iframe_snippet_allows_exactly_that_portal(make_app):
    assignment = shlex.split(snippet("iframe", 0), comments=True)[0]
    key, value = assignment.split("=", 1)
    app = make_app(**{key: value})
    response = app.test_client().get("/account/login")
    assert f"frame-ancestors {value}" in response.headers["Content-Security-Policy"]
    assert "SameSite=None" in response.headers["Set-Cookie"]
    assert '<iframe src="https://account.example.com/account/"' in snippet("iframe", 1)


def test_the_host_sign_in_snippet_is_the_quickstart_examples_code():
    """The snippet is what examples/quickstart_host runs (tested end to end there)."""
    example = (ROOT / "examples" / "quickstart_host" / "app.py").read_text()
    lines = {_code(line) for line in example.splitlines()}
    for line in snippet("host").splitlines():
        if _code(line) and not line.startswith(("from ", "import ")):
            assert _code(line) in lines, line


def test_the_merged_snippet_is_the_quickstart_examples_code():
    """What the README tells a host to do after a merge is what examples/quickstart_host does
    (tested end to end in tests/test_suggestions.py)."""
    example = (ROOT / "examples" / "quickstart_host" / "app.py").read_text()
    lines = {_code(line) for line in example.splitlines()}
    for line in snippet("merged").splitlines():
        code = _code(line)
        if code and not code.startswith(("from ", "import ", "#")):
            assert code in lines, line


def _code(line: str) -> str:
    return line.split("  #")[0].strip()
