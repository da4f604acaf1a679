"""`make bench`'s "first view after sign-in" phase: people who have just signed in open the settings
page once, with the identities claim and without it.

Most people open the page once, right after signing in, and that first view is what costs the
tenant's shared Management API budget. Each sign-in here is a fresh one through the tenant's login
page, the shipped post-login Action running on it as Auth0 runs it (the app forgets a user's cached
list at every sign-in, so each view after one is a first view, as a new user's is). The view after
the sign-in is timed, then a second view of the same session: the cached view it is compared with,
in turns, so that a drift of the machine's speed reaches both alike.

  without  the Action installed (with the app's install-action) with no identities claim; the app
           reads none, so the first view reads the user from the Management API
  with     the same Action with --identities-claim, and the app's IDENTITIES_CLAIM the same name:
           the list comes with the sign-in, and the first view reads no Management API

The tenant counts Management API calls around each view (and around each sign-in). From the calls
per first view, and Auth0's published limits for reading users, the new users a second each plan
serves before a first view waits.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from linked_accounts.atlogin.install import Tenant, action_secrets, install_action
from scripts import bench_servers as servers
from tests.support.tenant_login import parse_login_page

CLAIM = "https://linked-accounts/identities"
SIDES = (("without", ""), ("with", CLAIM))

# The first view's one call is GET /api/v2/users/{id}, a read of a user. Auth0's rate-limit pages:
# the free plan about 2 requests a second for the whole Management API; Essentials and
# Professional a bucket per endpoint group, reading users a burst of 40 refilled at 500 a minute;
# Enterprise production a burst of 50, 16 a second. (plan, burst, sustained calls a second.)
PLANS = [
    ("Free", None, 2.0),
    ("Essentials/Professional", 40, 500 / 60),
    ("Enterprise", 50, 16.0),
]


def require_node(smoke: bool) -> bool:
    """The tenant runs the Action with Node: without it no login carries the claim, and the
    "with" side would measure the old path. The smoke outside CI skips the phase, saying so;
    `make bench`, and anything under CI=true, stops before starting."""
    if shutil.which("node"):
        return True
    line = "node not installed: apt-get install nodejs (macOS: brew install node)"
    if smoke and os.environ.get("CI") != "true":
        print(f"first view phase SKIPPED: {line}")
        return False
    sys.exit(f"bench: {line} (the tenant runs the post-login Action with it)")


def sign_in(base: str, name: str) -> tuple[requests.Session, str]:
    """Sign `name` in through the app's front page and the tenant's login page, up to the app's
    redirect after its callback, not followed: the session, and the page it lands on."""
    http = requests.Session()
    front = http.get(base + "/", timeout=15)
    link = re.search(r'<a[^>]*href="([^"]+)"[^>]*>\s*Log in\s*</a>', front.text)
    assert link, "no Log in link on the front page"
    login_page = http.get(urljoin(front.url, link.group(1).replace("&amp;", "&")), timeout=15)
    assert login_page.status_code == 200, login_page.text[:300]
    page = parse_login_page(login_page.text)
    button, value = page.button(f"Continue as {name}")
    response = http.post(urljoin(login_page.url, page.action), data={**page.hidden, button: value},
                         allow_redirects=False, timeout=30)  # fmt: skip
    for _ in range(10):
        assert response.status_code in (302, 303), (response.status_code, response.text[:300])
        location = urljoin(response.url, response.headers["Location"])
        if urlsplit(location).path.endswith("/account/"):
            return http, location
        response = http.get(location, allow_redirects=False, timeout=30)
    raise AssertionError("the sign-in did not land on the settings page")


def install(tenant: str, base: str, claim: str) -> None:
    """The shipped Action on the tenant, as install-action puts it there, with or without the
    identities claim (its linking secrets are set, and unused: no login here is due)."""
    on = Tenant(tenant, tenant, "dev-m2m", "dev-m2m-secret")
    given = action_secrets(
        on,
        linking_secret=secrets.token_hex(32),
        linking_url=f"{base}/account/at-login",
        identities_claim=claim,
    )
    install_action(on, secrets=given, echo=lambda _: None)


def management_calls(tenant: str) -> int:
    return requests.get(f"{tenant}/__dev/stats", timeout=5).json()["management_calls_total"]


def timed_view(http: requests.Session, url: str) -> tuple[float, float]:
    """(client ms, server ms from Server-Timing) of one view of the settings page."""
    started = time.perf_counter()
    response = http.get(url, timeout=15)
    client = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (response.status_code, response.text[:300])
    return client, float(response.headers["Server-Timing"].split("dur=")[1])


def run_side(tenant: str, base: str, users: list[str], views: int) -> dict[str, Any]:
    """`views` sign-ins, the users in turn, each followed by its first view and a cached view."""
    taken: dict[str, list[float]] = {
        k: [] for k in ("first_client", "first_server", "cached_client", "cached_server")
    }
    calls = {"sign_in": 0, "first_view": 0, "cached_view": 0}
    for i in range(views):
        before = management_calls(tenant)
        http, landing = sign_in(base, users[i % len(users)])
        signed_in = management_calls(tenant)
        client, server = timed_view(http, landing)
        viewed = management_calls(tenant)
        again_client, again_server = timed_view(http, landing)
        calls["sign_in"] += signed_in - before
        calls["first_view"] += viewed - signed_in
        calls["cached_view"] += management_calls(tenant) - viewed
        taken["first_client"].append(client)
        taken["first_server"].append(server)
        taken["cached_client"].append(again_client)
        taken["cached_server"].append(again_server)
        http.close()
    return {"views": views, "calls": calls, **taken}


def phase(
    tenant: str,
    env: dict[str, str],
    users: list[str],
    views: int,
    work: Path,
    reset: Callable[[str], None],
) -> dict[str, Any]:
    """Both sides, each on a reseeded tenant and an app of its own; the tenant is left reseeded
    (no Action bound) for the phases after it."""
    out = {}
    for side, claim in SIDES:
        reset(tenant)
        side_env = {**env, "IDENTITIES_CLAIM": claim}
        with servers.gunicorn("app:create_app()", side_env, work / f"app-first-{side}.log") as (
            base,
            _,
        ):
            install(tenant, base, claim)
            run_side(tenant, base, users, 2 * len(users))  # unmeasured: the workers warmed up
            out[side] = run_side(tenant, base, users, views)
    reset(tenant)
    return out


def percentiles(values: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": statistics.median(values), "p90": cuts[89], "p99": cuts[98]}


def new_users(calls_per_view: float, views: int) -> list[dict[str, Any]]:
    """For each plan, the distinct new users whose first view its limit serves at once (the
    burst) and then each second; None for both when no call was measured in `views` first
    views: the limit does not bound them (the sign-ins have limits of their own)."""
    rows = []
    for plan, burst, rate in PLANS:
        row: dict[str, Any] = {"plan": plan, "burst": burst, "per_second": rate}
        if calls_per_view > 0:
            row["users_at_once"] = burst / calls_per_view if burst else None
            row["users_per_second"] = rate / calls_per_view
        else:
            row["users_at_once"] = row["users_per_second"] = None
        rows.append(row)
    return rows


def summarize(raw: dict[str, Any]) -> dict[str, Any]:
    """Each side's figures: calls per sign-in, first view and cached view; the first and the
    cached view's server and client times, and their p50 ratio; the new users a second."""
    sides = {}
    for side, r in raw.items():
        views = r["views"]
        per_view = r["calls"]["first_view"] / views
        server = {
            "first": percentiles(r["first_server"]),
            "cached": percentiles(r["cached_server"]),
        }
        client = {
            "first": percentiles(r["first_client"]),
            "cached": percentiles(r["cached_client"]),
        }
        sides[side] = {
            "first_views": views,
            "management_calls": {
                "per_first_view": per_view,
                "per_sign_in": r["calls"]["sign_in"] / views,
                "per_cached_view": r["calls"]["cached_view"] / views,
            },
            "server_ms": server,
            "client_ms": client,
            "first_over_cached_p50": {
                "server": server["first"]["p50"] / server["cached"]["p50"],
                "client": client["first"]["p50"] / client["cached"]["p50"],
            },
            "new_users": new_users(per_view, views),
        }
    return sides


def targets(summary: dict[str, Any]) -> list[tuple[str, bool, str]]:
    """The phase's targets, as bench.py prints them."""
    with_, without = summary["with"], summary["without"]
    calls_with = with_["management_calls"]["per_first_view"]
    calls_without = without["management_calls"]["per_first_view"]
    ratio = with_["first_over_cached_p50"]["server"]
    return [
        ("<= 0.01 Management API calls per first view after sign-in, with the claim",
         calls_with <= 0.01, f"{calls_with:.3f}"),
        ("1.00 Management API call per first view after sign-in, without it",
         round(calls_without, 2) == 1.0, f"{calls_without:.3f}"),
        ("first view with the claim, server time p50 <= 1.5x the cached view's", ratio <= 1.5,
         f"x{ratio:.2f}"),
    ]  # fmt: skip


def report(summary: dict[str, Any]) -> None:
    views = summary["with"]["first_views"]
    print(
        f"\nfirst view after sign-in ({views} fresh sign-ins a side, each followed by its first "
        "view and a cached view of the same session):"
    )
    row = "{:<34} {:>14} {:>14} {:>16} {:>10}"
    print(row.format("", "server p50 ms", "server p99 ms", "client p50 ms", "calls"))
    for side in ("without", "with"):
        s = summary[side]
        for view, calls in (("first", "per_first_view"), ("cached", "per_cached_view")):
            print(row.format(
                f"{view} view, {side} the claim",
                f"{s['server_ms'][view]['p50']:.2f}", f"{s['server_ms'][view]['p99']:.2f}",
                f"{s['client_ms'][view]['p50']:.2f}", f"{s['management_calls'][calls]:.3f}",
            ))  # fmt: skip
    for side in ("without", "with"):
        s = summary[side]
        ratio = s["first_over_cached_p50"]
        print(
            f"{side} the claim: first / cached view p50, server x{ratio['server']:.2f}, client "
            f"x{ratio['client']:.2f}; Management API calls per sign-in "
            f"{s['management_calls']['per_sign_in']:.3f}"
        )
    print("new users a second before a first view waits for the Management API's limit:")
    for plan_with, plan_without in zip(summary["with"]["new_users"],
                                       summary["without"]["new_users"], strict=True):  # fmt: skip
        rate = plan_with["per_second"]
        limit = f"burst {plan_with['burst']}, " if plan_with["burst"] else ""
        limit += f"{rate:g}/s" if rate == int(rate) else f"{rate * 60:g}/min"
        print(f"  {plan_with['plan']} ({limit}): without the claim "
              f"{serves(plan_without, views)}; with it {serves(plan_with, views)}")  # fmt: skip


def serves(plan: dict[str, Any], views: int) -> str:
    """What a plan's limit lets through, in words."""
    if plan["users_per_second"] is None:
        return f"not bounded by it (no call in {views} first views)"
    at_once = f"{plan['users_at_once']:.0f} at once, then " if plan["users_at_once"] else ""
    return f"{at_once}{plan['users_per_second']:.1f} a second"
