"""The development tenant's users-by-email and metadata PATCH, as Auth0 answers them."""

from __future__ import annotations

from urllib.parse import quote

from tests.support.tenant_api import (
    ADA,
    BEN,
    MAYA,
    MAYA_GITHUB,
    MAYA_LOOKALIKE,
    auth,
    http,
    m2m_token,
    stored_user,
    user_url,
)
from tests.support.tenant_login import login

METADATA_SCOPE = "openid profile email read:current_user update:current_user_metadata"


def by_email(tenant: str, email: str, token: str, **params: str):
    return http.get(
        f"{tenant}/api/v2/users-by-email",
        params={"email": email, **params},
        headers=auth(token),
    )


def test_users_by_email_is_exact_and_case_sensitive(tenant):
    token = m2m_token(tenant, "read:users")
    found = by_email(tenant, "maya@example.com", token)
    assert found.status_code == 200
    users = found.json()
    assert [u["user_id"] for u in users] == [MAYA, MAYA_GITHUB, MAYA_LOOKALIKE]
    assert all(u["created_at"] and u["identities"] for u in users)
    assert [u["email_verified"] for u in users] == [True, True, False]
    assert by_email(tenant, "Maya@example.com", token).json() == []
    assert by_email(tenant, "maya@example", token).json() == []
    narrowed = by_email(tenant, "ben@example.com", token, fields="user_id,created_at").json()
    assert narrowed == [{"user_id": BEN, "created_at": "2023-09-12T10:00:00.000Z"}]


def test_users_by_email_needs_read_users(tenant):
    user_token = login(tenant, "Ben Carter")["access_token"]
    refused = by_email(tenant, "ben@example.com", user_token)
    assert refused.status_code == 403
    assert refused.json()["message"] == "Insufficient scope, expected any of: read:users"
    delete_only = m2m_token(tenant, "delete:users")
    assert by_email(tenant, "ben@example.com", delete_only).status_code == 403
    assert by_email(tenant, "ben@example.com", "not-a-token").status_code == 401
    missing = http.get(
        f"{tenant}/api/v2/users-by-email", headers=auth(m2m_token(tenant, "read:users"))
    )
    assert missing.status_code == 400 and missing.json()["errorCode"] == "invalid_query_string"


def test_every_user_has_created_at_and_mayas_accounts_are_in_order(tenant):
    users = http.get(f"{tenant}/__dev/users").json()
    assert all(u.get("created_at") for u in users)
    created = {u["user_id"]: u["created_at"] for u in users}
    assert created[MAYA] < created[MAYA_GITHUB] < created[MAYA_LOOKALIKE]


def test_patch_merges_user_metadata_at_the_top_level_and_null_removes(tenant):
    token = login(tenant, "Maya Patel", scope=METADATA_SCOPE)["access_token"]
    response = http.patch(
        user_url(tenant, MAYA),
        json={"user_metadata": {"editor": "vim", "theme": None, "lists": {"a": 1}}},
        headers=auth(token),
    )
    assert response.status_code == 200, response.text
    assert response.json()["user_metadata"] == {
        "newsletter": "monthly",
        "editor": "vim",
        "lists": {"a": 1},
    }
    # Only the top level merges: a nested object is replaced whole.
    http.patch(
        user_url(tenant, MAYA), json={"user_metadata": {"lists": {"b": 2}}}, headers=auth(token)
    )
    assert stored_user(tenant, MAYA).json()["user_metadata"]["lists"] == {"b": 2}
    cleared = http.patch(user_url(tenant, MAYA), json={"user_metadata": {}}, headers=auth(token))
    assert "user_metadata" not in cleared.json()


def test_patch_scopes_as_auth0_grants_them(tenant):
    maya = login(tenant, "Maya Patel", scope=METADATA_SCOPE)["access_token"]
    change = {"user_metadata": {"x": 1}}
    other = http.patch(user_url(tenant, BEN), json=change, headers=auth(maya))
    assert other.status_code == 403 and other.json()["errorCode"] == "unowned_resource"
    app_meta = http.patch(
        user_url(tenant, MAYA), json={"app_metadata": {"plan": "free"}}, headers=auth(maya)
    )
    assert app_meta.status_code == 403
    plain = login(tenant, "Maya Patel")["access_token"]  # no update:current_user_metadata
    assert http.patch(user_url(tenant, MAYA), json=change, headers=auth(plain)).status_code == 403
    server = m2m_token(tenant, "update:users")
    ok = http.patch(
        user_url(tenant, ADA), json={"app_metadata": {"plan": None}}, headers=auth(server)
    )
    assert ok.status_code == 200 and ok.json()["app_metadata"] == {}
    missing = http.patch(
        f"{tenant}/api/v2/users/{quote('auth0|nobody', safe='')}", json=change, headers=auth(server)
    )
    assert missing.status_code == 404
    assert stored_user(tenant, MAYA).json()["user_metadata"] == {
        "newsletter": "monthly",
        "theme": "light",
    }
