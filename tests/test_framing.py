"""Framing mode: another site may frame the settings page when FRAME_ANCESTORS lists it."""

from __future__ import annotations

import pytest

from tests.support import tenant as t
from tests.support.servers import serving
from tests.support.visitor import Visitor

PORTAL = "https://portal.example.com"


def test_by_default_no_one_may_frame_the_page(app_url):
    response = Visitor(app_url).get("/")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_listed_origins_may_frame_it_with_cross_site_cookies(make_app, tenant):
    app = make_app(FRAME_ANCESTORS=PORTAL)
    client = app.test_client()
    response = client.get("/account/login")
    assert f"frame-ancestors {PORTAL}" in response.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in response.headers
    cookie = response.headers["Set-Cookie"]
    assert "SameSite=None" in cookie and "Secure" in cookie and "HttpOnly" in cookie


def test_csrf_is_still_enforced_when_framed(make_app, tenant):
    app = make_app(FRAME_ANCESTORS=PORTAL)
    # requests drops Secure cookies over plain http: relax that one flag for this http test.
    app.config["SESSION_COOKIE_SECURE"] = False
    with serving(app) as url:
        visitor = Visitor(url)
        visitor.login()
        response = visitor.post("/account/unlink", {"identity": t.ADA_GITHUB})
        assert response.status_code == 400
        assert t.identity_keys(tenant, t.ADA) == [t.ADA, t.ADA_GOOGLE, t.ADA_GITHUB, t.ADA_SAML]


@pytest.mark.parametrize("bad", ["*", "https://a.example; script-src *", "portal.example.com"])
def test_unsafe_frame_ancestors_stop_start_up(make_app, bad):
    with pytest.raises(SystemExit, match="FRAME_ANCESTORS"):
        make_app(FRAME_ANCESTORS=bad)
