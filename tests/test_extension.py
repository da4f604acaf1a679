"""The extension in a host of its own: any prefix, the host's settings, its own base template."""

from __future__ import annotations

import pytest
from flask import Flask

from linked_accounts import LinkedAccounts, init_sessions
from tests.support import tenant as t
from tests.support.forms import submit
from tests.support.servers import serving
from tests.support.visitor import Visitor

# A tenant no test reaches: for hosts whose tests never leave the process.
OFFLINE_TENANT = "https://tenant.example.com"


def host(tenant: str, tmp_path, **config) -> Flask:
    app = Flask(__name__, instance_path=str(tmp_path))
    app.config.update(
        SECRET_KEY="host-secret-" + "x" * 32,
        AUTH0_DOMAIN=tenant,
        AUTH0_CLIENT_ID="dev-client",
        AUTH0_CLIENT_SECRET="dev-client-secret",
        **config,
    )
    init_sessions(app)
    return app


@pytest.mark.parametrize("prefix", ["", "/deep/settings/sign-in"])
def test_it_works_under_any_prefix_with_init_app(tenant, tmp_path, prefix):
    app = host(tenant, tmp_path)
    ext = LinkedAccounts()
    ext.init_app(app, url_prefix=prefix)
    assert not hasattr(ext, "app")  # per-app state lives in app.extensions only
    assert app.extensions["linked_accounts"].settings.client_id == "dev-client"
    with serving(app) as url:
        visitor = Visitor(url)
        settings = submit(visitor.http, visitor.get(f"{prefix}/login"), "Continue as Ada Lovelace")
        assert settings.url == f"{url}{prefix}/"
        confirm = visitor.get(f"{prefix}/unlink", params={"identity": t.ADA_SAML})
        done = submit(visitor.http, confirm, "Unlink")
        assert "was unlinked" in done.text
        assert f'href="{prefix}/la-static/linked-accounts.css"' in done.text
    assert t.identity_keys(tenant, t.ADA) == [t.ADA, t.ADA_GOOGLE, t.ADA_GITHUB]


def test_the_default_layout_shows_the_app_name_and_logo(tenant, tmp_path):
    app = host(
        tenant,
        tmp_path,
        LINKED_ACCOUNTS_APP_NAME="Acme Account",
        LINKED_ACCOUNTS_LOGO_URL="/static/acme.svg",
    )
    LinkedAccounts(app, url_prefix="/account")
    client = app.test_client()
    page = client.get("/account/callback?state=x&code=y", follow_redirects=True).get_data(
        as_text=True
    )
    assert '<img class="la-site-logo" src="/static/acme.svg" alt=""' in page
    assert "Acme Account</span>" in page and "· Acme Account</title>" in page


def test_a_host_template_overrides_a_page(tenant, tmp_path):
    app = host(tenant, tmp_path)
    templates = tmp_path / "templates" / "linked_accounts"
    templates.mkdir(parents=True)
    (templates / "login_failed.html").write_text("host's own page: {{ reason }}")
    app.template_folder = str(tmp_path / "templates")
    LinkedAccounts(app)
    page = app.test_client().get("/account/callback?state=x&code=y", follow_redirects=True)
    assert page.get_data(as_text=True).startswith("host's own page:")


def test_it_refuses_a_cookie_session_that_would_carry_tokens(tenant):
    app = Flask(__name__)
    app.config.update(SECRET_KEY="x" * 40, AUTH0_DOMAIN=tenant, AUTH0_CLIENT_ID="a",
                      AUTH0_CLIENT_SECRET="b")  # fmt: skip
    with pytest.raises(RuntimeError, match="server-side"):
        LinkedAccounts(app)


@pytest.mark.parametrize("kinds", ["Trip", "Resumable"])
def test_a_trip_or_action_without_an_entry_in_its_table_stops_start_up(
    tenant, tmp_path, monkeypatch, kinds
):
    from enum import StrEnum

    import linked_accounts

    original = getattr(linked_accounts, kinds)
    # The enum as it would be after someone adds a member and forgets init_app's table.
    grown = StrEnum(kinds, {**{m.name: m.value for m in original}, "FORGOTTEN": "forgotten"})
    monkeypatch.setattr(linked_accounts, kinds, grown)
    with pytest.raises(RuntimeError, match=f"no entry for {kinds} forgotten"):
        LinkedAccounts(host(tenant, tmp_path))
