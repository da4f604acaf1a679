"""The outcome of a form post travels in the redirect URL: sealed, private and short-lived."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlsplit

from linked_accounts import outcomes
from linked_accounts.storage.rules import STARTED
from tests.support import tenant as t
from tests.support.app_session import stored_session
from tests.support.forms import forms


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
