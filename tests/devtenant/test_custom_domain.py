"""The tenant's custom domain (`localhost`) beside its canonical host (`127.0.0.1`): `iss` per
host, one canonical audience, and tokens accepted only at the host that issued them."""

from __future__ import annotations

import pytest

from tests.support.tenant_api import ADA, auth, claims, http, user_url
from tests.support.tenant_login import LoginError, login


def custom(tenant: str) -> str:
    return tenant.replace("//127.0.0.1:", "//localhost:")


def test_each_host_names_itself_as_issuer_and_the_canonical_host_as_audience(tenant):
    doc = http.get(f"{custom(tenant)}/.well-known/openid-configuration").json()
    assert doc["issuer"] == f"{custom(tenant)}/"
    assert doc["end_session_endpoint"] == f"{custom(tenant)}/oidc/logout"
    body = login(custom(tenant), "Ada Lovelace")
    access, id_token = claims(body["access_token"]), claims(body["id_token"])
    assert access["iss"] == id_token["iss"] == f"{custom(tenant)}/"
    assert access["aud"][0] == f"{tenant}/api/v2/"
    assert access["aud"][1] == f"{custom(tenant)}/userinfo"


def test_the_custom_domain_as_audience_is_service_not_found(tenant):
    with pytest.raises(LoginError) as caught:
        login(custom(tenant), "Ada Lovelace", audience=f"{custom(tenant)}/api/v2/")
    assert caught.value.error == "access_denied"
    assert caught.value.description == f"Service not found: {custom(tenant)}/api/v2/"


@pytest.mark.parametrize("issued_at_custom", [True, False])
def test_a_token_is_accepted_only_at_the_host_that_issued_it(tenant, issued_at_custom):
    issuer, other = (custom(tenant), tenant) if issued_at_custom else (tenant, custom(tenant))
    token = login(issuer, "Ada Lovelace")["access_token"]
    assert http.get(user_url(issuer, ADA), headers=auth(token)).status_code == 200
    elsewhere = http.get(user_url(other, ADA), headers=auth(token))
    assert elsewhere.status_code == 401
    assert elsewhere.json() == {
        "statusCode": 401,
        "error": "Unauthorized",
        "message": "Invalid token",
        "attributes": {"error": "Invalid token"},
    }


def test_m2m_tokens_come_from_the_custom_domain_for_the_canonical_audience(tenant):
    data = {
        "grant_type": "client_credentials",
        "client_id": "dev-m2m",
        "client_secret": "dev-m2m-secret",
    }
    wrong = http.post(
        f"{custom(tenant)}/oauth/token", data={**data, "audience": f"{custom(tenant)}/api/v2/"}
    )
    assert wrong.status_code == 403 and wrong.json()["error"] == "access_denied"
    body = http.post(
        f"{custom(tenant)}/oauth/token", data={**data, "audience": f"{tenant}/api/v2/"}
    ).json()
    assert claims(body["access_token"])["iss"] == f"{custom(tenant)}/"
    headers = auth(body["access_token"])
    assert http.get(user_url(custom(tenant), ADA), headers=headers).status_code == 200
    assert http.get(user_url(tenant, ADA), headers=headers).status_code == 401
