"""Several app instances share sessions through a real Redis: any instance serves any user."""

from __future__ import annotations

from tests.support import tenant as t
from tests.support.servers import serving
from tests.support.visitor import Visitor, unlink_buttons


def on(base: str, visitor: Visitor) -> Visitor:
    """The same browser (same cookie jar) talking to another instance on the same host."""
    other = Visitor(base)
    other.http = visitor.http
    return other


def test_login_on_one_instance_unlink_on_another_and_survive_a_restart(make_app, tenant, redis_url):
    app_a, app_b = make_app(REDIS_URL=redis_url), make_app(REDIS_URL=redis_url)
    with serving(app_a) as url_a, serving(app_b) as url_b:
        assert url_a != url_b  # same host 127.0.0.1, so one cookie reaches both
        ada = Visitor(url_a)
        ada.login("Ada Lovelace")
        calls_after_login = t.stats(tenant)["management_calls_total"]

        page = on(url_b, ada).get("/account/", allow_redirects=False)
        assert page.status_code == 200, "instance B does not know the session made on A"
        assert len(unlink_buttons(page.text)) == 3
        # B drew the page from the identities A cached in the shared session.
        assert t.stats(tenant)["management_calls_total"] == calls_after_login

        done = on(url_b, ada).unlink(t.ADA_GITHUB)
        assert done.url.split("?")[0] == url_b + "/account/"
        assert "GitHub (ada@users.noreply.github.com) was unlinked" in done.text

    assert t.identity_keys(tenant, t.ADA) == [t.ADA, t.ADA_GOOGLE, t.ADA_SAML]
    assert t.user(tenant, t.ADA_GITHUB) is not None  # now a separate user
    assert t.identity_keys(tenant, t.BEN) == [t.BEN]  # nobody else touched
    calls_after_unlink = t.stats(tenant)["management_calls_total"]
    assert calls_after_unlink == calls_after_login + 1  # the DELETE, nothing more

    # Both instances are gone; a fresh one (a new app, as after a deploy) takes over.
    with serving(make_app(REDIS_URL=redis_url)) as url_c:
        page = on(url_c, ada).get("/account/", allow_redirects=False)
        assert page.status_code == 200
        assert unlink_buttons(page.text) == [
            "Unlink Google (ada.lovelace@gmail.com)",
            "Unlink Single sign-on (acme-saml) (ada@acme.test)",
        ]
    assert t.stats(tenant)["management_calls_total"] == calls_after_unlink


def test_a_session_unknown_to_redis_is_signed_out_on_every_instance(make_app, tenant, redis_url):
    with serving(make_app(REDIS_URL=redis_url)) as url_a:
        ada = Visitor(url_a)
        ada.login("Ada Lovelace")
    # Another Redis database holds none of the first one's sessions: the cookie alone grants
    # nothing.
    other_redis = redis_url.rsplit("/", 1)[0] + "/1"
    with serving(make_app(REDIS_URL=other_redis)) as url_b:
        page = on(url_b, ada).get("/account/", allow_redirects=False)
        assert page.status_code == 302
        assert "/account/login" in page.headers["Location"]
