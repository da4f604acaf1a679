"""/oidc/logout as Auth0 runs it: silent with a hint that names this browser's session (the ID
token's `sid` as logout_hint with client_id, or id_token_hint), a confirmation page otherwise."""

from __future__ import annotations

from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

from tests.support.forms import forms
from tests.support.tenant_api import claims
from tests.support.tenant_login import LoginError, login

BACK = "http://127.0.0.1:5999/bye"


def signed_in(tenant: str) -> tuple[requests.Session, str]:
    """A browser with an SSO session at the tenant, and the sid of its ID token."""
    session = requests.Session()
    id_token = login(tenant, "Ben Carter", session=session)["id_token"]
    return session, claims(id_token)["sid"]


def still_signed_in(tenant: str, session: requests.Session) -> bool:
    try:
        login(tenant, None, session=session, extra_params={"prompt": "none"})
    except LoginError:
        return False
    return True


def confirm(session: requests.Session, page: requests.Response) -> requests.Response:
    """Press "Yes, log out" on the confirmation page, without following where it leads."""
    (form,) = forms(page.text)
    assert form.button("Yes, log out") is not None
    url = urljoin(page.url, form.action)
    return session.post(url, data=form.fields, allow_redirects=False, timeout=5)


def logout(tenant: str, session: requests.Session, **params) -> requests.Response:
    """GET /oidc/logout as the app sends it (client_id unless given), without following it."""
    params.setdefault("client_id", "dev-client")
    return session.get(f"{tenant}/oidc/logout", params=params, allow_redirects=False, timeout=5)


def test_id_tokens_name_the_sso_session_without_revealing_its_cookie(tenant):
    session, sid = signed_in(tenant)
    assert sid and sid != session.cookies.get("devtenant_sso")
    # A silent login in the same session carries the same sid.
    again = login(tenant, None, session=session, extra_params={"prompt": "none"})
    assert claims(again["id_token"])["sid"] == sid
    other, other_sid = signed_in(tenant)
    assert other_sid != sid


def test_logout_hint_with_client_id_logs_out_without_asking(tenant):
    session, sid = signed_in(tenant)
    out = logout(tenant, session, logout_hint=sid, post_logout_redirect_uri=BACK, state="s1")
    assert out.status_code == 302
    location = urlsplit(out.headers["Location"])
    assert location.path == "/bye" and parse_qs(location.query) == {"state": ["s1"]}
    assert not still_signed_in(tenant, session)


@pytest.mark.parametrize("hint", [None, "not-this-session"])
def test_without_a_matching_hint_the_tenant_asks_first(tenant, hint):
    session, _ = signed_in(tenant)
    params = {"post_logout_redirect_uri": BACK}
    if hint:
        params["logout_hint"] = hint
    page = logout(tenant, session, **params)
    assert page.status_code == 200 and "Do you want to log out?" in page.text
    assert still_signed_in(tenant, session)  # asking ended nothing
    done = confirm(session, page)
    assert done.status_code == 302 and done.headers["Location"].startswith(BACK)
    assert not still_signed_in(tenant, session)
    replay = confirm(session, page)
    assert replay.status_code == 400  # the confirmation is single use


def test_a_bad_redirect_is_refused_before_anything_is_asked(tenant):
    session, sid = signed_in(tenant)
    bad = logout(tenant, session, logout_hint=sid, post_logout_redirect_uri="https://evil.example/")
    assert bad.status_code == 400 and "Allowed Logout URLs" in bad.text
    assert still_signed_in(tenant, session)


def test_logout_hint_must_match_the_id_token_hint(tenant):
    session = requests.Session()
    id_token = login(tenant, "Ben Carter", session=session)["id_token"]
    bad = logout(tenant, session, id_token_hint=id_token, logout_hint="another-sid")
    assert bad.status_code == 400 and "logout_hint" in bad.text
    assert still_signed_in(tenant, session)
