"""The embedding snippets (README.md, docs/embedding.md) work as written."""

from __future__ import annotations

import re
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


def test_the_host_sign_in_snippet_runs_as_written_against_the_development_tenant(
    monkeypatch, tenant, tmp_path
):
    """The whole product, as a reader copies it, with the settings its comment gives (the
    development tenant's client id and secret; only the tenant's port is this test's)."""
    code = snippet("host")
    given = dict(re.findall(r"\b(AUTH0_\w+|APP_SECRET_KEY)=(\S+)", code))
    assert given["AUTH0_DOMAIN"] == "http://127.0.0.1:5001"
    assert (given["AUTH0_CLIENT_ID"], given["AUTH0_CLIENT_SECRET"]) == (
        "dev-client",
        "dev-client-secret",
    )
    for key, value in {**given, "AUTH0_DOMAIN": tenant, "APP_SECRET_KEY": "k" * 64}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("REDIS_URL", raising=False)
    namespace = {"__name__": "acme"}
    exec(compile(code, "docs/embedding.md", "exec"), namespace)  # noqa: S102
    app = namespace["app"]
    app.instance_path = str(tmp_path)
    with serving(app) as url:
        visitor = Visitor(url)
        # Signed out, the settings page sends the visitor to the product's login with `next`,
        # and the product's callback brings them back there (safe_next kept it).
        login_page = visitor.get("/settings/accounts/")
        assert "Continue as Ada Lovelace" in login_page.text
        settings = submit(visitor.http, login_page, "Continue as Ada Lovelace")
        assert settings.url.split("?")[0] == url + "/settings/accounts/", settings.url
        assert '<a class="la-site-home" href="/">Back to Acme</a>' in settings.text
        page = visitor.get("/settings/accounts/unlink", params={"identity": t.ADA_GITHUB})
        done = submit(visitor.http, page, "Unlink")
        assert "was unlinked" in done.text
        # Another site as `next` is dropped: the login ends on the product's own front page.
        visitor.http.cookies.clear()
        away = visitor.get("/login", params={"next": "https://evil.example/"})
        home = submit(visitor.http, away, "Continue as Ben Carter")
        assert home.url == url + "/" and "Account settings" in home.text
    assert t.identity_keys(tenant, t.ADA) == [t.ADA, t.ADA_GOOGLE, t.ADA_SAML]


def test_the_merged_snippet_is_the_quickstart_examples_code():
    """What docs/embedding.md tells a host to do after a merge is what examples/quickstart_host does
    (tested end to end in tests/test_suggestions.py)."""
    example = (ROOT / "examples" / "quickstart_host" / "app.py").read_text()
    lines = {_code(line) for line in example.splitlines()}
    for line in snippet("merged").splitlines():
        code = _code(line)
        if code and not code.startswith(("from ", "import ", "#")):
            assert code in lines, line


def _code(line: str) -> str:
    return line.split("  #")[0].strip()
