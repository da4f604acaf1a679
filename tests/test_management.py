"""The Management API client over real HTTP: encoding, error mapping, timeouts, no retries."""

from __future__ import annotations

import json
import threading
import time

import pytest
from werkzeug.wrappers import Request, Response

from linked_accounts.auth0 import management as m
from linked_accounts.auth0.management import ManagementClient
from tests.support import tenant as t
from tests.support.servers import serving


class Upstream:
    """A loopback server that records raw request paths and answers what a test scripts."""

    def __init__(self):
        self.requests: list[dict] = []
        self.reply = lambda: Response("{}", 200, content_type="application/json")

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.requests.append(
            {
                "method": request.method,
                "raw_path": environ.get("REQUEST_URI") or environ.get("RAW_URI"),
                "auth": request.headers.get("Authorization"),
                "body": request.get_data(as_text=True),
            }
        )
        return self.reply()(environ, start_response)


def json_reply(status, body, headers=None):
    return lambda: Response(
        json.dumps(body), status, headers or {}, content_type="application/json"
    )


@pytest.fixture
def upstream(serve):
    server = Upstream()
    return server, m.ManagementClient(serve(server), timeout=(1, 0.5))


def test_every_path_segment_is_percent_encoded(upstream):
    server, client = upstream
    server.reply = json_reply(200, [])
    client.unlink("tok", "auth0|abc", "samlp", "acme-saml|a/b#c@acme.test")
    assert server.requests[0]["method"] == "DELETE"
    assert (
        server.requests[0]["raw_path"]
        == "/api/v2/users/auth0%7Cabc/identities/samlp/acme-saml%7Ca%2Fb%23c%40acme.test"
    )


def test_numeric_ids_are_sent_as_their_digits(upstream):
    server, client = upstream
    server.reply = json_reply(200, [])
    client.unlink("tok", "auth0|abc", "github", 1234567)
    assert server.requests[0]["raw_path"].endswith("/identities/github/1234567")


def test_the_token_goes_only_in_the_authorization_header(upstream):
    server, client = upstream
    server.reply = json_reply(200, {"user_id": "auth0|abc", "identities": []})
    client.get_user("secret-token", "auth0|abc")
    assert server.requests[0]["auth"] == "Bearer secret-token"
    assert "secret-token" not in server.requests[0]["raw_path"]


def test_link_posts_exactly_link_with(upstream):
    server, client = upstream
    server.reply = json_reply(201, [{"provider": "auth0", "user_id": "abc"}])
    assert client.link("tok", "auth0|abc", "id.token.jwt") == [
        {"provider": "auth0", "user_id": "abc"}
    ]
    assert json.loads(server.requests[0]["body"]) == {"link_with": "id.token.jwt"}


@pytest.mark.parametrize(
    ("status", "body", "error", "code"),
    [
        (
            400,
            {"statusCode": 400, "message": "Main identity cannot be removed."},
            m.BadRequest,
            None,
        ),
        (401, {"statusCode": 401, "message": "Invalid token"}, m.TokenRejected, None),
        (
            403,
            {"statusCode": 403, "message": "Insufficient scope", "errorCode": "insufficient_scope"},
            m.Forbidden,
            "insufficient_scope",
        ),
        (404, {"statusCode": 404, "message": "User not found."}, m.NotFound, None),
        (
            409,
            {"statusCode": 409, "message": "Specified identity already exists."},
            m.Conflict,
            None,
        ),
        (500, {"statusCode": 500, "message": "Internal"}, m.Unavailable, None),
        (503, "<html>Service Unavailable</html>", m.Unavailable, None),
    ],
)
def test_auth0_errors_become_typed_errors_with_status_and_message(
    upstream, status, body, error, code
):
    server, client = upstream
    server.reply = json_reply(status, body)
    with pytest.raises(error) as caught:
        client.get_user("tok", "auth0|abc")
    assert caught.value.status == status
    assert caught.value.code == code
    if isinstance(body, dict):
        assert caught.value.message == body["message"]


def test_rate_limit_carries_the_reset_time(upstream):
    server, client = upstream
    reset = int(time.time()) + 42
    server.reply = json_reply(
        429,
        {"statusCode": 429, "error": "Too Many Requests", "errorCode": "too_many_requests"},
        {"x-ratelimit-limit": "10", "x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
    )
    with pytest.raises(m.RateLimited) as caught:
        client.unlink("tok", "auth0|abc", "github", "1")
    assert caught.value.reset_at == reset
    assert caught.value.code == "too_many_requests"


def test_malformed_json_is_a_bad_response(upstream):
    server, client = upstream
    server.reply = lambda: Response('{"identities": [', 200, content_type="application/json")
    with pytest.raises(m.BadResponse):
        client.get_user("tok", "auth0|abc")


def test_identities_that_are_not_an_array_are_a_bad_response(upstream):
    server, client = upstream
    server.reply = json_reply(200, {"not": "a list"})
    with pytest.raises(m.BadResponse):
        client.unlink("tok", "auth0|abc", "github", "1")


def test_a_slow_answer_times_out_and_a_write_is_not_retried(upstream):
    server, client = upstream
    release = threading.Event()

    def slow():
        release.wait(3)
        return Response("[]", 200, content_type="application/json")

    server.reply = slow
    started = time.monotonic()
    with pytest.raises(m.Timeout):
        client.unlink("tok", "auth0|abc", "github", "1")
    assert time.monotonic() - started < 2.5
    release.set()
    time.sleep(0.1)
    assert [r["method"] for r in server.requests] == ["DELETE"]


def test_refused_connection_is_connection_failed():
    with serving(Upstream()) as url:
        pass  # the server is gone: its port now refuses connections
    with pytest.raises(m.ConnectionFailed):
        m.ManagementClient(url, timeout=(1, 1)).get_user("tok", "auth0|abc")


def test_one_pooled_session_reuses_its_connection(upstream):
    server, client = upstream
    server.reply = json_reply(200, {"identities": []})
    client.get_user("tok", "auth0|abc")
    client.get_user("tok", "auth0|abc")
    pool = next(iter(client.http.adapters["http://"].poolmanager.pools._container.values()))
    assert pool.num_connections == 1


@pytest.mark.parametrize("segment", [".", ".."])
def test_a_dot_segment_is_refused_before_any_call_to_auth0(tenant, segment):
    client = ManagementClient(tenant)
    calls = t.stats(tenant)["management_calls_total"]
    with pytest.raises(m.BadRequest):
        client.unlink("token", t.ADA, "github", segment)
    with pytest.raises(m.BadRequest):
        client.get_user("token", segment)
    assert t.stats(tenant)["management_calls_total"] == calls
