"""Every Auth0 failure on every Management API call the app makes: a clear page, quickly, and
the identities exactly as they were (or, when Auth0 did the change but the answer was lost,
exactly what the user asked for).

Cases: 3 calls (GET user, DELETE identity, POST identities) x 10 faults (401, 403, 404, 409,
429 with x-ratelimit-reset, 500, 503, a delay past our read timeout, a dropped connection,
malformed JSON) = 30, plus 2 writes x 2 lost answers (dropped, timed out) applied after the real
change = 4: 34 cases.
"""

from __future__ import annotations

import time

import pytest

from tests.support import tenant as t
from tests.support.visitor import Visitor, unlink_buttons

READ_TIMEOUT = 1.5  # conftest's AUTH0_READ_TIMEOUT
MARGIN = 3.0  # loose: shared machines are noisy; a hung request would take 10 s or forever
ADA_ALL = [t.ADA, t.ADA_GOOGLE, t.ADA_GITHUB, t.ADA_SAML]


def _error(status: int, error: str, message: str, code: str | None = None) -> dict:
    body = {"statusCode": status, "error": error, "message": message}
    if code:
        body["errorCode"] = code
    return {"status": status, "body": body}


# Each fault as Auth0 sends it, and what the user must get: (status, words on the page).
FAULTS = {
    "401": (
        {"status": 401, "body": {"statusCode": 401, "error": "Unauthorized",
                                 "message": "Invalid token",
                                 "attributes": {"error": "Invalid token"}}},
        None,  # sent to log in again
    ),
    "403": (
        _error(403, "Forbidden", "Insufficient scope, expected any of: update:users,"
               "update:current_user_identities", "insufficient_scope"),
        (403, "This site is not set up to make this change"),  # the scope: in the log
    ),
    "404": (_error(404, "Not Found", "User not found.", "inexistent_user"),
            (404, "not found at your sign-in service")),
    "409": (_error(409, "Conflict", "Specified identity already exists."),
            (409, "already linked to a profile")),
    "429": (
        {**_error(429, "Too Many Requests", "Global limit has been reached",
                  "too_many_requests"),
         "headers": {"x-ratelimit-limit": "10", "x-ratelimit-remaining": "0"}},
        (429, "try again in"),
    ),
    "500": (_error(500, "Internal Server Error", "boom"),
            (502, "An error came back from your sign-in service")),
    "503": (_error(503, "Service Unavailable", "down"),
            (502, "An error came back from your sign-in service")),
    # Slow, then gone: Auth0 never acts, and never answers within our read timeout. (After a
    # change, the list is read again: "...show that nothing was changed".)
    "timeout": ({"delay": READ_TIMEOUT + 1.0, "drop": True}, (504, "No answer came")),
    "drop": ({"drop": True}, (503, "There is no connection to your sign-in service")),
    "malformed": ({"status": 200, "malformed": True}, (502, "your sign-in service")),
}  # fmt: skip
RETRY_IN = 2  # short: the next call is due within the pacer's wait, and the next view recovers


def _spec(name: str, endpoint: str) -> dict:
    spec = dict(FAULTS[name][0])
    if name == "429":
        spec["headers"] = {
            **spec["headers"],
            "x-ratelimit-reset": str(int(time.time()) + RETRY_IN),
        }
    if name == "malformed" and endpoint == "link_identity":
        spec["status"] = 201
    return {**spec, "times": 1}


def _timed(action):
    started = time.monotonic()
    response = action()
    elapsed = time.monotonic() - started
    assert elapsed < READ_TIMEOUT + MARGIN, f"took {elapsed:.1f} s"
    return response


# A link whose answer is lost (dropped, unreadable) is settled by reading the list again: here
# Auth0 never linked, and the page says so, in words for the fault.
LINK_ANSWERS = {
    "drop": (503, "The connection to your sign-in service was lost, and your linked accounts show"),
    "malformed": (502, "could not be read, and your linked accounts show that nothing was"),
}


def _check_answer(name: str, response, expect: str, answers: dict | None = None) -> None:
    """The page the user got for fault `name`: never a 500 or a traceback.

    For a 401 the user is sent to log in again, silently first (`prompt=none`), and ends on
    a page showing `expect`. `answers`: this call's own expectations, where they differ.
    """
    assert "Traceback" not in response.text
    assert response.status_code != 500
    if FAULTS[name][1] is None:
        hops = [r.url for r in response.history]
        assert any("/authorize" in url and "prompt=none" in url for url in hops), hops
        assert response.status_code == 200, response.text[:300]
        assert expect in response.text
        return
    status, words = (answers or {}).get(name) or FAULTS[name][1]
    assert response.status_code == status, response.text[:500]
    assert words in response.text
    assert "Back to linked accounts" in response.text  # a next step
    if status == 429:
        assert 1 <= int(response.headers["Retry-After"]) <= RETRY_IN
        assert f"{int(response.headers['Retry-After'])} second" in response.text  # or seconds


@pytest.mark.parametrize("name", FAULTS)
def test_get_user_failure_on_the_settings_page(make_app, serve, tenant, name):
    visitor = Visitor(serve(make_app(IDENTITIES_CACHE_SECONDS="0")))
    visitor.login("Ada Lovelace")
    t.fault(tenant, "get_user", **_spec(name, "get_user"))
    response = _timed(lambda: visitor.get("/account/"))
    _check_answer(name, response, "ada@example.com")  # 401: the settings page again
    t.clear_faults(tenant)
    assert t.identity_keys(tenant, t.ADA) == ADA_ALL
    assert len(unlink_buttons(visitor.get("/account/").text)) == 3


@pytest.mark.parametrize("name", FAULTS)
def test_delete_identity_failure_on_a_confirmed_unlink(make_app, serve, tenant, name):
    visitor = Visitor(serve(make_app()))
    visitor.login("Ada Lovelace")
    confirm = visitor.confirm_page(t.ADA_GITHUB)
    t.fault(tenant, "delete_identity", **_spec(name, "delete_identity"))
    visitor.http.headers["Referer"] = confirm.url  # as a browser sends it (same-origin policy)
    response = _timed(lambda: visitor.press(confirm, "Unlink"))
    # 401: back on the confirmation page, to confirm again with the new token.
    _check_answer(name, response, "Unlink GitHub</button>")
    t.clear_faults(tenant)
    assert t.identity_keys(tenant, t.ADA) == ADA_ALL
    assert t.user(tenant, t.ADA_GITHUB) is None  # not split off as a user of its own
    page = visitor.get("/account/")
    assert page.status_code == 200
    assert "Unlink GitHub (ada@users.noreply.github.com)" in unlink_buttons(page.text)


@pytest.mark.parametrize("name", FAULTS)
def test_link_identity_failure_after_signing_in_to_the_other_account(make_app, serve, tenant, name):
    visitor = Visitor(serve(make_app(LINK_CONNECTIONS="github")))
    visitor.login("Ben Carter")
    login_page = visitor.press_link("Link GitHub")
    t.fault(tenant, "link_identity", **_spec(name, "link_identity"))
    response = _timed(lambda: visitor.press(login_page, "Continue as Grace Hopper"))
    # 401: Auth0's session is now Grace's, so the silent login must not be taken as Ben's:
    # Auth0's login page asks who is signing in, and Ben lands back on his settings.
    _check_answer(name, response, "Continue as Ben Carter", LINK_ANSWERS)
    if name == "401":
        page = visitor.press(response, "Continue as Ben Carter")
        assert page.status_code == 200, page.text[:300]
        assert page.url.split("?")[0] == visitor.base + "/account/"
        assert "ben@example.com" in page.text
    t.clear_faults(tenant)
    assert t.identity_keys(tenant, t.BEN) == [t.BEN]
    assert t.identity_keys(tenant, t.GRACE) == [t.GRACE]  # still a user of her own
    page = visitor.get("/account/")
    assert page.status_code == 200
    assert "ben@example.com" in page.text
    assert unlink_buttons(page.text) == []


# Auth0 makes the change, then its answer is lost. A dropped connection is answered "could not
# connect" and the next view re-reads; a timeout is settled at once: the list is read again and
# the user told what happened (done), with no second read on the next view.
LOST_ANSWERS = {
    "dropped": ({"after": True, "drop": True}, 503, 1),
    "timed out": ({"after": True, "delay": READ_TIMEOUT + 1.0}, 200, 0),
}


@pytest.mark.parametrize("name", LOST_ANSWERS)
def test_unlink_done_by_auth0_with_its_answer_lost(make_app, serve, tenant, name):
    visitor = Visitor(serve(make_app()))
    visitor.login("Ada Lovelace")
    confirm = visitor.confirm_page(t.ADA_GITHUB)
    spec, status, rereads = LOST_ANSWERS[name]
    t.fault(tenant, "delete_identity", times=1, **spec)
    response = _timed(lambda: visitor.press(confirm, "Unlink"))
    assert response.status_code == status
    assert "Traceback" not in response.text
    if status == 200:  # the truth, not "maybe": it was done
        assert "GitHub (ada@users.noreply.github.com) was unlinked" in response.text
    # What the user asked for, exactly: GitHub gone, now a user of its own.
    assert t.identity_keys(tenant, t.ADA) == [t.ADA, t.ADA_GOOGLE, t.ADA_SAML]
    assert t.identity_keys(tenant, t.ADA_GITHUB) == [t.ADA_GITHUB]
    # The next view tells the truth: it re-reads Auth0 instead of trusting the old cache.
    reads = t.stats(tenant)["management_calls"].get(t.ADA, 0)
    page = visitor.get("/account/")
    assert page.status_code == 200
    assert t.stats(tenant)["management_calls"][t.ADA] == reads + rereads
    assert unlink_buttons(page.text) == [
        "Unlink Google (ada.lovelace@gmail.com)",
        "Unlink Single sign-on (acme-saml) (ada@acme.test)",
    ]


# Every lost answer to a link is settled at once, as a timed-out unlink is: the list is read
# again and the page says it was done.
LINK_LOST_ANSWERS = {
    "dropped": ({"after": True, "drop": True}, 200, 0),
    "timed out": ({"after": True, "delay": READ_TIMEOUT + 1.0}, 200, 0),
    "malformed": ({"after": True, "status": 201, "malformed": True}, 200, 0),
}


@pytest.mark.parametrize("name", LINK_LOST_ANSWERS)
def test_link_done_by_auth0_with_its_answer_lost(make_app, serve, tenant, name):
    visitor = Visitor(serve(make_app(LINK_CONNECTIONS="github")))
    visitor.login("Ben Carter")
    login_page = visitor.press_link("Link GitHub")
    spec, status, rereads = LINK_LOST_ANSWERS[name]
    t.fault(tenant, "link_identity", times=1, **spec)
    response = _timed(lambda: visitor.press(login_page, "Continue as Grace Hopper"))
    assert response.status_code == status
    assert "Traceback" not in response.text
    if status == 200:  # the truth, not "maybe": it was done
        assert "GitHub (grace@example.com) is now linked" in response.text
    assert t.identity_keys(tenant, t.BEN) == [t.BEN, t.GRACE]
    assert t.user(tenant, t.GRACE) is None  # merged into Ben
    reads = t.stats(tenant)["management_calls"].get(t.BEN, 0)
    page = visitor.get("/account/")
    assert page.status_code == 200
    assert t.stats(tenant)["management_calls"][t.BEN] == reads + rereads
    assert unlink_buttons(page.text) == ["Unlink GitHub (grace@example.com)"]


def test_a_timed_out_unlink_that_cannot_be_checked_says_what_to_look_for(make_app, serve, tenant):
    """Done at Auth0, the answer lost, and the re-read refused too: "unknown", with what to check;
    the next view reads the list again and shows what Auth0 did."""
    visitor = Visitor(serve(make_app()))
    visitor.login("Ada Lovelace")
    confirm = visitor.confirm_page(t.ADA_GITHUB)
    t.fault(tenant, "delete_identity", times=1, after=True, delay=READ_TIMEOUT + 1.0)
    t.fault(tenant, "get_user", **_spec("429", "get_user"))
    response = _timed(lambda: visitor.press(confirm, "Unlink"))
    assert response.status_code == 504
    assert "could not be checked yet" in response.text
    assert "if GitHub is no longer listed there, it was unlinked" in response.text
    t.clear_faults(tenant)
    assert t.identity_keys(tenant, t.ADA) == [t.ADA, t.ADA_GOOGLE, t.ADA_SAML]
    page = visitor.get("/account/")
    assert "Unlink GitHub" not in page.text


def test_a_timed_out_unlink_that_auth0_never_made_says_nothing_was_changed(make_app, serve, tenant):
    visitor = Visitor(serve(make_app()))
    visitor.login("Ada Lovelace")
    confirm = visitor.confirm_page(t.ADA_GITHUB)
    t.fault(tenant, "delete_identity", **_spec("timeout", "delete_identity"))
    response = _timed(lambda: visitor.press(confirm, "Unlink"))
    assert response.status_code == 504
    assert "your linked accounts show that nothing was changed" in response.text
    assert t.identity_keys(tenant, t.ADA) == ADA_ALL
