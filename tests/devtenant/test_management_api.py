"""The development tenant's Management API: strict Auth0 status codes, bodies and headers."""

from __future__ import annotations

import time
from http.client import HTTPConnection
from urllib.parse import urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import RSAKey

from devtenant import create_app
from tests.support.servers import serving
from tests.support.tenant_api import (
    ADA,
    ADA_SAML,
    BEN,
    GRACE,
    LINUS,
    auth,
    claims,
    header,
    http,
    identity_url,
    m2m_token,
    stored_user,
    unsigned_jwt,
    user_url,
)
from tests.support.tenant_login import login

LINK_SCOPE = "openid profile email read:current_user update:current_user_identities"


def token_for(tenant: str, name: str, **kwargs) -> str:
    """A Management API access token for a seeded user."""
    return login(tenant, name, **kwargs)["access_token"]


def id_token_for(tenant: str, name: str, **kwargs) -> str:
    """A fresh ID token for an account, logged in with prompt=login like a linking flow."""
    extra = {"prompt": "login", **kwargs.pop("extra_params", {})}
    return login(tenant, name, extra_params=extra, **kwargs)["id_token"]


def test_get_own_user_has_auth0_shape_and_rate_limit_headers(tenant):
    response = http.get(user_url(tenant, ADA), headers=auth(token_for(tenant, "Ada Lovelace")))
    assert response.status_code == 200
    user = response.json()
    assert user["user_id"] == ADA
    assert [(i["provider"], i["user_id"]) for i in user["identities"]] == [
        ("auth0", "6500a1b2c3d4e5f600000001"),
        ("google-oauth2", "109876543210987654321"),
        ("github", 1234567),
        ("samlp", "acme-saml|ada@acme.test"),
    ]
    assert isinstance(user["identities"][2]["user_id"], int)
    assert user["identities"][3]["connection"] == "acme-saml"
    assert user["identities"][3]["isSocial"] is False
    assert "profileData" not in user["identities"][0]
    assert user["identities"][1]["profileData"]["email"] == "ada.lovelace@gmail.com"
    assert user["user_metadata"] == {"theme": "dark"} and user["app_metadata"] == {"plan": "pro"}
    for key in ("email", "email_verified", "name", "nickname", "picture", "created_at"):
        assert key in user
    # The default bucket: 50 calls, refilled at 16 a second (full again within a second).
    assert response.headers["x-ratelimit-limit"] == "50"
    assert response.headers["x-ratelimit-remaining"] == "49"
    assert time.time() - 1 <= int(response.headers["x-ratelimit-reset"]) <= time.time() + 2


def test_fields_and_include_fields(tenant):
    headers = auth(token_for(tenant, "Ada Lovelace"))
    only = http.get(user_url(tenant, ADA), headers=headers, params={"fields": "user_id,identities"})
    assert set(only.json()) == {"user_id", "identities"}
    without = http.get(
        user_url(tenant, ADA),
        headers=headers,
        params={"fields": "identities,app_metadata", "include_fields": "false"},
    )
    assert "identities" not in without.json() and "email" in without.json()


def test_another_users_id_is_unowned_resource(tenant):
    response = http.get(user_url(tenant, BEN), headers=auth(token_for(tenant, "Ada Lovelace")))
    assert response.status_code == 403
    assert response.json() == {
        "statusCode": 403,
        "error": "Forbidden",
        "message": "User to be acted on does not match subject in bearer token.",
        "errorCode": "unowned_resource",
    }


def test_missing_scope_is_insufficient_scope(tenant):
    token = token_for(tenant, "Ada Lovelace", scope="openid read:current_user")
    unlink = http.delete(identity_url(tenant, ADA, "github", 1234567), headers=auth(token))
    assert unlink.status_code == 403
    assert unlink.json() == {
        "statusCode": 403,
        "error": "Forbidden",
        "message": (
            "Insufficient scope, expected any of: update:users,update:current_user_identities"
        ),
        "errorCode": "insufficient_scope",
    }
    reader = token_for(tenant, "Ada Lovelace", scope="openid update:current_user_identities")
    get = http.get(user_url(tenant, ADA), headers=auth(reader))
    assert get.status_code == 403
    assert get.json()["message"] == (
        "Insufficient scope, expected any of: read:users,read:user_idp_tokens,read:current_user"
    )
    assert stored_user(tenant, ADA).json()["identities"][2]["provider"] == "github"


def test_bad_tokens_are_401_without_error_code(tenant):
    url = user_url(tenant, ADA)
    garbage = http.get(url, headers=auth("not.a.jwt"))
    assert garbage.status_code == 401
    assert garbage.json() == {
        "statusCode": 401,
        "error": "Unauthorized",
        "message": "Invalid token",
        "attributes": {"error": "Invalid token"},
    }
    assert "x-ratelimit-limit" in garbage.headers
    # Right kid, wrong key: only a real signature check catches this.
    token = token_for(tenant, "Ada Lovelace")
    kid = header(token)["kid"]
    foreign = RSAKey.generate_key(2048, parameters={"kid": kid})
    forged = jwt.encode({"alg": "RS256", "kid": kid}, claims(token), foreign)
    assert http.get(url, headers=auth(forged)).json()["message"] == "Invalid token"
    unsigned = unsigned_jwt(claims(token))
    assert http.get(url, headers=auth(unsigned)).status_code == 401
    missing = http.get(url)
    assert missing.status_code == 401 and "errorCode" not in missing.json()
    id_token = login(tenant, "Ada Lovelace")["id_token"]
    wrong_aud = http.get(url, headers=auth(id_token))
    assert wrong_aud.status_code == 401
    assert wrong_aud.json()["message"] == "Bad audience: dev-client"


def test_expired_token_is_401(tenant):
    token = token_for(tenant, "Ada Lovelace")
    http.post(f"{tenant}/__dev/clock", json={"offset": 86400})
    response = http.get(user_url(tenant, ADA), headers=auth(token))
    assert response.status_code == 401
    assert response.json() == {
        "statusCode": 401,
        "error": "Unauthorized",
        "message": "Expired token received for JSON Web Token validation",
        "attributes": {"error": "Expired token received for JSON Web Token validation"},
    }


def test_a_call_past_the_bucket_is_429_for_every_user_of_the_tenant(tenant):
    http.post(f"{tenant}/__dev/config", json={"rate_burst": 3, "rate_per_second": 0.1})
    headers = auth(token_for(tenant, "Ada Lovelace"))
    answers = [http.get(user_url(tenant, ADA), headers=headers) for _ in range(3)]
    assert [a.status_code for a in answers] == [200] * 3
    assert [a.headers["x-ratelimit-remaining"] for a in answers] == ["2", "1", "0"]
    limited = http.get(user_url(tenant, ADA), headers=headers)
    assert limited.status_code == 429
    assert limited.json() == {
        "statusCode": 429,
        "error": "Too Many Requests",
        "message": "Global limit has been reached",
        "errorCode": "too_many_requests",
    }
    assert limited.headers["x-ratelimit-limit"] == "3"
    assert limited.headers["x-ratelimit-remaining"] == "0"
    # Reset is when the bucket is full again (3 calls at 0.1 a second), not the next call.
    assert time.time() + 25 <= int(limited.headers["x-ratelimit-reset"]) <= time.time() + 31
    assert limited.headers["Retry-After"] == "10"
    # The bucket is the tenant's: another user is refused too, until a call has refilled.
    ben = http.get(user_url(tenant, BEN), headers=auth(token_for(tenant, "Ben Carter")))
    assert ben.status_code == 429
    http.post(f"{tenant}/__dev/clock", json={"offset": 10})
    assert http.get(user_url(tenant, ADA), headers=headers).status_code == 200
    assert http.get(user_url(tenant, ADA), headers=headers).status_code == 429
    assert http.get(f"{tenant}/__dev/stats").json()["rate_limited"] == 3


def test_the_optional_per_user_limit_counts_only_current_user_tokens(tenant):
    http.post(f"{tenant}/__dev/config", json={"rate_limit": 2})
    headers = auth(token_for(tenant, "Ada Lovelace"))
    answers = [http.get(user_url(tenant, ADA), headers=headers) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[1].headers["x-ratelimit-limit"] == "2"  # the tighter limit is reported
    assert "Retry-After" not in answers[2].headers
    # Ben has a budget of his own, and a machine token none at all.
    assert http.get(user_url(tenant, BEN), headers=auth(token_for(tenant, "Ben Carter"))).ok
    m2m = [http.get(user_url(tenant, ADA), headers=auth(m2m_token(tenant))) for _ in range(3)]
    assert [a.status_code for a in m2m] == [200] * 3
    assert m2m[0].headers["x-ratelimit-limit"] == "50"
    http.post(f"{tenant}/__dev/clock", json={"offset": 61})
    assert http.get(user_url(tenant, ADA), headers=headers).status_code == 200


def test_every_management_answer_carries_the_rate_limit_headers(tenant):
    http.post(f"{tenant}/__dev/config", json={"rate_burst": 5})
    token = token_for(tenant, "Ada Lovelace")
    answers = {
        "ok": http.get(user_url(tenant, ADA), headers=auth(token)),
        "forbidden": http.get(user_url(tenant, BEN), headers=auth(token)),
        "bad token": http.get(user_url(tenant, ADA), headers=auth("garbage")),
        "unknown path": http.get(f"{tenant}/api/v2/clients", headers=auth(token)),
        "bad request": http.post(f"{user_url(tenant, ADA)}/identities", headers=auth(token)),
    }
    for what, answer in answers.items():
        assert answer.headers["x-ratelimit-limit"] == "5", what
        assert answer.headers["x-ratelimit-remaining"].isdigit(), what
        assert answer.headers["x-ratelimit-reset"].isdigit(), what


def test_unlinking_the_primary_is_400(tenant):
    token = token_for(tenant, "Ada Lovelace")
    response = http.delete(
        identity_url(tenant, ADA, "auth0", "6500a1b2c3d4e5f600000001"), headers=auth(token)
    )
    assert response.status_code == 400
    assert response.json()["message"] == "Main identity cannot be removed."
    assert len(stored_user(tenant, ADA).json()["identities"]) == 4


def test_unlink_percent_encoded_saml_id_creates_a_user_without_metadata(tenant):
    token = token_for(tenant, "Ada Lovelace")
    url = identity_url(tenant, ADA, "samlp", "acme-saml|ada@acme.test")
    assert "acme-saml%7Cada%40acme.test" in url
    response = http.delete(url, headers=auth(token))
    assert response.status_code == 200
    identities = response.json()
    assert [i["provider"] for i in identities] == ["auth0", "google-oauth2", "github"]
    assert identities[0]["user_id"] == "6500a1b2c3d4e5f600000001"
    new = stored_user(tenant, ADA_SAML)
    assert new.status_code == 200
    body = new.json()
    assert body["user_id"] == ADA_SAML and body["email"] == "ada@acme.test"
    assert body["identities"] == [
        {
            "provider": "samlp",
            "user_id": "acme-saml|ada@acme.test",
            "connection": "acme-saml",
            "isSocial": False,
        }
    ]
    assert "user_metadata" not in body and "app_metadata" not in body
    assert stored_user(tenant, ADA).json()["user_metadata"] == {"theme": "dark"}


def test_unlink_with_a_raw_pipe_in_the_path(tenant):
    token = token_for(tenant, "Ada Lovelace")
    parts = urlsplit(tenant)
    conn = http_client(parts)
    conn.request(
        "DELETE",
        "/api/v2/users/auth0|6500a1b2c3d4e5f600000001/identities/samlp/acme-saml|ada@acme.test",
        headers=auth(token),
    )
    response = conn.getresponse()
    assert response.status == 200, response.read()
    conn.close()
    assert stored_user(tenant, ADA_SAML).status_code == 200


def http_client(parts) -> HTTPConnection:
    """A raw HTTP connection, so the request path is sent byte for byte."""
    return HTTPConnection(parts.hostname, parts.port, timeout=10)


def test_encoded_slash_stays_inside_the_id(tenant):
    token = m2m_token(tenant)
    # Decoded, this path would look like /users/auth0|x/identities; raw, it is one id.
    response = http.get(f"{tenant}/api/v2/users/auth0%7Cx%2Fidentities", headers=auth(token))
    assert response.status_code == 404
    assert response.json() == {
        "statusCode": 404,
        "error": "Not Found",
        "message": "The user does not exist.",
        "errorCode": "inexistent_user",
    }


def test_unlink_github_numeric_id(tenant):
    token = token_for(tenant, "Ada Lovelace")
    response = http.delete(identity_url(tenant, ADA, "github", 1234567), headers=auth(token))
    assert response.status_code == 200
    assert "github" not in [i["provider"] for i in response.json()]
    new = stored_user(tenant, "github|1234567").json()
    assert new["identities"][0]["user_id"] == 1234567
    assert new["nickname"] == "ada-codes"
    again = http.delete(identity_url(tenant, ADA, "github", "1234567"), headers=auth(token))
    assert again.status_code == 400
    assert again.json() == {
        "statusCode": 400,
        "error": "Bad Request",
        "message": "Identity not found.",
    }


def test_link_with_id_token(tenant):
    ben = token_for(tenant, "Ben Carter")
    grace_id_token = id_token_for(tenant, "Grace Hopper", extra_params={"connection": "github"})
    response = http.post(
        f"{user_url(tenant, BEN)}/identities",
        headers=auth(ben),
        json={"link_with": grace_id_token},
    )
    assert response.status_code == 201
    identities = response.json()
    assert [(i["provider"], i["user_id"]) for i in identities] == [
        ("auth0", "6500a1b2c3d4e5f600000002"),
        ("github", 7654321),
    ]
    assert identities[1]["profileData"]["email"] == "grace@example.com"
    assert stored_user(tenant, GRACE).status_code == 404
    # Logging in as Grace (on her connection) now yields Ben.
    grace = login(tenant, "Grace Hopper", audience=None, extra_params={"connection": "github"})
    assert claims(grace["id_token"])["sub"] == BEN
    # The same link again: already linked.
    again = http.post(
        f"{user_url(tenant, BEN)}/identities",
        headers=auth(ben),
        json={"link_with": grace_id_token},
    )
    assert again.status_code == 409
    assert again.json() == {
        "statusCode": 409,
        "error": "Conflict",
        "message": "Specified identity already exists.",
        "errorCode": "identity_conflict",
    }


def test_link_accepts_a_form_body_and_discards_secondary_metadata(tenant):
    ada_id_token = id_token_for(tenant, "Ada Lovelace")
    # Ada has linked identities of her own: she cannot become Ben's secondary.
    ben = token_for(tenant, "Ben Carter")
    conflict = http.post(
        f"{user_url(tenant, BEN)}/identities", headers=auth(ben), data={"link_with": ada_id_token}
    )
    assert conflict.status_code == 409
    linus = id_token_for(tenant, "Linus Google")
    ok = http.post(
        f"{user_url(tenant, BEN)}/identities", headers=auth(ben), data={"link_with": linus}
    )
    assert ok.status_code == 201
    assert ok.json()[1]["user_id"] == "300000000000000000003"
    assert stored_user(tenant, LINUS).status_code == 404


def test_link_same_user_is_400(tenant):
    ben = token_for(tenant, "Ben Carter")
    response = http.post(
        f"{user_url(tenant, BEN)}/identities",
        headers=auth(ben),
        json={"link_with": id_token_for(tenant, "Ben Carter")},
    )
    assert response.status_code == 400
    assert response.json()["message"] == "Main identity and the new one are the same."


def test_link_rejects_provider_and_user_id_from_a_user_token(tenant):
    ben = token_for(tenant, "Ben Carter")
    response = http.post(
        f"{user_url(tenant, BEN)}/identities",
        headers=auth(ben),
        json={"provider": "github", "user_id": "7654321"},
    )
    assert response.status_code == 400
    mixed = http.post(
        f"{user_url(tenant, BEN)}/identities",
        headers=auth(ben),
        json={"link_with": id_token_for(tenant, "Grace Hopper"), "provider": "github"},
    )
    assert mixed.status_code == 400
    assert stored_user(tenant, GRACE).status_code == 200


def test_link_with_must_have_the_callers_azp_as_aud(tenant):
    ben = token_for(tenant, "Ben Carter")
    grace_access = token_for(tenant, "Grace Hopper")  # a tenant JWT, but aud is the API
    response = http.post(
        f"{user_url(tenant, BEN)}/identities", headers=auth(ben), json={"link_with": grace_access}
    )
    assert response.status_code == 400
    assert response.json()["message"] == "JWT (link_with) contains an invalid aud claim"
    assert stored_user(tenant, GRACE).status_code == 200


def test_link_with_from_another_client_is_refused():
    other = {
        "client_id": "other-client",
        "client_secret": "other-secret",
        "allow_loopback": True,
    }
    clients = [
        {"client_id": "dev-client", "client_secret": "dev-client-secret", "allow_loopback": True},
        other,
    ]
    with serving(create_app({"DEVTENANT_CLIENTS": clients})) as url:
        ben = token_for(url, "Ben Carter")
        grace = id_token_for(
            url, "Grace Hopper", client_id="other-client", client_secret="other-secret"
        )
        assert claims(grace)["aud"] == "other-client"
        response = http.post(
            f"{user_url(url, BEN)}/identities", headers=auth(ben), json={"link_with": grace}
        )
        assert response.status_code == 400
        assert response.json()["message"] == "JWT (link_with) contains an invalid aud claim"
        assert stored_user(url, GRACE).status_code == 200


def test_link_with_foreign_issuer_or_signature_is_refused(tenant):
    ben = token_for(tenant, "Ben Carter")
    # Same keys, other issuer: log Grace in through "localhost" instead of 127.0.0.1.
    localhost = tenant.replace("127.0.0.1", "localhost")
    grace = id_token_for(localhost, "Grace Hopper")
    assert claims(grace)["iss"] == f"{localhost}/"
    url = f"{user_url(tenant, BEN)}/identities"
    other_iss = http.post(url, headers=auth(ben), json={"link_with": grace})
    assert other_iss.status_code == 400
    assert "issuer" in other_iss.json()["message"]
    real = id_token_for(tenant, "Grace Hopper")
    kid = header(real)["kid"]
    foreign = jwt.encode(
        {"alg": "RS256", "kid": kid},
        claims(real),
        RSAKey.generate_key(2048, parameters={"kid": kid}),
    )
    unsigned = unsigned_jwt(claims(real))
    for bad in (foreign, unsigned, "garbage"):
        response = http.post(url, headers=auth(ben), json={"link_with": bad})
        assert response.status_code == 400
        assert response.json()["message"].startswith("JWT (link_with) must ")
    assert stored_user(tenant, GRACE).status_code == 200


def test_link_with_a_deleted_user_is_400(tenant):
    grace = id_token_for(tenant, "Grace Hopper")
    m2m = m2m_token(tenant)
    assert http.delete(user_url(tenant, GRACE), headers=auth(m2m)).status_code == 204
    ben = token_for(tenant, "Ben Carter")
    response = http.post(
        f"{user_url(tenant, BEN)}/identities", headers=auth(ben), json={"link_with": grace}
    )
    assert response.status_code == 400


def test_an_expired_link_with_is_refused(tenant):
    grace = id_token_for(tenant, "Grace Hopper")
    ben = token_for(tenant, "Ben Carter")
    # Past the ID token's lifetime (36,000 s) but within the access token's (86,400 s).
    http.post(f"{tenant}/__dev/clock", json={"offset": claims(grace)["exp"] - claims(grace)["iat"]})
    response = http.post(
        f"{user_url(tenant, BEN)}/identities", headers=auth(ben), json={"link_with": grace}
    )
    assert response.status_code == 400
    assert response.json()["message"] == "JWT (link_with) must not be expired."
    assert stored_user(tenant, GRACE).status_code == 200  # still a user of its own


def test_delete_user(tenant):
    http.post(f"{tenant}/__dev/scopes", json={"withhold": []})  # withheld by default, like Auth0
    ben = token_for(tenant, "Ben Carter", scope="openid delete:current_user")
    other = http.delete(user_url(tenant, ADA), headers=auth(ben))
    assert other.status_code == 403 and other.json()["errorCode"] == "unowned_resource"
    response = http.delete(user_url(tenant, BEN), headers=auth(ben))
    assert response.status_code == 204 and response.content == b""
    assert stored_user(tenant, BEN).status_code == 404
    m2m = m2m_token(tenant)
    # No 404 is documented here: a user already gone is reportedly answered 204 too.
    missing = http.delete(user_url(tenant, BEN), headers=auth(m2m))
    assert missing.status_code == 204 and missing.content == b""
    no_scope = http.delete(user_url(tenant, ADA), headers=auth(token_for(tenant, "Ada Lovelace")))
    assert no_scope.status_code == 403
    assert no_scope.json()["message"] == (
        "Insufficient scope, expected any of: delete:users,delete:current_user"
    )


def test_m2m_token_reads_any_user(tenant):
    m2m = m2m_token(tenant, scope="read:users")
    assert http.get(user_url(tenant, BEN), headers=auth(m2m)).json()["user_id"] == BEN
    unlink = http.delete(identity_url(tenant, ADA, "github", 1234567), headers=auth(m2m))
    assert unlink.status_code == 403 and unlink.json()["errorCode"] == "insufficient_scope"


@pytest.mark.parametrize("latency", [0.3])
def test_latency_applies_to_management_calls(tenant, latency):
    token = token_for(tenant, "Ada Lovelace")
    http.post(f"{tenant}/__dev/config", json={"latency": latency})
    started = time.monotonic()
    assert http.get(user_url(tenant, ADA), headers=auth(token)).status_code == 200
    assert time.monotonic() - started >= latency


def test_session_reuse_does_not_matter_for_limits(tenant):
    http.post(f"{tenant}/__dev/config", json={"rate_burst": 10, "rate_per_second": 0})
    token = token_for(tenant, "Ben Carter")
    with requests.Session() as session:
        codes = [
            session.get(user_url(tenant, BEN), headers=auth(token), timeout=10).status_code
            for _ in range(11)
        ]
    assert codes == [200] * 10 + [429]
