"""Read and steer the development tenant from tests, over its /__dev hooks."""

from __future__ import annotations

from urllib.parse import quote

import requests

ADA = "auth0|6500a1b2c3d4e5f600000001"
BEN = "auth0|6500a1b2c3d4e5f600000002"
ADA_GITHUB = "github|1234567"
ADA_GOOGLE = "google-oauth2|109876543210987654321"
ADA_SAML = "samlp|acme-saml|ada@acme.test"
GRACE = "github|7654321"
LINUS = "google-oauth2|300000000000000000003"
EVE = "google-oauth2|200000000000000000002"
# Demo duplicates: Maya's password account, her later GitHub account (same verified email), and a
# look-alike Google account whose email is the same but unverified.
MAYA = "auth0|6500a1b2c3d4e5f600000006"
MAYA_GITHUB = "github|8765432"
MAYA_LOOKALIKE = "google-oauth2|400000000000000000004"


def user(tenant: str, user_id: str) -> dict | None:
    """Return the tenant's stored user, or None if it has none by that id."""
    r = requests.get(f"{tenant}/__dev/users/{quote(user_id, safe='')}", timeout=5)
    if r.status_code == 404:
        return None
    r.raise_for_status()
    return r.json()


def users(tenant: str) -> list[dict]:
    """Return every user the tenant has."""
    r = requests.get(f"{tenant}/__dev/users", timeout=5)
    r.raise_for_status()
    return r.json()


def identity_keys(tenant: str, user_id: str) -> list[str]:
    """Return `{provider}|{user_id}` of each of the user's identities, primary first."""
    return [f"{i['provider']}|{i['user_id']}" for i in user(tenant, user_id)["identities"]]


def fault(tenant: str, endpoint: str, **spec) -> None:
    """Make the tenant misbehave on `endpoint` (see devtenant's faults)."""
    requests.post(
        f"{tenant}/__dev/faults", json={"endpoint": endpoint, **spec}, timeout=5
    ).raise_for_status()


def reject_token_once(tenant: str, endpoint: str = "get_user") -> None:
    """Make the tenant answer Auth0's 401 for an invalid token, once, on `endpoint`."""
    fault(
        tenant,
        endpoint,
        times=1,
        status=401,
        body={"statusCode": 401, "error": "Unauthorized", "message": "Invalid token"},
    )


def clear_faults(tenant: str) -> None:
    requests.delete(f"{tenant}/__dev/faults", timeout=5).raise_for_status()


def stats(tenant: str) -> dict:
    return requests.get(f"{tenant}/__dev/stats", timeout=5).json()


def grant_every_scope(tenant: str) -> None:
    """Grant user logins every scope they ask for, `delete:current_user` included, which the
    tenant withholds by default as Auth0's tenants do."""
    requests.post(f"{tenant}/__dev/scopes", json={"withhold": []}, timeout=5).raise_for_status()


def refuse(tenant: str, **causes) -> None:
    """Make the tenant answer `access_denied` for a cause: `no_client_grant=["dev-client"]`, or
    `action_denies="reason"` (a post-login Action's `api.access.deny`)."""
    requests.post(f"{tenant}/__dev/refusals", json=causes, timeout=5).raise_for_status()


def withhold_scopes(tenant: str, scopes: list[str]) -> None:
    """Have the tenant grant user logins every scope asked for but these."""
    requests.post(f"{tenant}/__dev/scopes", json={"withhold": scopes}, timeout=5).raise_for_status()


def m2m_token(tenant: str) -> str:
    """A Management API token of the development tenant's M2M client (client credentials), as a
    product's back end gets one."""
    answer = requests.post(
        f"{tenant}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "dev-m2m",
            "client_secret": "dev-m2m-secret",
            "audience": f"{tenant}/api/v2/",
        },
        timeout=10,
    )
    answer.raise_for_status()
    return answer.json()["access_token"]


def set_app_metadata(tenant: str, user_id: str, value: dict) -> None:
    """Set a user's app_metadata as a product's back end would: the Management API, with the
    development tenant's M2M client."""
    requests.patch(
        f"{tenant}/api/v2/users/{quote(user_id, safe='')}",
        json={"app_metadata": value},
        headers={"Authorization": f"Bearer {m2m_token(tenant)}"},
        timeout=5,
    ).raise_for_status()
