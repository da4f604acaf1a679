"""No token, client secret or session id ever reaches a log line, a page or a header.

A whole visit (log in, unlink, link, log out) runs with every logger at DEBUG; every response the
browser sees is kept. The real tokens are taken where the app got them: the token endpoint's
answers (as the app's own HTTP client received them) and the server-side session store.
"""

from __future__ import annotations

import json
import logging
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from linked_accounts.storage import keys
from standalone.logs import JsonFormatter
from tests.support import tenant as t
from tests.support.app_session import stored_session
from tests.support.servers import serving
from tests.support.visitor import Visitor

CLIENT_SECRET = "dev-client-secret"


@pytest.fixture
def token_exchanges(monkeypatch):
    """Every token endpoint request and answer any requests.Session in this process makes."""
    exchanges: list[tuple[dict, dict]] = []
    send = requests.Session.send

    def recording_send(self, request, **kwargs):
        response = send(self, request, **kwargs)
        if request.url.endswith("/oauth/token") and response.ok:
            body = request.body.decode() if isinstance(request.body, bytes) else request.body
            sent = {k: v[0] for k, v in parse_qs(body or "").items()}
            exchanges.append((sent, response.json()))
        return response

    monkeypatch.setattr(requests.Session, "send", recording_send)
    return exchanges


def test_a_whole_visit_leaks_no_token_secret_or_session_id(
    make_app, tenant, token_exchanges, caplog
):
    caplog.set_level(logging.DEBUG)
    app = make_app(LINK_CONNECTIONS="github")
    seen: list[requests.Response] = []
    session_ids: set[str] = set()
    stored_tokens: set[str] = set()

    with serving(app) as base:
        visitor = Visitor(base)
        visitor.http.hooks["response"].append(lambda r, *a, **k: seen.append(r))

        def remember_session() -> None:
            sid = visitor.http.cookies.get("session")
            session_ids.add(sid)
            data = stored_session(app, sid) or {}
            if "linked_accounts" in data:
                stored_tokens.add(data["linked_accounts"]["access_token"])

        visitor.login()
        remember_session()
        assert "was unlinked" in visitor.unlink(t.ADA_GITHUB).text
        remember_session()
        assert "is now linked" in visitor.link("Link GitHub", "Grace Hopper").text
        remember_session()
        assert t.identity_keys(tenant, t.ADA)[-1] == t.GRACE
        visitor.press(visitor.get("/account/"), "Log out")

    token_answers = [answer for _, answer in token_exchanges]
    tokens = {a[k] for a in token_answers for k in ("access_token", "id_token") if k in a}
    # The one-time values of each trip: the code and PKCE verifier the app sent to the token
    # endpoint, and the state and nonce of each trip to /authorize.
    sent = [request for request, _ in token_exchanges]
    codes = {r["code"] for r in sent if "code" in r}
    verifiers = {r["code_verifier"] for r in sent if "code_verifier" in r}
    trip_values: set[str] = set()
    for response in seen:
        query = parse_qs(urlsplit(response.url).query)
        if urlsplit(response.url).path == "/authorize":
            trip_values.update(query.get("state", []) + query.get("nonce", []))
    assert codes and verifiers and trip_values
    one_time = codes | verifiers | trip_values
    assert len([a for a in token_answers if "id_token" in a]) >= 2  # login and the linked one
    assert stored_tokens and stored_tokens <= tokens  # the session store holds the real token
    session_ids.discard(None)
    assert session_ids
    secrets = tokens | {CLIENT_SECRET} | session_ids

    formatter = JsonFormatter()
    log_lines = [formatter.format(record) for record in caplog.records]
    raw_messages = [
        f"{record.getMessage()} {json.dumps(vars(record), default=str)}"
        for record in caplog.records
    ]
    assert any('"linked_accounts.access"' in line for line in log_lines)  # logs were captured
    for text in log_lines + raw_messages:
        assert "eyJ" not in text, text[:300]
        for secret in secrets:
            assert secret not in text, text[:300]
    # The app's own log lines (its server threads; the test's browser logs its URLs itself).
    app_records = [
        r for r in caplog.records if r.threadName != "MainThread" and r.name != "devtenant"
    ]
    for record in app_records:
        text = f"{record.getMessage()} {json.dumps(vars(record), default=str)}"
        for value in one_time:
            assert value not in text, (record.name, text[:300])

    app_cookies: set[str] = set()
    assert any(r.url.startswith(base) for r in seen)
    for response in seen:
        set_cookie = response.raw.headers.getlist("Set-Cookie")
        headers = "\n".join(
            f"{k}: {v}" for k, v in response.headers.items() if k.lower() != "set-cookie"
        )
        for text in (response.text, headers):
            assert "eyJ" not in text, (response.url, text[:300])
            for secret in secrets:
                assert secret not in text, response.url
            if response.url.startswith(base):  # the app never echoes a code or verifier
                for value in codes | verifiers:
                    assert value not in text, response.url
        if response.url.startswith(base) and not response.is_redirect:
            for value in trip_values:  # state and nonce go in the URL to /authorize, only
                assert value not in response.text, response.url
        if response.url.startswith(base):
            for header in set_cookie:
                app_cookies.update(SimpleCookie(header).keys())
                for token in tokens | {CLIENT_SECRET}:
                    assert token not in header
    assert app_cookies == {"session"}  # the only cookie the app sets is the session id


def test_the_kept_login_id_token_never_reaches_a_cookie_a_page_or_a_log(
    make_app, tenant, tmp_path, caplog
):
    """The login's ID token, kept server-side for a merge right after it, is the merge's
    link_with without ever leaving the server: not in a page, a header, an address, a cookie or a
    log line, on every page of the merge up to its end."""
    caplog.set_level(logging.DEBUG)
    app = make_app(
        INSTANCE_PATH=str(tmp_path),
        SUGGEST_LINKS="1",
        AUTH0_M2M_CLIENT_ID="dev-m2m",
        AUTH0_M2M_CLIENT_SECRET="dev-m2m-secret",
    )
    seen: list[requests.Response] = []
    with serving(app) as base:
        visitor = Visitor(base)
        visitor.http.hooks["response"].append(lambda r, *a, **k: seen.append(r))
        page = visitor.login("maya-patel")
        kept = (stored_session(app, visitor.http.cookies.get("session")) or {})[keys.LOGIN]
        id_token = kept["id_token"]
        assert id_token.startswith("eyJ")  # the session store holds the login's real ID token
        visitor.get("/account/api/session")
        visitor.get("/account/api/suggestions")
        assert "Is this also you?" in page.text
        confirmation = visitor.get("/account/suggestions/link", params={"candidate": t.MAYA})
        proof = visitor.press(confirmation, "Sign in and link")
        done = visitor.press(proof, "Continue as Maya Patel")  # no other sign-in: it was used
        assert "Your accounts are merged" in done.text
        assert t.identity_keys(tenant, t.MAYA) == [t.MAYA, t.MAYA_GITHUB]
        visitor.press(visitor.get("/account/"), "Log out")

    assert any(r.url.startswith(base) for r in seen)
    for response in seen:
        headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
        for text in (response.url, response.text, headers):
            assert id_token not in text, response.url
    assert id_token not in str(visitor.http.cookies.get_dict())
    records = [f"{r.getMessage()} {json.dumps(vars(r), default=str)}" for r in caplog.records]
    assert any("/account/suggestions/link" in line for line in records)  # logs were captured
    for line in records:
        assert id_token not in line, line[:300]
