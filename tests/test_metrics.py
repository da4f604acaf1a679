"""Metrics: off unless enabled, behind a token, counting real flows against the development tenant,
and never a user id, email or token in a label (whatever a caller passes)."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from flask import Flask
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from linked_accounts import metrics
from linked_accounts.auth0 import management
from linked_accounts.refusals import from_auth0
from scripts.bench_servers import running
from tests.support import tenant as t
from tests.support.servers import free_port, wait_for
from tests.support.visitor import Visitor
from tests.test_single_flight import concurrent_views

ROOT = Path(__file__).resolve().parent.parent
DEPLOYING = ROOT / "docs" / "deploying.md"

TOKEN = "m" * 40
AUTH = {"Authorization": f"Bearer {TOKEN}"}
# What a label must never hold: user ids, identity ids, emails, names, token shapes.
SECRETS = ("6500a1b2c3d4e5f6", "1234567", "109876543210987654321", "ada@", "acme", "Ada", "eyJ")
UNLINK = "DELETE /api/v2/users/{id}/identities/{provider}/{user_id}"
GET_USER = "GET /api/v2/users/{id}"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, keyed by (name, sorted labels)."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def delta(before: dict, after: dict, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


def scrape(base: str) -> str:
    response = requests.get(base + "/metrics", headers=AUTH, timeout=5)
    assert response.status_code == 200, response.text[:300]
    assert response.headers["Content-Type"].startswith("text/plain")
    return response.text


@pytest.fixture
def metered(make_app, serve):
    return serve(make_app(METRICS="1", METRICS_TOKEN=TOKEN))


def test_no_metrics_endpoint_and_nothing_counted_unless_enabled(make_app, serve):
    registry = CollectorRegistry()
    metrics.register(registry)
    before = samples(generate_latest(registry).decode())
    base = serve(make_app(METRICS_TOKEN=TOKEN))
    Visitor(base).login()
    assert requests.get(base + "/metrics", headers=AUTH, timeout=5).status_code == 404
    after = samples(generate_latest(registry).decode())
    assert before == after


@pytest.mark.parametrize("token", [None, "short"])
def test_enabling_metrics_without_a_long_token_stops_with_a_clear_message(make_app, token):
    overrides = {"METRICS": "1", **({"METRICS_TOKEN": token} if token else {})}
    with pytest.raises(SystemExit, match="METRICS=1 needs METRICS_TOKEN"):
        make_app(**overrides)


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer "]
)
def test_a_scrape_without_the_right_bearer_token_gets_a_bare_401(metered, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = requests.get(metered + "/metrics", headers=headers, timeout=5)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "linked_accounts" not in response.text
    assert "Set-Cookie" not in response.headers


def test_views_an_unlink_and_a_refusal_are_counted_by_kind_and_result(metered, tenant):
    # A bucket of 10 that refills only after the test: each call spends one, visibly.
    config = {"rate_burst": 10, "rate_per_second": 1 / 600}
    requests.post(f"{tenant}/__dev/config", json=config, timeout=5).raise_for_status()
    before = samples(scrape(metered))
    ada = Visitor(metered)
    ada.login()  # trip "login"; the landing page reads the list from Auth0
    assert ada.get("/account/").status_code == 200  # from the cache
    assert "was unlinked" in ada.unlink(t.ADA_GITHUB).text  # fresh login: no trip
    page = ada.post("/account/unlink", {"identity": t.ADA_GITHUB, "csrf_token": ada.csrf_token()})
    assert "already unlinked" in page.text
    text = scrape(metered)
    after = samples(text)

    assert delta(before, after, "linked_accounts_trips_started_total", purpose="login") == 1
    assert delta(before, after, "linked_accounts_trips_finished_total", purpose="login") == 1
    assert delta(before, after, "linked_accounts_page_views_total", kind="auth0") == 1
    # The second view, the landings after the unlink and the refusal, csrf_token()'s page.
    assert delta(before, after, "linked_accounts_page_views_total", kind="cached") == 4
    assert delta(before, after, "linked_accounts_identities_cache_total", result="miss") == 1
    assert delta(before, after, "linked_accounts_identities_cache_total", result="hit") >= 4
    done = delta(before, after, "linked_accounts_changes_total", action="unlink", result="done")
    assert done == 1
    refused = {"action": "unlink", "result": "identity_not_found"}
    assert delta(before, after, "linked_accounts_changes_total", **refused) == 1
    assert delta(before, after, "linked_accounts_refusals_total", code="identity_not_found") == 1
    calls = {"endpoint": UNLINK, "status": "200"}
    assert delta(before, after, "linked_accounts_auth0_requests_total", **calls) == 1
    assert delta(before, after, "linked_accounts_auth0_requests_total", endpoint=GET_USER,
                 status="200") == 1  # fmt: skip
    latency = "linked_accounts_auth0_request_duration_seconds_count"
    assert delta(before, after, latency, endpoint=GET_USER) == 1
    # Two calls of the tenant's 10 spent: the tenant said so, and the gauge shows it.
    remaining = after[("linked_accounts_auth0_ratelimit_remaining", (("endpoint", UNLINK),))]
    assert remaining == 8
    assert not [s for s in SECRETS if s in text]


def test_a_429_is_counted_with_its_endpoint_and_refusal(make_app, serve, tenant):
    base = serve(make_app(METRICS="1", METRICS_TOKEN=TOKEN, IDENTITIES_CACHE_SECONDS="0"))
    ada = Visitor(base)
    ada.login()
    before = samples(scrape(base))
    t.fault(tenant, "get_user", status=429, headers={"x-ratelimit-remaining": "0"}, times=1)
    assert ada.get("/account/").status_code == 429
    after = samples(scrape(base))
    assert delta(before, after, "linked_accounts_page_views_total", kind="auth0") == 0
    assert delta(before, after, "linked_accounts_auth0_rate_limited_total", endpoint=GET_USER) == 1
    calls = {"endpoint": GET_USER, "status": "429"}
    assert delta(before, after, "linked_accounts_auth0_requests_total", **calls) == 1
    assert delta(before, after, "linked_accounts_refusals_total", code="rate_limited") == 1
    assert after[("linked_accounts_auth0_ratelimit_remaining", (("endpoint", GET_USER),))] == 0


def test_single_flight_waits_and_api_listings_are_counted(make_app, serve, tenant):
    base = serve(make_app(METRICS="1", METRICS_TOKEN=TOKEN, IDENTITIES_CACHE_SECONDS="0"))
    ada = Visitor(base)
    ada.login()  # a list is cached, and always expired
    before = samples(scrape(base))
    t.fault(tenant, "get_user", delay=0.5, times=1)  # one view re-reads, slowly
    assert [page.status_code for page in concurrent_views(ada, 4)] == [200] * 4
    assert ada.get("/account/api/identities").status_code == 200
    after = samples(scrape(base))
    assert delta(before, after, "linked_accounts_single_flight_waits_total") == 3
    assert delta(before, after, "linked_accounts_page_views_total", kind="cached") == 3
    assert delta(before, after, "linked_accounts_page_views_total", kind="auth0") == 2
    assert delta(before, after, "linked_accounts_identities_cache_total", result="miss") == 5


# Label hygiene, without a server: whatever a caller passes, a label holds a value from a fixed set.

HOSTILE = [
    "auth0|6500a1b2c3d4e5f600000001",
    "samlp|acme-saml|ada@acme.test",
    "ada@example.com",
    "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhdXRoMHwxIn0.c2ln",
    'x"} 1\nlinked_accounts_injected{a="',
]


@pytest.mark.parametrize(
    ("method", "url", "template"),
    [
        ("GET", "https://t.example/api/v2/users/auth0%7C6500a1b2?fields=identities", GET_USER),
        ("get", "https://t.example/api/v2/users/ada%40example.com", GET_USER),
        ("POST", "https://t.example/api/v2/users/auth0%7C1/identities",
         "POST /api/v2/users/{id}/identities"),
        ("DELETE", "https://t.example/api/v2/users/auth0%7C1/identities/samlp/acme-saml%7Cada%40a.test",
         UNLINK),
        ("DELETE", "https://t.example/api/v2/users/github%7C1234567", "DELETE /api/v2/users/{id}"),
        ("GET", "https://t.example/api/v2/users-by-email?email=ada%40example.com",
         "GET /api/v2/users-by-email"),
        ("GET", "https://t.example/api/v2/connections?fields=name%2Cdisplay_name&page=2",
         "GET /api/v2/connections"),
        ("POST", "https://t.example/oauth/token", "POST /oauth/token"),
        ("GET", "https://t.example/api/v2/connections/con_1", "GET other"),
        ("GET", "https://t.example/api/v2/users/a/b/c/d/e/f", "GET other"),
        ("GET", "https://t.example/ada@example.com", "GET other"),
        ("PUT /api/v2/users/auth0|1", "https://t.example/x", "other other"),
    ],
)  # fmt: skip
def test_an_endpoint_is_named_by_its_template_never_by_its_ids(method, url, template):
    assert metrics.endpoint_template(method, url) == template


def test_no_hostile_value_reaches_a_label():
    app = Flask(__name__)
    app.config[metrics.CONFIG_KEY] = "1"
    http = requests.Session()
    metrics.init_app(app, http)
    registry = CollectorRegistry()
    metrics.register(registry)
    with app.test_request_context("/account/unlink", method="POST"):
        for value in HOSTILE:
            metrics.attempt(value)
            metrics.refused(type("Refusal", (Exception,), {"code": value})())
            answer = requests.Response()
            answer.status_code = 200
            answer.headers["x-ratelimit-remaining"] = "7"
            answer.request = requests.Request("GET", f"https://t.example/api/v2/{value}").prepare()
            answer.elapsed = timedelta(seconds=0.1)
            for hook in http.hooks["response"]:
                hook(answer)
    text = generate_latest(registry).decode()
    labels = {v for (_, pairs) in samples(text) for _, v in pairs}
    for part in ("6500a1b2", "acme", "@", "eyJ", "injected", "|"):
        assert not [v for v in labels if part in v], part
    assert 'linked_accounts_refusals_total{code="other"}' in text
    assert 'linked_accounts_changes_total{action="other",result="other"}' in text
    assert 'endpoint="GET other"' in text
    assert "linked_accounts_injected" not in text


def test_a_host_registers_the_same_collectors_on_its_own_registry():
    registry = CollectorRegistry()
    metrics.register(registry)
    names = {family.name for family in registry.collect()}
    assert {
        "linked_accounts_page_views",
        "linked_accounts_changes",
        "linked_accounts_refusals",
        "linked_accounts_auth0_requests",
        "linked_accounts_auth0_request_duration_seconds",
        "linked_accounts_auth0_rate_limited",
        "linked_accounts_auth0_ratelimit_remaining",
        "linked_accounts_identities_cache",
        "linked_accounts_single_flight_waits",
        "linked_accounts_trips_started",
        "linked_accounts_trips_finished",
    } <= names


# Present from start-up: a fresh process's first scrape, before anything was counted.


def fresh_env(tenant: str, redis_url: str) -> dict[str, str]:
    """The standalone app's environment for a process of its own, with metrics on."""
    return {
        "DEV_AUTH0_DOMAIN": tenant,
        "DEV_TENANT": "1",
        "APP_SECRET_KEY": "s" * 40,
        "METRICS": "1",
        "METRICS_TOKEN": TOKEN,
        "REDIS_URL": redis_url,
    }


@contextmanager
def one_process(env: dict[str, str], log: Path) -> Iterator[str]:
    """Serve the standalone app from a fresh interpreter, one process (Flask's own server, no
    PROMETHEUS_MULTIPROC_DIR): nothing any other test counted is in it. Yield its base URL."""
    port = free_port()
    env = {**os.environ, **env}
    for name in ("PROMETHEUS_MULTIPROC_DIR", "AUTH0_DOMAIN"):
        env.pop(name, None)
    args = [sys.executable, "-m", "flask", "--app", "app:create_app()", "run",
            "--host", "127.0.0.1", "--port", str(port), "--no-reload", "--no-debugger"]  # fmt: skip
    with running(args, env=env, log=log) as process:
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/healthz", process)
        yield base


@pytest.fixture(scope="module")
def first_scrape(tenant_server, redis_server, tmp_path_factory) -> str:
    """The first scrape of a fresh single-process app (only the start-up wait's /healthz came
    before it)."""
    log = tmp_path_factory.mktemp("one-process") / "log"
    with one_process(fresh_env(tenant_server, redis_server), log) as base:
        return scrape(base)


def table() -> dict[str, dict[str, list[str]]]:
    """The metric table of docs/deploying.md: each metric's full name, with the values listed
    for each label written `label` = `a` / `b` (the values present from start-up)."""
    rows = re.findall(r"^\| (`linked_accounts_[^|]+)\|([^|]*)\|.*\|$", DEPLOYING.read_text(), re.M)
    documented = {}
    for names, labels in rows:
        listed = {
            label: re.findall(r"`([^`]+)`", values)
            for label, values in re.findall(r"`(\w+)` = (`[^`]+`(?: / `[^`]+`)*)", labels)
        }
        for name in re.findall(r"`(linked_accounts_\w+)`", names):
            documented[name] = listed
    return documented


def documented_endpoints() -> list[str]:
    listing = DEPLOYING.read_text().partition("The endpoint templates:")[2].partition(";")[0]
    return re.findall(r"`([^`]+)`", listing)


def served(text: str) -> dict[str, list]:
    """Every metric a scrape serves, by the name the table gives it (a counter's with _total)."""
    return {
        family.name + ("_total" if family.type == "counter" else ""): family.samples
        for family in text_string_to_metric_families(text)
    }


def not_at_zero(got: dict) -> list:
    """The series of a fixed label set that a scrape's `got` does not have at 0 (a histogram's
    by its count)."""
    wrong = []
    for collector, label_sets in metrics._FROM_START:
        (family,) = collector.collect()
        name = family.name + ("_total" if family.type == "counter" else "_count")
        for values in label_sets:
            key = (name, tuple(sorted(zip(collector._labelnames, values, strict=True))))
            if got.get(key) != 0:
                wrong.append(key)
    return wrong


def test_every_counter_is_served_at_zero_from_start_up(first_scrape):
    got = samples(first_scrape)
    assert not_at_zero(got) == []
    # The rate limit an alert watches, before the first 429: a series at 0, not none.
    assert got[("linked_accounts_refusals_total", (("code", "rate_limited"),))] == 0
    calls = (("endpoint", GET_USER), ("status", "429"))
    assert got[("linked_accounts_auth0_requests_total", calls)] == 0
    assert got[("linked_accounts_auth0_rate_limited_total", (("endpoint", GET_USER),))] == 0
    assert got[("linked_accounts_trips_started_total", (("purpose", "merge"),))] == 0
    merge = {"action": "merge", "result": "done"}
    assert got[("linked_accounts_changes_total", tuple(sorted(merge.items())))] == 0
    assert got[("linked_accounts_suggestions_shown_total", ())] == 0
    assert got[("linked_accounts_single_flight_waits_total", ())] == 0
    # No reading of Auth0's budget before Auth0 said one: a 0 would set off the alert on it.
    assert not served(first_scrape)["linked_accounts_auth0_ratelimit_remaining"]


def test_the_build_info_is_one_series_at_1_naming_the_version(first_scrape):
    (build,) = served(first_scrape)["linked_accounts_build_info"]
    assert build.value == 1
    assert build.labels["version"] == metrics.metadata.version("linked-accounts")
    assert re.fullmatch(r"3\.\d+\.\d+", build.labels["python"])


def test_no_created_series_is_served(first_scrape):
    names = {s.name for samples_ in served(first_scrape).values() for s in samples_}
    assert names and not [n for n in names if n.endswith("_created")]
    assert "_created" not in first_scrape


def test_the_metric_table_is_what_metrics_serves(first_scrape):
    documented, got = table(), served(first_scrape)
    assert sorted(documented) == sorted(got)  # every row served, nothing served left out
    for name, listed in documented.items():
        for label, values in listed.items():
            present = {sample.labels[label] for sample in got[name]}
            assert sorted(values) == sorted(present), (name, label)
    endpoints = {s.labels["endpoint"] for s in got["linked_accounts_auth0_rate_limited_total"]}
    assert sorted(documented_endpoints()) == sorted(endpoints) == sorted(metrics.ENDPOINTS)


def test_the_known_label_values_are_the_ones_the_code_uses():
    from linked_accounts.suggestions import dismissals, merging

    assert metrics.DISMISS_REASONS == dismissals.REASONS
    assert sorted(metrics.MERGE_REASONS) == sorted(reason.value for reason in merging.Reason)
    for endpoint in metrics.ENDPOINTS:
        method, path = endpoint.split(" ")
        url = "https://t.example" + path.format(id="auth0%7C1", provider="github", user_id="9")
        assert metrics.endpoint_template(method, url) == endpoint
    # Every failure of Auth0 a refusal names is watched from start-up.
    failures = [e(status=500) for e in vars(management).values()
                if isinstance(e, type) and issubclass(e, management.ManagementError)]  # fmt: skip
    codes = {from_auth0(error).code for error in failures} - {"login_required", "conflict"}
    codes -= {"auth0_bad_request", "auth0_not_found"}  # what the person asked for, not Auth0
    assert codes <= set(metrics.WATCHED_REFUSALS), codes - set(metrics.WATCHED_REFUSALS)


# The app's own requests.


def test_requests_are_counted_by_route_template_method_and_status(metered):
    before = samples(scrape(metered))
    ok = requests.get(metered + "/account/la-static/linked-accounts.css", timeout=5)
    assert ok.status_code == 200
    assert requests.get(metered + "/static/ada@example.com", timeout=5).status_code == 404
    assert requests.get(metered + "/users/auth0%7C6500a1b2c3d4e5f6", timeout=5).status_code == 404
    assert requests.request("BREW", metered + "/account/", timeout=5).status_code == 405
    text = scrape(metered)
    after = samples(text)

    name = "linked_accounts_http_requests_total"
    css = {"route": "/account/la-static/<path:filename>", "method": "GET"}
    assert delta(before, after, name, **css, status="200") == 1
    static = {"route": "/static/<path:filename>", "method": "GET", "status": "404"}
    assert delta(before, after, name, **static) == 1
    assert delta(before, after, name, route="unmatched", method="GET", status="404") == 1
    assert delta(before, after, name, route="unmatched", method="other", status="405") == 1
    assert delta(before, after, name, route="/metrics", method="GET", status="200") == 1
    latency = "linked_accounts_http_request_duration_seconds_count"
    assert delta(before, after, latency, **css) == 1
    assert delta(before, after, latency, route="/metrics", method="GET") == 1
    routes = {v for (_, pairs) in after for k, v in pairs if k == "route"}
    assert not [r for r in routes if "@" in r or "6500a1b2" in r or "BREW" in r]
    assert "BREW" not in text and not [s for s in SECRETS if s in text]


def test_a_page_answered_with_a_429_is_counted_by_its_route(make_app, serve, tenant):
    base = serve(make_app(METRICS="1", METRICS_TOKEN=TOKEN, IDENTITIES_CACHE_SECONDS="0"))
    ada = Visitor(base)
    ada.login()
    before = samples(scrape(base))
    t.fault(tenant, "get_user", status=429, headers={"x-ratelimit-remaining": "0"}, times=1)
    assert ada.get("/account/").status_code == 429
    after = samples(scrape(base))
    page = {"route": "/account/", "method": "GET"}
    name = "linked_accounts_http_requests_total"
    assert delta(before, after, name, **page, status="429") == 1
    assert delta(before, after, name, **page, status="200") == 0
    latency = "linked_accounts_http_request_duration_seconds_count"
    assert delta(before, after, latency, **page) == 1
