"""Every trip to Auth0: one callback, each trip remembered under its state for a limited time,
used once, and never growing the session; what is not this browser's trip changes nothing."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from linked_accounts.signin import trips
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
    assert response.status_code == 303  # to a page of its own: the callback's address works once
    assert "Set-Cookie" not in response.headers
    page = ada.get(response.headers["Location"], allow_redirects=False)
    assert page.status_code == 400
    assert "Sign-in did not complete" in page.text
    assert "Set-Cookie" not in page.headers
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


CLIENT_GRANT = "not yet allowed to manage your sign-in methods"
ACTION = "sign-in rules did not let this account in"
CANCELLED = "Signing in was cancelled"
PLANTED = "Weekends only: call +1 555 0100 <b>now</b>"


def only_message(page: requests.Response, expected: str) -> None:
    """The page says `expected` and none of the other causes' messages, nor Auth0's text."""
    others = {CLIENT_GRANT, ACTION, CANCELLED} - {expected}
    assert expected in page.text, page.text[:800]
    assert not any(other in page.text for other in others)
    assert "555" not in page.text and "client-grant" not in page.text


def test_a_missing_client_grant_says_what_to_fix_on_the_page_and_in_the_log(base, tenant, caplog):
    t.refuse(tenant, no_client_grant=["dev-client"])
    with caplog.at_level(logging.INFO, logger="linked_accounts"):
        page = requests.get(f"{base}/account/login", timeout=10)
    assert page.status_code == 400
    only_message(page, CLIENT_GRANT)
    assert "Application Access" not in page.text  # what to fix is the administrator's: the log
    (line,) = [r.getMessage() for r in caplog.records if "client grant" in r.getMessage()]
    assert "dev-client" in line and "Application Access" in line and "read:current_user" in line


def test_an_action_that_denies_gets_our_words_never_its_reason(base, tenant, caplog):
    t.refuse(tenant, action_denies=PLANTED)
    visitor = Visitor(base)
    with caplog.at_level(logging.INFO, logger="linked_accounts"):
        login_page = visitor.get("/account/login")
        page = visitor.press(login_page, "Continue as Ada Lovelace")
    assert page.status_code == 400
    only_message(page, ACTION)
    assert not signed_in(visitor)
    assert any("api.access.deny" in r.getMessage() for r in caplog.records)
    assert not any("555" in r.getMessage() for r in caplog.records)


def test_a_cancelled_login_says_so(base, tenant):
    visitor = Visitor(base)
    page = visitor.press(visitor.get("/account/login"), "Cancel")
    assert page.status_code == 400
    only_message(page, CANCELLED)


def test_an_action_that_denies_the_other_accounts_login_links_nothing(base, tenant):
    visitor = Visitor(base)
    visitor.login("Ben Carter")
    t.refuse(tenant, action_denies=PLANTED)
    page = visitor.link("Link GitHub", "Grace Hopper")
    only_message(page, ACTION)
    assert "Nothing was changed" in page.text
    assert t.identity_keys(tenant, t.BEN) == [t.BEN]
    assert signed_in(visitor)


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        (f"Client is not authorized to access {PLANTED}", CLIENT_GRANT),
        (PLANTED, ACTION),
        ("User did not authorize the request", CANCELLED),
    ],
)
def test_a_forged_description_only_chooses_among_our_messages(base, description, expected):
    http = requests.Session()
    start = http.get(f"{base}/account/login", allow_redirects=False, timeout=10)
    state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]
    query = {"error": "access_denied", "error_description": description, "state": state}
    only_message(http.get(f"{base}/account/callback", params=query, timeout=10), expected)
