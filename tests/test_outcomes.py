"""The outcome of a form post travels in the redirect URL: sealed, private and short-lived."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlencode, urlsplit

from linked_accounts import outcomes
from linked_accounts.storage.rules import STARTED
from tests.support import tenant as t
from tests.support.app_session import stored_session
from tests.support.forms import forms
from tests.support.visitor import Visitor


def test_the_outcome_rides_sealed_in_the_redirect(visitor):
    visitor.login()
    confirm = visitor.confirm_page(t.ADA_GITHUB)
    form = next(f for f in forms(confirm.text) if "identity" in f.fields)
    response = visitor.post("/account/unlink", form.fields, allow_redirects=False)
    assert response.status_code == 303
    token = parse_qs(urlsplit(response.headers["Location"]).query)[outcomes.PARAM][0]
    for private in ("GitHub", "ada@users.noreply.github.com", "unlinked"):
        assert private not in token  # encrypted, not merely encoded
    page = visitor.get(response.headers["Location"])
    assert "GitHub (ada@users.noreply.github.com) was unlinked" in page.text


def test_a_forged_or_stale_outcome_shows_nothing(make_app, visitor):
    visitor.login()
    for forged in ("x", "gAAAAA" + "A" * 80, ""):
        page = visitor.get("/account/", params={outcomes.PARAM: forged})
        assert page.status_code == 200
        assert 'class="la-message ' not in page.text
    app = make_app()  # the same secret and session store as the visitor's app
    sid = visitor.http.cookies["session"]
    started = stored_session(app, sid)[STARTED]
    with app.test_request_context():
        for at, text in (
            (time.time() - outcomes.LIFETIME - 5, "Old news"),
            (time.time(), "Fresh news"),
        ):
            sealed = json.dumps([repr(started), "success", text]).encode()
            token = outcomes._fernet().encrypt_at_time(sealed, int(at)).decode()
            page = visitor.get("/account/", params={outcomes.PARAM: token})
            assert (text in page.text) is (
                text == "Fresh news"
            )  # sealed for this session: only age


PLANTED = "Security alert: verify your account at https://evil.example"


def attacker_outcome_url(base: str) -> str:
    """What the review's probe did: the attacker's own link trip, answered with an error whose
    description is the text to plant; the redirect carries it sealed in `done=`."""
    attacker = Visitor(base)
    attacker.login("Ben Carter")
    link = attacker.press_link("Link GitHub")
    state = parse_qs(urlsplit(link.url).query)["state"][0]
    query = urlencode({"state": state, "error": "invalid_request", "error_description": PLANTED})
    answer = attacker.get(f"/account/callback?{query}", allow_redirects=False)
    assert answer.status_code == 303
    landing = attacker.get(answer.headers["Location"])
    assert "evil.example" not in landing.text  # not even to the attacker: never a URL's text
    assert "Nothing was changed" in landing.text
    return answer.headers["Location"]


def test_an_outcome_shows_no_text_from_the_url_and_only_in_its_own_session(base):
    planted = attacker_outcome_url(base)
    assert outcomes.PARAM in planted
    victim = Visitor(base)
    victim.login()
    page = victim.get(planted)
    assert page.status_code == 200 and "Unlink GitHub" in page.text
    assert 'class="la-message ' not in page.text  # sealed for the attacker's session only
    assert "evil.example" not in page.text


def test_control_an_outcome_is_shown_in_the_session_that_produced_it(base):
    visitor = Visitor(base)
    visitor.login()
    page = visitor.press(visitor.get("/account/"), "Refresh")
    assert 'class="la-message ' in page.text and "up to date" in page.text
