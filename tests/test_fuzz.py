"""Arbitrary text in every form field and URL parameter: never a 500, and never a Management API
write the user did not confirm for an identity they own (read from the tenant's own state).

Examples: 6 properties x 100 = 600 per run (GET /account/unlink?identity=, POST /account/unlink
identity with a valid CSRF token, POST /account/unlink csrf_token, POST /account/link
connection, GET /account/login?next=, GET /account/callback?state=&code=&error=).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import tenant as t
from tests.support.app_session import app_session, client_for
from tests.support.visitor import Visitor

EXAMPLES = 100
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
ADA_SECONDARIES = [t.ADA_GOOGLE, t.ADA_GITHUB, t.ADA_SAML]
# Near misses of real keys, and the real keys themselves (to be unlinked only when named).
TRICKY = [
    *ADA_SECONDARIES,
    t.ADA,
    "github|7654321",
    "github|1234567 ",
    " github|1234567",
    "GITHUB|1234567",
    "github%7C1234567",
    "github|1234567\x00",
    "github|1234567/../../",
    "samlp|acme-saml",
    "samlp|acme-saml|ada@acme.test#",
    "auth0|6500a1b2c3d4e5f600000002",
    "|",
    "",
]
text = st.one_of(st.text(max_size=300), st.sampled_from(TRICKY))


def identity_map(tenant: str) -> dict[str, list[str]]:
    """Every user's identity keys, as the tenant stores them."""
    users = requests.get(f"{tenant}/__dev/users", timeout=5).json()
    return {
        u["user_id"]: [f"{i['provider']}|{i['user_id']}" for i in u["identities"]] for u in users
    }


SEED_MAP: dict[str, list[str]] = {}


@pytest.fixture
def ada(make_app, serve, tenant):
    """Ada signed in (over real HTTP) and her session in a fast Flask test client."""
    requests.post(
        f"{tenant}/__dev/config", json={"rate_burst": 10000}, timeout=5
    ).raise_for_status()
    app = make_app(LINK_CONNECTIONS="github")
    visitor = Visitor(serve(app))
    visitor.login("Ada Lovelace")
    csrf = visitor.csrf_token()
    seed = identity_map(tenant)
    return app, visitor, client_for(app, visitor), csrf, seed


def restore(tenant: str, app, visitor) -> None:
    """After a real unlink: reseed the tenant, and drop the session's cached identities."""
    requests.post(f"{tenant}/__dev/reset", timeout=5).raise_for_status()
    requests.post(
        f"{tenant}/__dev/config", json={"rate_burst": 10000}, timeout=5
    ).raise_for_status()
    with app_session(app, visitor) as session:
        session.pop("linked_accounts.identities", None)


def assert_only_confirmed_change(tenant: str, seed: dict, submitted: str | None) -> bool:
    """The identities are as seeded, except an owned secondary whose key was submitted."""
    now = identity_map(tenant)
    if submitted in ADA_SECONDARIES and submitted not in now[t.ADA]:
        expected = {**seed, t.ADA: [k for k in seed[t.ADA] if k != submitted]}
        expected[submitted] = [submitted]
        assert now == expected
        return True
    assert now == seed
    return False


@pytest.fixture
def anon_app(make_app):
    """One app for every example; each example brings its own (empty) session."""
    return make_app()


def assert_answered(response) -> None:
    assert response.status_code < 500, response.status_code
    assert b"Traceback" not in response.data


@FUZZ
@given(identity=text)
def test_confirm_page_with_any_identity(ada, tenant, identity):
    app, visitor, client, csrf, seed = ada
    response = client.get("/account/unlink", query_string={"identity": identity})
    assert_answered(response)
    assert response.status_code in (200, 303, 400)
    if response.status_code == 200:
        assert identity in ADA_SECONDARIES  # a confirmation only for a real secondary
    assert_only_confirmed_change(tenant, seed, None)


@FUZZ
@given(identity=text)
def test_unlink_with_any_identity_and_a_valid_csrf_token(ada, tenant, identity):
    app, visitor, client, csrf, seed = ada
    response = client.post("/account/unlink", data={"identity": identity, "csrf_token": csrf})
    assert_answered(response)
    if assert_only_confirmed_change(tenant, seed, identity):
        restore(tenant, app, visitor)


@FUZZ
@given(identity=st.sampled_from(ADA_SECONDARIES), token=text)
def test_unlink_with_any_csrf_token_is_refused(ada, tenant, identity, token):
    app, visitor, client, csrf, seed = ada
    response = client.post("/account/unlink", data={"identity": identity, "csrf_token": token})
    assert_answered(response)
    assert response.status_code == 400
    assert_only_confirmed_change(tenant, seed, None)


@FUZZ
@given(connection=st.one_of(text, st.sampled_from(["github", "google-oauth2", "facebook"])))
def test_link_with_any_connection(ada, tenant, connection):
    app, visitor, client, csrf, seed = ada
    data = {"connection": connection, "csrf_token": csrf}
    asked = client.post("/account/link", data=data)
    assert_answered(asked)
    # The confirmation is a page of its own (reloadable): the POST answers 303 to it.
    assert asked.status_code == 303
    confirmation = client.get(asked.headers["Location"])
    assert_answered(confirmation)
    response = client.post("/account/link", data={**data, "confirmed": "1"})
    assert_answered(response)
    if connection in ("", "github"):
        # Only the offered connections (or Auth0's chooser) are confirmed and start a trip;
        # nothing is written.
        assert confirmation.status_code == 200 and b"Sign in and link" in confirmation.data
        assert response.status_code == 302
        assert response.headers["Location"].startswith(tenant + "/authorize")
    else:
        assert confirmation.status_code == 400
        # A refused form post ends on a page of its own, with the refusal's status.
        assert response.status_code == 303
        assert urlsplit(response.headers["Location"]).path == "/account/refused"
        assert client.get(response.headers["Location"]).status_code == 400
    assert_only_confirmed_change(tenant, seed, None)


@FUZZ
@given(target=st.one_of(text, st.sampled_from(["//evil.test", "/\\evil.test", "https://e.test"])))
def test_login_with_any_next(anon_app, tenant, target):
    client = anon_app.test_client()
    response = client.get("/account/login", query_string={"next": target})
    assert_answered(response)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(tenant + "/authorize")
    with client.session_transaction() as session:
        flows = session.get("linked_accounts.flows") or {}
    for flow in flows.values():
        kept = flow.get("next")
        # Only a path on this site is kept to return to; never another origin.
        assert kept is None or (kept.startswith("/") and not urlsplit(kept).netloc)


@FUZZ
@given(state=text, code=text, error=text, real_state=st.booleans())
def test_callback_with_any_state_code_and_error(anon_app, tenant, state, code, error, real_state):
    client = anon_app.test_client()
    seed = identity_map(tenant)
    started = client.get("/account/login")
    if real_state:
        query = urlsplit(started.headers["Location"]).query
        state = dict(p.split("=", 1) for p in query.split("&"))["state"]
    params = {"state": state, "code": code}
    if error:
        params["error"] = error
    response = client.get("/account/callback", query_string=params)
    assert_answered(response)
    # Never a page at the one-use callback address: the reason is shown at an address of its own.
    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == "/account/signin/failed"
    failed = client.get(response.headers["Location"])
    assert_answered(failed)
    assert failed.status_code in (400, 502)  # nobody signed in from made-up answers
    assert client.get("/account/").status_code == 302
    assert identity_map(tenant) == seed
