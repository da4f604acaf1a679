"""Browser-facing headers on every kind of page: CSP without inline script, framing, sniffing,
referrer, and HSTS only over https."""

from __future__ import annotations

import re

import pytest
import requests

from app import create_app
from tests.support import tenant as t
from tests.support.servers import serving
from tests.support.visitor import Visitor

PAGES = [
    "front page",
    "redirect to login",
    "settings",
    "unlink confirmation",
    "management error",
    "sign-in failed",
    "csrf refusal",
    "not found",
    "stylesheet",
]
REFERRER_POLICIES = {
    "no-referrer",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
}


def csp(response) -> dict[str, list[str]]:
    """The Content-Security-Policy as {directive: [sources]}."""
    policy = response.headers["Content-Security-Policy"]
    directives = [d.split() for d in policy.split(";") if d.strip()]
    return {d[0]: d[1:] for d in directives}


@pytest.fixture(scope="module")
def pages(tenant_server, app_config):
    """One response of each page type the app serves, fetched over HTTP as a browser would."""
    tenant = tenant_server
    requests.post(f"{tenant}/__dev/reset", timeout=5).raise_for_status()
    app = create_app({**app_config, "AUTH0_DOMAIN": tenant, "IDENTITIES_CACHE_SECONDS": "0"})
    with serving(app) as base:
        visitor = Visitor(base)
        got = {
            "front page": visitor.get("/"),
            "redirect to login": visitor.get("/account/", allow_redirects=False),
            "sign-in failed": visitor.get("/account/callback?state=nope&code=x"),
        }
        visitor.login()
        got["settings"] = visitor.get("/account/")
        got["unlink confirmation"] = visitor.confirm_page(t.ADA_GITHUB)
        got["csrf refusal"] = visitor.post("/account/refresh", {})
        got["not found"] = visitor.get("/no-such-page")
        got["stylesheet"] = visitor.get("/static/app.css")
        t.fault(tenant, "get_user", status=503, times=1)
        got["management error"] = visitor.get("/account/")
        t.clear_faults(tenant)
        yield got


EXPECTED_STATUS = {
    "redirect to login": 302,
    "sign-in failed": 400,
    "csrf refusal": 400,
    "not found": 404,
    "management error": 502,
}


@pytest.mark.parametrize("name", PAGES)
def test_every_page_type_carries_a_csp_that_allows_no_inline_script(pages, name):
    response = pages[name]
    assert response.status_code == EXPECTED_STATUS.get(name, 200), response.text[:300]
    policy = csp(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'self'" in policy["form-action"]
    header = response.headers["Content-Security-Policy"]
    for loophole in ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", " * ", "data: ;"):
        assert loophole not in header + " "
    assert "data:" not in " ".join(policy["script-src"] + policy["default-src"])


@pytest.mark.parametrize("name", PAGES)
def test_every_page_type_sets_nosniff_framing_and_referrer_headers(pages, name):
    headers = pages[name].headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] in REFERRER_POLICIES
    assert "Strict-Transport-Security" not in headers  # plain http: HSTS would be ignored


@pytest.mark.parametrize("name", [p for p in PAGES if p not in ("stylesheet", "redirect to login")])
def test_html_pages_contain_nothing_the_csp_would_have_to_allow(pages, name):
    html = pages[name].text
    assert "<html" in html
    # No inline script, no event-handler attributes, no javascript: URLs, no inline styles.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html, re.I)
    assert not re.search(r"\son[a-z]+\s*=", html, re.I)
    assert "javascript:" not in html.lower()
    assert not re.search(r"\sstyle\s*=", html, re.I)
    assert not re.search(r"<style[\s>]", html, re.I)


def test_hsts_is_sent_over_https_behind_a_trusted_proxy(make_app):
    client = make_app(TRUST_PROXY="1").test_client()
    secure = client.get("/", headers={"X-Forwarded-Proto": "https"})
    hsts = secure.headers["Strict-Transport-Security"]
    max_age = int(re.search(r"max-age=(\d+)", hsts).group(1))
    assert max_age >= 365 * 24 * 3600 and "includeSubDomains" in hsts
    assert "Strict-Transport-Security" not in client.get("/").headers


def test_forwarded_proto_is_not_trusted_unless_configured(make_app):
    client = make_app().test_client()
    response = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers


def test_hsts_is_sent_when_the_app_itself_serves_https(make_app):
    client = make_app().test_client()
    assert "Strict-Transport-Security" in client.get("/", base_url="https://app.test").headers


def test_a_header_the_view_set_wins_and_is_not_sent_twice(make_app):
    app = make_app()

    @app.get("/own-headers")
    def own_headers():
        return "own", {"referrer-policy": "no-referrer", "X-FRAME-OPTIONS": "SAMEORIGIN"}

    response = app.test_client().get("/own-headers")
    assert response.headers.getlist("Referrer-Policy") == ["no-referrer"]
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers.getlist("X-Content-Type-Options") == ["nosniff"]  # the rest added


def test_frame_ancestors_can_allow_a_host_portal(make_app):
    portal = "https://portal.example.test 'self'"
    response = make_app(FRAME_ANCESTORS=portal).test_client().get("/")
    assert csp(response)["frame-ancestors"] == ["https://portal.example.test", "'self'"]
    # X-Frame-Options cannot name an origin; DENY would contradict the CSP in old browsers.
    assert "X-Frame-Options" not in response.headers
    assert csp(response)["script-src"] == ["'self'"]


@pytest.mark.parametrize(
    "value",
    [
        "'none'; script-src *",
        "https://portal.example.test\r\nSet-Cookie: x=1",
        "*",
        "https://a.test,https://b.test",
        "'unsafe-inline'",
        "javascript:",
    ],
)
def test_frame_ancestors_refuses_values_that_would_widen_the_policy(make_app, value):
    with pytest.raises(SystemExit) as refused:
        make_app(FRAME_ANCESTORS=value)
    assert "FRAME_ANCESTORS" in str(refused.value)


@pytest.mark.parametrize(
    "value",
    [
        "https://*",
        "https://*.com",
        "https://*.co.uk",
        "https://*.github.io",
        "https://github.io",
        "http://portal.example.com",
        "http://*.example.com",
        "https://portal.example.com 'none'",
    ],
)
def test_frame_ancestors_refuses_wildcards_wider_than_one_site_and_plain_http(make_app, value):
    with pytest.raises(SystemExit, match="FRAME_ANCESTORS"):
        make_app(FRAME_ANCESTORS=value)


@pytest.mark.parametrize(
    "value",
    ["https://*.example.com", "https://me.github.io 'self'", "http://127.0.0.1:8000"],
)
def test_control_one_sites_subdomains_and_loopback_http_are_accepted(make_app, value):
    assert make_app(FRAME_ANCESTORS=value).config["FRAME_ANCESTORS"] == value
