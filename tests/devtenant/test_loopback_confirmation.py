"""Auth0's login confirmation for loopback callbacks (its default since 28 April 2026), behind a
tenant setting: single sign-on no longer answers a 127.0.0.1 callback silently."""

from __future__ import annotations

import pytest
import requests

from devtenant import create_app
from tests.support.servers import serving
from tests.support.tenant_api import BEN, claims, http
from tests.support.tenant_login import (
    CALLBACK,
    LoginError,
    authorize_params,
    callback_params,
    login,
    parse_login_page,
)

HTTPS_CALLBACK = "https://app.example/callback"


def confirm_logins(tenant: str, on: bool = True) -> None:
    http.post(f"{tenant}/__dev/config", json={"loopback_confirmation": int(on)}).raise_for_status()


def signed_in(tenant: str) -> requests.Session:
    """A browser with the tenant's single sign-on session for Ben."""
    session = requests.Session()
    login(tenant, "Ben Carter", session=session)
    return session


def test_prompt_none_fails_for_a_loopback_callback(tenant):
    session = signed_in(tenant)
    confirm_logins(tenant)
    with pytest.raises(LoginError) as caught:
        login(tenant, None, session=session, extra_params={"prompt": "none"})
    assert caught.value.error == "interaction_required"


def test_single_sign_on_shows_the_confirmation_once_then_returns(tenant):
    session = signed_in(tenant)
    confirm_logins(tenant)
    page = session.get(
        f"{tenant}/authorize", params=authorize_params(tenant), allow_redirects=False
    )
    assert page.status_code == 200 and "Continue signing in?" in page.text
    assert "127.0.0.1:5999" in page.text
    form = parse_login_page(page.text)
    name, value = form.button("Continue")
    back = session.post(
        f"{tenant}{form.action}", data={**form.hidden, name: value}, allow_redirects=False
    )
    assert set(callback_params(back, CALLBACK)) == {"code", "state"}
    # The form is used up.
    again = session.post(f"{tenant}{form.action}", data={**form.hidden, name: value})
    assert again.status_code == 400


def test_the_whole_login_goes_through_the_page_as_the_same_user(tenant):
    session = signed_in(tenant)
    confirm_logins(tenant)
    with pytest.raises(AssertionError, match="no button 'Continue as Ben Carter'"):
        login(tenant, "Ben Carter", session=session)  # not the login page: the confirmation
    page = session.get(f"{tenant}/authorize", params=authorize_params(tenant))
    cancel = parse_login_page(page.text).button("Cancel")
    back = session.post(
        f"{tenant}/u/confirm",
        data={**parse_login_page(page.text).hidden, cancel[0]: cancel[1]},
        allow_redirects=False,
    )
    assert callback_params(back, CALLBACK)["error"] == "access_denied"


def test_a_confirmation_is_refused_after_the_session_changed(tenant):
    session = signed_in(tenant)
    confirm_logins(tenant)
    page = session.get(f"{tenant}/authorize", params=authorize_params(tenant))
    form = parse_login_page(page.text)
    session.get(f"{tenant}/v2/logout")  # signed out in another tab
    name, value = form.button("Continue")
    refused = session.post(f"{tenant}{form.action}", data={**form.hidden, name: value})
    assert refused.status_code == 400


def test_off_or_for_an_https_callback_single_sign_on_stays_silent(tenant):
    session = signed_in(tenant)
    assert claims(login(tenant, None, session=session)["id_token"])["sub"] == BEN
    clients = [
        {
            "client_id": "dev-client",
            "client_secret": "dev-client-secret",
            "callbacks": [HTTPS_CALLBACK],
        }
    ]
    with serving(
        create_app({"DEVTENANT_CLIENTS": clients, "DEVTENANT_LOOPBACK_CONFIRMATION": 1})
    ) as other:
        browser = requests.Session()
        login(other, "Ben Carter", session=browser, redirect_uri=HTTPS_CALLBACK)
        silent = login(
            other,
            None,
            session=browser,
            redirect_uri=HTTPS_CALLBACK,
            extra_params={"prompt": "none"},
        )
        assert claims(silent["id_token"])["sub"] == BEN
