"""The JSON API, driven like a single-page app, every answer checked against docs/openapi.yaml."""

from __future__ import annotations

import time

import pytest
import requests
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from tests.support import tenant as t
from tests.support.servers import serving
from tests.support.spa import Spa, schema
from tests.support.visitor import Visitor

ADA_ALL = [t.ADA, t.ADA_GOOGLE, t.ADA_GITHUB, t.ADA_SAML]


@pytest.fixture
def make_spa(make_app, serve):
    def make(login: str | None = "Ada Lovelace", **config):
        visitor = Visitor(serve(make_app(LINK_CONNECTIONS="github", **config)))
        if login:
            visitor.login(login)
        return Spa(visitor)

    return make


@pytest.fixture
def spa(make_spa):
    return make_spa()


def test_session_says_who_is_signed_in_and_gives_the_csrf_token(make_spa):
    anonymous = make_spa(login=None)
    body = anonymous.call("GET", "/session", return_to="/spa").json()
    assert body["authenticated"] is False
    assert body["login_url"] == "/account/login?next=/spa"
    spa = make_spa()
    body = spa.call("GET", "/session").json()
    assert body["authenticated"] is True
    assert body["user"] == {"user_id": t.ADA, "name": "Ada Lovelace", "email": "ada@example.com"}
    assert body["fresh_login"] is True and body["csrf_token"]


def test_identities_list_with_string_ids_and_the_primary_first(spa):
    body = spa.call("GET", "/identities").json()
    assert [i["key"] for i in body["identities"]] == ADA_ALL
    assert [i["is_primary"] for i in body["identities"]] == [True, False, False, False]
    github = body["identities"][2]
    assert github["user_id"] == "1234567" and github["display_name"] == "GitHub"


def test_unlink_then_a_repeat_says_already_unlinked(spa, tenant):
    response = spa.call("POST", "/identities/unlink", {"identity": t.ADA_SAML})
    assert response.status_code == 200
    body = response.json()
    assert body["unlinked"]["key"] == t.ADA_SAML
    assert [i["key"] for i in body["identities"]] == [t.ADA, t.ADA_GOOGLE, t.ADA_GITHUB]
    assert t.identity_keys(tenant, t.ADA) == [t.ADA, t.ADA_GOOGLE, t.ADA_GITHUB]
    again = spa.call("POST", "/identities/unlink", {"identity": t.ADA_SAML})
    assert again.status_code == 404
    assert again.json()["error"]["code"] == "identity_not_found"


@pytest.mark.parametrize("csrf", [None, "forged-token"])
def test_posts_without_the_csrf_header_are_refused(spa, tenant, csrf):
    for path, body in (
        ("/identities/unlink", {"identity": t.ADA_GITHUB}),
        ("/identities/link", {}),
    ):
        response = spa.call("POST", path, body, csrf=csrf)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "csrf_failed"
    assert t.identity_keys(tenant, t.ADA) == ADA_ALL


@pytest.mark.parametrize(
    ("identity", "status", "code"),
    [
        (t.ADA, 400, "primary_identity"),
        (t.GRACE, 404, "identity_not_found"),
        ("", 400, "invalid_request"),
        (["github|1234567"], 400, "invalid_request"),
    ],
)
def test_refused_unlinks_change_nothing(spa, tenant, identity, status, code):
    response = spa.call("POST", "/identities/unlink", {"identity": identity})
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert t.identity_keys(tenant, t.ADA) == ADA_ALL


def test_signed_out_calls_say_where_to_log_in(make_spa):
    anonymous = make_spa(login=None)
    response = anonymous.call("GET", "/identities", return_to="/spa/accounts")
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "not_authenticated"
    assert error["redirect_to"] == "/account/login?next=/spa/accounts"


def test_a_change_without_a_fresh_login_says_where_to_refresh_it_then_succeeds(make_spa, tenant):
    # Logged in "ten minutes ago" (the tenant's clock runs behind), so the login is stale.
    requests.post(f"{tenant}/__dev/clock", json={"offset": -600}, timeout=5).raise_for_status()
    spa = make_spa(REAUTH_MAX_AGE="60")
    requests.post(f"{tenant}/__dev/clock", json={"offset": 0}, timeout=5).raise_for_status()
    response = spa.call(
        "POST", "/identities/unlink", {"identity": t.ADA_GITHUB, "return_to": "/account/"}
    )
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "session_refresh_required"
    assert t.identity_keys(tenant, t.ADA) == ADA_ALL  # nothing written before the fresh login
    login_page = spa.follow(error["redirect_to"])
    assert "prompt=login" in login_page.url
    back = spa.visitor.press(login_page, "Continue as Ada Lovelace")
    assert back.url.split("?")[0] == spa.visitor.base + "/account/"
    retried = spa.call("POST", "/identities/unlink", {"identity": t.ADA_GITHUB})
    assert retried.status_code == 200
    assert t.identity_keys(tenant, t.ADA) == [t.ADA, t.ADA_GOOGLE, t.ADA_SAML]


def test_link_starts_at_auth0_and_comes_back_to_the_spa_with_a_message(make_spa, tenant):
    spa = make_spa("Ben Carter")
    # return_to stands for the SPA's own page: here /healthz, which shows no flash messages.
    response = spa.call(
        "POST", "/identities/link", {"connection": "github", "return_to": "/healthz"}
    )
    assert response.status_code == 200
    login_page = spa.follow(response.json()["redirect_to"])
    assert "connection=github" in login_page.url and "prompt=login" in login_page.url
    back = spa.visitor.press(login_page, "Continue as Grace Hopper")
    assert back.url == spa.visitor.base + "/healthz"
    messages = spa.call("GET", "/session").json()["messages"]
    assert any("GitHub (grace@example.com) is now linked" in m["text"] for m in messages)
    assert t.identity_keys(tenant, t.BEN) == [t.BEN, t.GRACE]


def test_a_connection_not_offered_is_refused(spa):
    response = spa.call("POST", "/identities/link", {"connection": "facebook"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "connection_not_offered"


def test_auth0_rate_limit_is_a_typed_error_with_retry_after(make_spa, tenant):
    spa = make_spa(IDENTITIES_CACHE_SECONDS="0")
    reset = int(time.time()) + 2  # short: the client waits for the reset, then recovers
    t.fault(
        tenant,
        "get_user",
        times=1,
        status=429,
        headers={
            "x-ratelimit-limit": "10",
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": str(reset),
        },
    )
    response = spa.call("GET", "/identities")
    assert response.status_code == 429
    error = response.json()["error"]
    assert error["code"] == "rate_limited" and 1 <= error["retry_after"] <= 2
    assert response.headers["Retry-After"] == str(error["retry_after"])
    assert spa.call("GET", "/identities").status_code == 200  # recovers


@pytest.mark.parametrize(
    ("spec", "status", "code"),
    [
        ({"status": 503}, 502, "auth0_error"),
        ({"malformed": True}, 502, "auth0_error"),
        ({"drop": True}, 503, "auth0_unreachable"),
    ],
)
def test_auth0_failures_are_typed_errors(make_spa, tenant, spec, status, code):
    spa = make_spa(IDENTITIES_CACHE_SECONDS="0")
    t.fault(tenant, "get_user", times=1, **spec)
    response = spa.call("GET", "/identities")
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)


def test_a_rejected_token_sends_the_browser_to_renew_it(make_spa, tenant):
    spa = make_spa(IDENTITIES_CACHE_SECONDS="0")
    t.reject_token_once(tenant)
    response = spa.call("GET", "/identities", return_to="/spa")
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "login_required"
    assert error["redirect_to"] == "/account/relogin?next=/spa"


@pytest.fixture(scope="module")
def fuzz_target(tenant_server, app_config):
    """One signed-in session for the whole fuzz run (a module-scoped app on the shared tenant)."""
    from app import create_app

    app = create_app({**app_config, "AUTH0_DOMAIN": tenant_server, "LINK_CONNECTIONS": "github"})
    with serving(app) as url:
        visitor = Visitor(url)
        visitor.http.post(f"{tenant_server}/__dev/reset", timeout=5)
        visitor.login("Ben Carter")
        yield Spa(visitor)


@schema().parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_conforms_to_the_spec_whatever_the_input(case, fuzz_target):
    headers = {"X-CSRFToken": fuzz_target.csrf_token()} if case.method == "POST" else {}
    case.call_and_validate(
        base_url=fuzz_target.visitor.base + "/account",
        session=fuzz_target.visitor.http,
        headers=headers,
        allow_redirects=False,
        # Whether an identity or a connection is acceptable depends on the user's own data and
        # the configuration, not on the schema: a well-formed one may rightly get a 4xx.
        excluded_checks=[positive_data_acceptance],
    )
