"""The development tenant's GET /api/v2/connections, as Auth0 answers it: display names for a
server-side token with read:connections, never for a person's own token."""

from __future__ import annotations

from tests.support.tenant_api import auth, http, m2m_token
from tests.support.tenant_login import login

USER_SCOPE = "openid profile email read:current_user update:current_user_identities"


def connections(tenant: str, token: str, **params: str):
    return http.get(f"{tenant}/api/v2/connections", params=params, headers=auth(token))


def test_connections_carry_the_administrators_display_names(tenant):
    token = m2m_token(tenant, "read:connections")
    listed = connections(tenant, token, fields="name,display_name", include_fields="true")
    assert listed.status_code == 200
    names = {c["name"]: c["display_name"] for c in listed.json()}
    assert names["acme-saml"] == "Acme Corp"
    assert names["github"] == "github"  # none set: Auth0 answers the name
    assert all(set(c) == {"name", "display_name"} for c in listed.json())


def test_connections_come_a_page_at_a_time(tenant):
    token = m2m_token(tenant, "read:connections")
    first = connections(tenant, token, page="0", per_page="3").json()
    rest = connections(tenant, token, page="1", per_page="3").json()
    assert len(first) == 3 and len(rest) == 1
    assert connections(tenant, token, per_page="101").status_code == 400


def test_a_token_without_read_connections_is_refused(tenant):
    refused = connections(tenant, m2m_token(tenant, "read:users"))
    assert refused.status_code == 403
    assert refused.json()["errorCode"] == "insufficient_scope"
    person = login(tenant, "Ada Lovelace", scope=USER_SCOPE)["access_token"]
    assert connections(tenant, person).status_code == 403
