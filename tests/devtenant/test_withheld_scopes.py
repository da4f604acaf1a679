"""A tenant that grants fewer scopes than asked: the token response's `scope` and the token's own
`scope` both leave a withheld scope out, silently, as Auth0 does."""

from __future__ import annotations

import requests

from devtenant import create_app
from devtenant.__main__ import parse
from tests.support.servers import serving
from tests.support.tenant_api import ADA, auth, claims, http, user_url
from tests.support.tenant_login import login

ASKED = "openid profile email read:current_user update:current_user_identities delete:current_user"


def test_a_withheld_scope_is_left_out_of_the_grant(tenant):
    hook = requests.post(
        f"{tenant}/__dev/scopes", json={"withhold": ["delete:current_user"]}, timeout=5
    )
    assert hook.json() == {"withhold": ["delete:current_user"]}
    body = login(tenant, "Ada Lovelace", scope=ASKED)
    granted = body["scope"].split()
    assert "delete:current_user" not in granted and "read:current_user" in granted
    assert claims(body["access_token"])["scope"] == body["scope"]
    refused = http.delete(user_url(tenant, ADA), headers=auth(body["access_token"]))
    assert refused.status_code == 403
    assert refused.json()["errorCode"] == "insufficient_scope"


def test_granting_everything_again_and_reset(tenant):
    requests.post(f"{tenant}/__dev/scopes", json={"withhold": ["read:current_user"]}, timeout=5)
    requests.post(f"{tenant}/__dev/scopes", json={"withhold": []}, timeout=5)
    assert "read:current_user" in login(tenant, "Ada Lovelace")["scope"].split()
    requests.post(f"{tenant}/__dev/scopes", json={"withhold": ["read:current_user"]}, timeout=5)
    requests.post(f"{tenant}/__dev/reset", timeout=5)
    assert "read:current_user" in login(tenant, "Ada Lovelace")["scope"].split()


def test_a_malformed_withhold_request_is_refused(tenant):
    for body in ({"withhold": "delete:current_user"}, {"withhold": [1]}, [], {"other": []}):
        answer = requests.post(f"{tenant}/__dev/scopes", json=body, timeout=5)
        assert answer.status_code == 400


def test_delete_current_user_is_withheld_unless_granted(tenant):
    # As Auth0's published list of user-token scopes, and a real tenant's grant, leave it out.
    assert "delete:current_user" not in login(tenant, "Ben Carter", scope=ASKED)["scope"].split()
    requests.post(f"{tenant}/__dev/scopes", json={"withhold": []}, timeout=5)
    assert "delete:current_user" in login(tenant, "Ben Carter", scope=ASKED)["scope"].split()


def test_the_command_line_grants_a_scope_withheld_by_default():
    granted = parse(["--grant-scope", "delete:current_user"])[1]
    with serving(create_app(granted)) as url:
        assert "delete:current_user" in login(url, "Ben Carter", scope=ASKED)["scope"].split()
    assert parse([])[1]["DEVTENANT_WITHHELD_SCOPES"] == ["delete:current_user"]
