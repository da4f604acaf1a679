"""The Management API client slows down before Auth0's rate limit instead of running into it, and
never holds a worker asleep for it: after an answer with `x-ratelimit-remaining: 0`, a call of
that endpoint group waits at most a fraction of a second for its next call to be due, and is
refused at once without calling otherwise. Each group (reading users, writing users,
users-by-email, the rest) is a bucket of its own, as on Auth0's paid plans.

The first tests drive the client over a scripted HTTP session, with a fake clock and a recorded
sleep; the last ones run against the development tenant."""

from __future__ import annotations

import json
import time

import pytest
import requests

from linked_accounts.auth0 import management as m
from linked_accounts.auth0.m2m import ClientCredentials
from tests.support import tenant as t
from tests.support.tenant_login import login

NOW = 1_000_000.0
FAR = {"x-ratelimit-limit": "1", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "1000060"}
PLENTY = {"x-ratelimit-limit": "10", "x-ratelimit-remaining": "9", "x-ratelimit-reset": "1000001"}
IDENTITIES = [{"provider": "auth0", "user_id": "abc", "connection": "Username-Password"}]


class Clock:
    """A fake time.time and time.sleep: sleeping moves the clock, and is recorded."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Scripted:
    """A requests.Session stand-in: records each request, answers with the headers it is given
    (200 and a body that fits the call, unless a status is scripted)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.headers: dict[str, str] = {}
        self.status = 200

    def request(self, method: str, url: str, **kwargs) -> requests.Response:
        self.sent.append((method, url))
        response = requests.Response()
        response.status_code = self.status
        if self.status == 429:
            body: object = {"statusCode": 429, "errorCode": "too_many_requests"}
        elif url.endswith("/oauth/token"):
            body = {"access_token": "m2m", "expires_in": 0}
        elif "users-by-email" in url:
            body = []
        elif url.endswith("/identities") or "/identities/" in url:
            body = IDENTITIES
        else:
            body = {"user_id": "auth0|abc"}
        response._content = json.dumps(body).encode()
        response.headers.update(self.headers)
        return response


class Sleeps(list):
    """time.sleep, recorded: against the tenant, a wait must still be one."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        time.sleep(seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def scripted(clock) -> tuple[m.ManagementClient, Scripted]:
    http = Scripted()
    pacer = m.Pacer(clock=clock.time, sleep=clock.sleep)
    return m.ManagementClient("https://tenant.test", session=http, pacer=pacer), http  # type: ignore[arg-type]


CALLS = {
    "get_user": lambda c: c.get_user("tok", "auth0|abc"),
    "users_by_email": lambda c: c.users_by_email("tok", "ada@example.com", "user_id"),
    "update_user_metadata": lambda c: c.update_user_metadata("tok", "auth0|abc", {"k": 1}),
    "unlink": lambda c: c.unlink("tok", "auth0|abc", "github", "1234567"),
    "link": lambda c: c.link("tok", "auth0|abc", "id-token"),
    "delete_user": lambda c: c.delete_user("tok", "auth0|abc"),
}
GROUP_OF = {
    "get_user": m.USERS_READ,
    "users_by_email": m.USERS_BY_EMAIL,
    "update_user_metadata": m.USERS_WRITE,
    "unlink": m.USERS_WRITE,
    "link": m.USERS_WRITE,
    "delete_user": m.USERS_WRITE,
}


@pytest.mark.parametrize(
    ("method", "path", "group"),
    [
        ("GET", ("users", "auth0|abc"), m.USERS_READ),
        ("PATCH", ("users", "auth0|abc"), m.USERS_WRITE),
        ("DELETE", ("users", "auth0|abc"), m.USERS_WRITE),
        ("POST", ("users", "auth0|abc", "identities"), m.USERS_WRITE),
        ("DELETE", ("users", "auth0|abc", "identities", "github", "1"), m.USERS_WRITE),
        ("GET", ("users-by-email",), m.USERS_BY_EMAIL),
        ("GET", ("clients",), m.OTHER),
        ("GET", ("users",), m.OTHER),  # searching users: not a call of the client, nor its group
    ],
)
def test_each_call_is_paced_in_auth0s_endpoint_group(method, path, group):
    assert m.endpoint_group(method, path) == group


@pytest.mark.parametrize("emptied", sorted(set(GROUP_OF.values())))
def test_an_empty_bucket_holds_back_only_its_own_groups_calls(scripted, clock, emptied):
    client, http = scripted
    first = next(name for name, group in GROUP_OF.items() if group == emptied)
    http.headers = FAR  # this answer leaves the group's bucket empty for a minute
    CALLS[first](client)
    http.headers = PLENTY
    for name, call in CALLS.items():
        sent = len(http.sent)
        if GROUP_OF[name] == emptied:
            with pytest.raises(m.RateLimited) as refused:
                call(client)
            assert refused.value.reset_at == 1_000_060  # the page's "try again at"
            assert len(http.sent) == sent, name  # refused without calling
        else:
            call(client)
            assert len(http.sent) == sent + 1, name
    assert clock.slept == []  # nobody waited: the others went, the group's calls were refused


def test_the_client_credentials_token_is_never_paced():
    """/oauth/token is the Authentication API: no Management API bucket holds it back, and its
    answers fill none (on the real clock: a pacer the token call reached would hold it)."""
    http = Scripted()
    http.headers = {**FAR, "x-ratelimit-reset": str(int(time.time()) + 60)}
    slept = Sleeps()
    client = m.ManagementClient("https://tenant.test", session=http, pacer=m.Pacer(sleep=slept))  # type: ignore[arg-type]
    for name in ("get_user", "users_by_email", "unlink"):  # each group spent: none left in it
        CALLS[name](client)
    tokens = ClientCredentials(
        "https://tenant.test/oauth/token", "id", "secret", "https://tenant.test/api/v2/",
        http=http, timeout=(1, 1),  # type: ignore[arg-type]
    )  # fmt: skip
    assert tokens.token() == "m2m" and tokens.token() == "m2m"  # expires at once: fetched twice
    assert [url for _, url in http.sent].count("https://tenant.test/oauth/token") == 2
    assert slept == []


def test_a_call_due_later_than_the_cap_is_refused_at_once(scripted, clock):
    client, http = scripted
    # Two seconds to the reset, for a bucket of one: the old pacer slept through that.
    http.headers = {**FAR, "x-ratelimit-reset": str(int(NOW) + 2)}
    client.get_user("tok", "auth0|abc")
    with pytest.raises(m.RateLimited) as refused:
        client.get_user("tok", "auth0|abc")
    assert refused.value.reset_at == int(NOW) + 2
    assert len(http.sent) == 1
    assert clock.slept == []


def test_a_call_due_within_the_cap_waits_at_most_the_cap(scripted, clock):
    client, http = scripted
    http.headers = {**FAR, "x-ratelimit-reset": str(int(NOW) + 1)}
    clock.now = NOW + 0.9  # the answer came 0.1 s before the bucket's reset
    client.get_user("tok", "auth0|abc")
    client.get_user("tok", "auth0|abc")
    assert len(http.sent) == 2
    assert clock.slept == [pytest.approx(0.1)]
    assert all(wait <= m.PACING_MAX_WAIT for wait in clock.slept)


def test_a_big_bucket_has_its_next_call_due_long_before_it_is_full_again(scripted, clock):
    """A token bucket refills evenly: 50 calls in the 3 s to the reset is one every 0.06 s, so
    the next call waits that long and goes, rather than being refused for 3 s."""
    client, http = scripted
    http.headers = {"x-ratelimit-limit": "50", "x-ratelimit-remaining": "0",
                    "x-ratelimit-reset": str(int(NOW) + 3)}  # fmt: skip
    client.get_user("tok", "auth0|abc")
    client.get_user("tok", "auth0|abc")
    assert len(http.sent) == 2
    assert clock.slept == [pytest.approx(0.06)]


def test_a_retry_after_is_the_least_a_group_is_held(scripted, clock):
    client, http = scripted
    http.status = 429
    http.headers = {"x-ratelimit-limit": "50", "x-ratelimit-remaining": "0",
                    "x-ratelimit-reset": str(int(NOW) + 3), "Retry-After": "1"}  # fmt: skip
    for _ in range(2):
        with pytest.raises(m.RateLimited):
            client.get_user("tok", "auth0|abc")
    assert len(http.sent) == 1  # the second was refused without calling
    assert clock.slept == []


def test_an_answer_with_calls_left_releases_the_hold(scripted, clock):
    client, http = scripted
    http.headers = FAR
    client.unlink("tok", "auth0|abc", "github", "1")
    http.headers = PLENTY
    client.get_user("tok", "auth0|abc")  # another group's answer does not release it
    with pytest.raises(m.RateLimited):
        client.link("tok", "auth0|abc", "id-token")
    client.pacer.observe(m.USERS_WRITE, PLENTY)  # e.g. a concurrent write answered meanwhile
    client.link("tok", "auth0|abc", "id-token")
    assert len(http.sent) == 3
    assert clock.slept == []


# Against the development tenant (one bucket for the whole tenant, the Free plan's shape): a
# drained bucket, a 429, an answer that leaves a group empty.


def configure(tenant: str, **settings) -> None:
    requests.post(f"{tenant}/__dev/config", json=settings, timeout=5).raise_for_status()


@pytest.fixture
def ada(tenant) -> tuple[m.ManagementClient, str, Sleeps]:
    """A client of the tenant whose sleeps are recorded, and Ada's Management API token."""
    slept = Sleeps()
    client = m.ManagementClient(tenant, pacer=m.Pacer(sleep=slept))
    return client, login(tenant, "Ada Lovelace")["access_token"], slept


def test_a_drained_bucket_is_refused_at_once_not_slept_for(tenant, ada):
    configure(tenant, rate_burst=2, rate_per_second=1)  # full again 2 s after draining
    client, token, slept = ada
    for _ in range(2):
        assert client.get_user(token, t.ADA)["user_id"] == t.ADA
    with pytest.raises(m.RateLimited) as refused:
        client.get_user(token, t.ADA)
    assert time.time() < refused.value.reset_at <= time.time() + 3
    assert slept == []
    stats = t.stats(tenant)
    assert stats["rate_limited"] == 0  # never a 429
    assert stats["management_calls_total"] == 2


def test_a_far_reset_is_refused_at_once_without_calling(tenant, ada):
    configure(tenant, rate_burst=1, rate_per_second=1 / 120)  # full again in two minutes
    client, token, slept = ada
    client.get_user(token, t.ADA)
    with pytest.raises(m.RateLimited) as refused:
        client.get_user(token, t.ADA)
    assert time.time() + 100 <= refused.value.reset_at <= time.time() + 121
    stats = t.stats(tenant)
    assert stats["management_calls_total"] == 1 and stats["rate_limited"] == 0
    assert slept == []


def test_an_empty_reading_bucket_does_not_hold_back_an_unlink(tenant, ada):
    client, token, slept = ada
    reset = int(time.time()) + 60
    t.fault(
        tenant,
        "get_user",
        times=1,
        after=True,
        status=200,
        body={"user_id": t.ADA},
        headers={"x-ratelimit-limit": "1", "x-ratelimit-remaining": "0",
                 "x-ratelimit-reset": str(reset)},
    )  # fmt: skip
    client.get_user(token, t.ADA)
    left = client.unlink(token, t.ADA, "github", "1234567")  # users write: its own bucket
    assert [f"{i['provider']}|{i['user_id']}" for i in left] == [t.ADA, t.ADA_GOOGLE, t.ADA_SAML]
    with pytest.raises(m.RateLimited) as refused:
        client.get_user(token, t.ADA)
    assert refused.value.reset_at == reset
    assert t.stats(tenant)["management_calls_total"] == 2
    assert slept == []


def test_a_429_holds_back_the_next_call_too(tenant, ada):
    client, token, _ = ada
    reset = int(time.time()) + 60
    limits = {"x-ratelimit-limit": "10", "x-ratelimit-remaining": "0"}
    t.fault(
        tenant,
        "get_user",
        times=1,
        status=429,
        headers={**limits, "x-ratelimit-reset": str(reset)},
    )
    for _ in range(2):
        with pytest.raises(m.RateLimited) as refused:
            client.get_user(token, t.ADA)
        assert refused.value.reset_at == reset
    assert t.stats(tenant)["management_calls_total"] == 1


def test_calls_left_or_a_reset_passed_let_calls_through(tenant, ada):
    client, token, slept = ada
    passed = int(time.time()) - 1
    t.fault(
        tenant,
        "get_user",
        times=1,
        after=True,
        status=200,
        body={"user_id": t.ADA},
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(passed)},
    )
    client.get_user(token, t.ADA)
    client.get_user(token, t.ADA)  # the reset has passed: no wait, no refusal
    assert t.stats(tenant)["management_calls_total"] == 2
    assert slept == []
