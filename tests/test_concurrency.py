"""Concurrent changes: two tabs confirming one unlink, and 50 sessions changing links at once.

50 sessions against the multi-threaded app and tenant: 45 of Ada's (15 for each of her three
secondaries, all confirming the unlink at the same moment) and 5 of Ben's (one links Grace's
GitHub, one links Linus's Google, three reload their settings). Every final state is exact.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.support import tenant as t
from tests.support.forms import submit
from tests.support.visitor import Visitor

ADA_SECONDARIES = [t.ADA_GOOGLE, t.ADA_GITHUB, t.ADA_SAML]


@pytest.fixture
def app_url(make_app, serve):
    return serve(make_app(LINK_CONNECTIONS="github", REFRESH_MIN_INTERVAL="0"))


def second_tab(visitor: Visitor) -> requests.Session:
    """Another tab of the same browser: same cookies, its own connection."""
    tab = requests.Session()
    tab.cookies.update(visitor.http.cookies)
    return tab


def unlinked_and_already(pages: list[requests.Response]) -> tuple[int, int]:
    assert all(p.status_code == 200 for p in pages), [p.status_code for p in pages]
    done = sum("was unlinked" in p.text and "already" not in p.text for p in pages)
    already = sum("already unlinked" in p.text for p in pages)
    return done, already


def test_two_tabs_confirming_the_same_unlink_one_after_the_other(app_url, tenant):
    visitor = Visitor(app_url)
    visitor.login("Ada Lovelace")
    tab1, tab2 = visitor.http, second_tab(visitor)
    page1, page2 = visitor.confirm_page(t.ADA_GITHUB), visitor.confirm_page(t.ADA_GITHUB)
    first = submit(tab1, page1, "Unlink")
    second = submit(tab2, page2, "Unlink")
    assert unlinked_and_already([first, second]) == (1, 1)
    assert "was unlinked" in first.text and "already unlinked" in second.text
    assert t.identity_keys(tenant, t.ADA) == [t.ADA, t.ADA_GOOGLE, t.ADA_SAML]
    assert t.identity_keys(tenant, t.ADA_GITHUB) == [t.ADA_GITHUB]


@pytest.mark.parametrize("round_", range(5))  # a race: several rounds to catch it reliably
def test_two_tabs_confirming_the_same_unlink_at_the_same_moment(app_url, tenant, round_):
    visitor = Visitor(app_url)
    visitor.login("Ada Lovelace")
    tabs = [visitor.http, second_tab(visitor)]
    pages = [visitor.confirm_page(t.ADA_GITHUB) for _ in tabs]
    barrier = threading.Barrier(len(tabs))

    def press(i: int) -> requests.Response:
        barrier.wait()
        return submit(tabs[i], pages[i], "Unlink")

    with ThreadPoolExecutor(len(tabs)) as pool:
        results = list(pool.map(press, range(len(tabs))))
    # One tab says it was unlinked, the other that it already was: each outcome rides in its own
    # tab's redirect, so the shared session cannot swap or lose them.
    assert unlinked_and_already(results) == (1, 1)
    assert t.identity_keys(tenant, t.ADA) == [t.ADA, t.ADA_GOOGLE, t.ADA_SAML]
    assert t.identity_keys(tenant, t.ADA_GITHUB) == [t.ADA_GITHUB]


def test_fifty_sessions_unlinking_and_linking_at_once(app_url, tenant):
    requests.post(
        f"{tenant}/__dev/config", json={"rate_burst": 10000}, timeout=5
    ).raise_for_status()
    plan = [("ada", key) for key in ADA_SECONDARIES for _ in range(15)]
    plan += [("ben", "grace"), ("ben", "linus"), ("ben", "view"), ("ben", "view"), ("ben", "view")]
    assert len(plan) == 50
    visitors = [Visitor(app_url) for _ in plan]
    with ThreadPoolExecutor(25) as pool:
        list(
            pool.map(
                lambda v, p: v.login("Ada Lovelace" if p[0] == "ada" else "Ben Carter"),
                visitors,
                plan,
            )
        )
    # Everyone stands on the page where the last click happens.
    ready = []
    for visitor, (who, what) in zip(visitors, plan, strict=True):
        if who == "ada":
            ready.append((visitor.confirm_page(what), "Unlink"))
        elif what == "grace":
            ready.append((visitor.press_link("Link GitHub"),
                          "Continue as Grace Hopper"))  # fmt: skip
        elif what == "linus":
            ready.append((visitor.press_link("Link another account"),
                          "Continue as Linus Google"))  # fmt: skip
        else:
            ready.append((visitor.get("/account/"), "Refresh list"))
    barrier = threading.Barrier(len(plan))

    def click(i: int) -> requests.Response:
        page, button = ready[i]
        barrier.wait()
        return visitors[i].press(page, button)

    with ThreadPoolExecutor(len(plan)) as pool:
        results = list(pool.map(click, range(len(plan))))

    assert [r.status_code for r in results] == [200] * 50
    assert not any("Traceback" in r.text for r in results)
    for key in ADA_SECONDARIES:
        pages = [r for r, (_, what) in zip(results, plan, strict=True) if what == key]
        assert unlinked_and_already(pages) == (1, 14), key
        assert t.identity_keys(tenant, key) == [key]  # a separate user again
    assert t.identity_keys(tenant, t.ADA) == [t.ADA]
    ben = t.identity_keys(tenant, t.BEN)
    assert ben[0] == t.BEN and sorted(ben[1:]) == sorted([t.GRACE, t.LINUS])
    assert t.user(tenant, t.GRACE) is None and t.user(tenant, t.LINUS) is None
    assert "GitHub (grace@example.com) is now linked" in results[45].text
    assert "Google (linus@example.com) is now linked" in results[46].text
    # Each session's list may be cached for a minute; "Refresh list" shows the tenant's truth.
    for visitor, (who, _) in zip(visitors[::5], plan[::5], strict=True):
        page = visitor.press(visitor.get("/account/"), "Refresh list")
        assert page.status_code == 200
        if who == "ada":
            assert "No other accounts are linked" in page.text
