"""Metrics: off unless enabled, behind a token, counting real flows against the development tenant,
and never a user id, email or token in a label (whatever a caller passes)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from flask import Flask
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from linked_accounts import metrics
from tests.support import tenant as t
from tests.support.visitor import Visitor
from tests.test_single_flight import concurrent_views

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
        ("POST", "https://t.example/oauth/token", "POST /oauth/token"),
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
