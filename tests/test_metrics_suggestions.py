"""The suggestions' metrics, over real HTTP against the development tenant: suggestions shown,
dismissed by reason, and merges by which account stayed, counted apart from manual links."""

from __future__ import annotations

import pytest
import requests

from tests.support import tenant as t
from tests.support.spa import Spa
from tests.support.visitor import Visitor
from tests.test_metrics import SECRETS, TOKEN, delta, samples, scrape
from tests.test_suggestions import SUGGEST, confirm

SHOWN = "linked_accounts_suggestions_shown_total"
DISMISSED = "linked_accounts_suggestions_dismissed_total"
MERGES = "linked_accounts_merges_total"
CHANGES = "linked_accounts_changes_total"
OUTCOMES = [
    ("signed_in", "older"),
    ("signed_in", "has_links"),
    ("signed_in", "host"),
    ("suggested", "newer"),
    ("suggested", "host"),
]


@pytest.fixture
def base(make_app, serve, tmp_path):
    # Each test's dismissals in a store of its own (INSTANCE_PATH), as tests/test_suggestions.py.
    app = make_app(
        **SUGGEST,
        METRICS="1",
        METRICS_TOKEN=TOKEN,
        LINK_CONNECTIONS="github,google-oauth2",
        INSTANCE_PATH=str(tmp_path),
    )
    return serve(app)


def sign_ins(visitor: Visitor, tenant: str, page: requests.Response) -> requests.Response:
    """Press "Sign in and link", then sign in as Maya at each login page the merge asks for
    (however many: her own account again, the other one); return where the last lands."""
    page = visitor.press(page, "Sign in and link")
    for _ in range(3):
        if not page.url.startswith(tenant):
            return page
        (name,) = [n for n in ("maya-patel", "Maya Patel") if f"Continue as {n}<" in page.text]
        page = visitor.press(page, f"Continue as {name}")
    raise AssertionError(f"still at the tenant: {page.url}")


@pytest.mark.parametrize(("button", "reason"), [("Not now", "not_now"), ("Not mine", "not_mine")])
def test_suggestions_shown_and_dismissed_are_counted_by_reason(base, button, reason):
    before = samples(scrape(base))
    maya = Visitor(base)
    page = maya.login("Maya Patel")  # the settings page offers her GitHub account: one shown
    offered = f'name="candidate" value="{t.MAYA_GITHUB}"'  # its dismiss form
    assert offered in page.text
    listing = Spa(maya).call("GET", "/suggestions").json()  # and the JSON listing: two
    assert len(listing["suggestions"]) == 1
    page = maya.press(page, button)  # the page it lands on offers none
    assert offered not in page.text
    text = scrape(base)
    after = samples(text)
    assert delta(before, after, SHOWN) == 2
    assert delta(before, after, DISMISSED, reason=reason) == 1
    other = {"not_now": "not_mine", "not_mine": "not_now"}[reason]
    assert delta(before, after, DISMISSED, reason=other) == 0
    assert not [s for s in (*SECRETS, "maya", "8765432") if s in text]


@pytest.mark.parametrize(
    ("who", "method", "kept", "reason"),
    [
        ("Maya Patel", "GitHub", "signed_in", "older"),
        ("maya-patel", "Email and password", "suggested", "newer"),
    ],
)
def test_a_merge_is_counted_by_which_account_stayed_and_apart_from_manual_links(
    base, tenant, who, method, kept, reason
):
    before = samples(scrape(base))
    maya = Visitor(base)
    done = sign_ins(maya, tenant, confirm(maya, maya.login(who), method))
    assert done.status_code == 200, done.text[:300]
    assert t.identity_keys(tenant, t.MAYA) == [t.MAYA, t.MAYA_GITHUB]
    ben = Visitor(base)
    ben.login("Ben Carter")
    assert "is now linked" in ben.link("Link GitHub", "Grace Hopper").text  # a manual link
    text = scrape(base)
    after = samples(text)

    for outcome in OUTCOMES:
        merged = dict(zip(("kept", "reason"), outcome, strict=True))
        assert delta(before, after, MERGES, **merged) == (outcome == (kept, reason)), outcome
    assert delta(before, after, CHANGES, action="merge", result="done") == 1
    assert delta(before, after, CHANGES, action="link", result="done") == 1  # Ben's only
    started = "linked_accounts_trips_started_total"
    assert delta(before, after, started, purpose="link") == 1
    assert delta(before, after, started, purpose="merge") >= 1
    assert not [s for s in (*SECRETS, "maya", "8765432") if s in text]
