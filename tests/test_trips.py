"""Every trip to Auth0: one callback, each trip remembered under its state for a limited time,
used once, and never growing the session; what is not this browser's trip changes nothing."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from linked_accounts import trips
from linked_accounts.storage.rules import MAX_BYTES
from tests.support import tenant as t
from tests.support.forms import submit
from tests.support.stored_session import COOKIE, edit_stored, signed_in, stored
from tests.support.visitor import Visitor


def test_two_hundred_logins_leave_a_session_under_16_kb(app, base):
    http = requests.Session()
    for _ in range(200):
        response = http.get(f"{base}/account/login", allow_redirects=False, timeout=10)
        assert response.status_code == 302
    data = stored(app, http.cookies[COOKIE])
    size = len(app.session_interface.serializer.encode(data))
    authlib_entries = [k for k in data if k.startswith("_state_")]
    assert len(data[trips.PENDING]) == trips.MAX_PENDING
    assert sorted(k.removeprefix("_state_linked_accounts_") for k in authlib_entries) == sorted(
        data[trips.PENDING]
    )
    assert size < 16 * 1024, size
    assert MAX_BYTES == 16 * 1024


def test_a_long_next_is_not_kept_in_the_session(app, base):
    http = requests.Session()
    target = "/account/?" + "x" * 5000
    http.get(f"{base}/account/login", params={"next": target}, allow_redirects=False, timeout=10)
    data = stored(app, http.cookies[COOKIE])
    assert all(trip.get("next") is None for trip in data[trips.PENDING].values())


@pytest.mark.parametrize(
    "query", ["", "?state=forged&code=x", "?error=login_required", "?state=&code=x"]
)
def test_a_callback_that_is_not_this_browsers_trip_leaves_the_session_alone(base, query):
    ada = Visitor(base)
    ada.login()
    response = ada.get(f"/account/callback{query}", allow_redirects=False)
    assert response.status_code == 400
    assert "Sign-in did not complete" in response.text
    assert "Set-Cookie" not in response.headers
    assert signed_in(ada)


def test_a_link_trip_finished_after_its_lifetime_is_refused(app, base, tenant):
    ben = Visitor(base)
    ben.login("Ben Carter")
    login_page = ben.press_link("Link GitHub")
    state = parse_qs(urlsplit(login_page.url).query)["state"][0]

    def age(data):
        data[trips.PENDING][state]["started_at"] -= 10 * 60 + 1  # the lifetime: 10 minutes

    edit_stored(app, ben.http.cookies[COOKIE], age)
    page = submit(ben.http, login_page, "Continue as Grace Hopper")
    assert "expired" in page.text and "Nothing was changed" in page.text
    assert t.identity_keys(tenant, t.BEN) == [t.BEN]
    assert signed_in(ben)


def test_control_a_link_within_the_lifetime_goes_through(base, tenant):
    ben = Visitor(base)
    ben.login("Ben Carter")
    page = ben.link("Link GitHub", "Grace Hopper")
    assert "is now linked" in page.text
    assert t.identity_keys(tenant, t.BEN) == [t.BEN, t.GRACE]


def test_authlib_debug_logging_never_shows_the_pkce_verifier(app, base, caplog):
    http = requests.Session()
    with caplog.at_level(logging.DEBUG):
        http.get(f"{base}/account/login", allow_redirects=False, timeout=10)
    data = stored(app, http.cookies[COOKIE])
    verifier = next(v["data"]["code_verifier"] for k, v in data.items() if k.startswith("_state"))
    assert verifier not in caplog.text


def test_a_trip_whose_purpose_this_release_does_not_know_changes_nothing(app, base, tenant):
    ben = Visitor(base)
    ben.login("Ben Carter")
    login_page = ben.press_link("Link GitHub")
    state = parse_qs(urlsplit(login_page.url).query)["state"][0]
    assert stored(app, ben.http.cookies[COOKIE])[trips.PENDING][state]["purpose"] == "link"

    def from_another_release(data):
        data[trips.PENDING][state]["purpose"] = "link_v0"

    edit_stored(app, ben.http.cookies[COOKIE], from_another_release)
    page = submit(ben.http, login_page, "Continue as Grace Hopper")
    assert page.status_code == 400 and "took too long" in page.text
    assert t.identity_keys(tenant, t.BEN) == [t.BEN]
    assert signed_in(ben)
