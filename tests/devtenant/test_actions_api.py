"""The Actions Management API in Auth0's wire format: actions, their deployment and the
post-login bindings, with Auth0's scopes; what is deployed and bound is what logins run."""

from __future__ import annotations

import pytest

from devtenant import create_app as create_tenant
from tests.devtenant.action_flow import FIXTURE, Browser
from tests.devtenant.conftest import needs_node
from tests.support.tenant_api import auth, claims, http, m2m_token

ALL = "read:actions create:actions update:actions delete:actions"
CLAIM = "https://fixture.test/version"


def code(version: int) -> str:
    """An Action that tells which version of it ran."""
    return (
        "exports.onExecutePostLogin = async (event, api) => {"
        f" api.idToken.setCustomClaim({CLAIM!r}, {version} + ':' + event.secrets.COLOR); }};"
    )


def api(tenant: str, method: str, path: str, scope: str = ALL, **kwargs):
    """One Actions Management API call with an M2M token holding `scope`."""
    token = m2m_token(tenant, scope)
    return http.request(method, f"{tenant}/api/v2/actions/{path}", headers=auth(token), **kwargs)


def create(tenant: str, name: str = "tell-version", **fields) -> dict:
    body = {
        "name": name,
        "supported_triggers": [{"id": "post-login", "version": "v3"}],
        "code": code(1),
        "runtime": "node22",
        "secrets": [{"name": "COLOR", "value": "teal"}],
        **fields,
    }
    response = api(tenant, "POST", "actions", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def bind(tenant: str, *refs: dict) -> dict:
    response = api(tenant, "PATCH", "triggers/post-login/bindings", json={"bindings": list(refs)})
    assert response.status_code == 200, response.text
    return response.json()


def test_create_answers_the_action_with_secret_names_never_values(tenant):
    action = create(tenant)
    assert action["name"] == "tell-version" and action["code"] == code(1)
    assert action["supported_triggers"] == [{"id": "post-login", "version": "v3"}]
    assert action["secrets"][0]["name"] == "COLOR" and "value" not in action["secrets"][0]
    assert action["all_changes_deployed"] is False and "deployed_version" not in action
    got = api(tenant, "GET", f"actions/{action['id']}")
    assert got.status_code == 200 and got.json() == action
    assert "teal" not in got.text


def test_list_filters_by_name_trigger_and_deployment_and_pages(tenant):
    first = create(tenant, "first")
    create(tenant, "second")
    api(tenant, "POST", f"actions/{first['id']}/deploy")
    listed = api(tenant, "GET", "actions").json()
    assert (listed["total"], listed["page"], listed["per_page"]) == (2, 0, 20)
    assert [a["name"] for a in listed["actions"]] == ["first", "second"]
    by_name = api(tenant, "GET", "actions", params={"actionName": "second"}).json()
    assert [a["name"] for a in by_name["actions"]] == ["second"]
    other = api(tenant, "GET", "actions", params={"triggerId": "credentials-exchange"}).json()
    assert other["actions"] == [] and other["total"] == 0
    deployed = api(tenant, "GET", "actions", params={"deployed": "true"}).json()
    assert [a["name"] for a in deployed["actions"]] == ["first"]
    page = api(tenant, "GET", "actions", params={"page": "1", "per_page": "1"}).json()
    assert [a["name"] for a in page["actions"]] == ["second"] and page["total"] == 2


def test_update_changes_the_draft_and_replaces_the_secrets(tenant):
    action = create(tenant)
    api(tenant, "POST", f"actions/{action['id']}/deploy")
    patch = {"code": code(2), "secrets": [{"name": "SHAPE", "value": "round"}]}
    updated = api(tenant, "PATCH", f"actions/{action['id']}", json=patch)
    assert updated.status_code == 200
    body = updated.json()
    assert body["code"] == code(2) and [s["name"] for s in body["secrets"]] == ["SHAPE"]
    assert body["all_changes_deployed"] is False
    assert body["deployed_version"]["code"] == code(1)  # what runs is unchanged until deployed
    assert "round" not in updated.text


def test_a_secret_listed_by_name_only_keeps_its_value(tenant):
    action = create(tenant)
    stamp = action["secrets"][0]["updated_at"]
    patch = {"secrets": [{"name": "COLOR"}, {"name": "SHAPE", "value": "round"}]}
    body = api(tenant, "PATCH", f"actions/{action['id']}", json=patch).json()
    assert body["secrets"][0] == {"name": "COLOR", "updated_at": stamp}
    assert body["secrets"][1]["name"] == "SHAPE"


def test_deploy_answers_202_with_the_new_version(tenant):
    action = create(tenant)
    deployed = api(tenant, "POST", f"actions/{action['id']}/deploy")
    assert deployed.status_code == 202
    version = deployed.json()
    assert version["number"] == 1 and version["deployed"] is True and version["status"] == "built"
    assert version["action_id"] == action["id"] and version["action"]["name"] == "tell-version"
    assert version["code"] == code(1) and version["secrets"][0]["name"] == "COLOR"
    assert "teal" not in deployed.text
    again = api(tenant, "POST", f"actions/{action['id']}/deploy").json()
    assert again["number"] == 2
    got = api(tenant, "GET", f"actions/{action['id']}").json()
    assert got["deployed_version"]["id"] == again["id"] and got["all_changes_deployed"] is True


def test_bindings_replace_the_list_in_order_by_id_or_by_name(tenant):
    one, two = create(tenant, "one", deploy=True), create(tenant, "two", deploy=True)
    assert one["deployed_version"]["number"] == 1  # deploy: true deploys at creation
    bound = bind(
        tenant,
        {"ref": {"type": "action_name", "value": "two"}, "display_name": "Second, first"},
        {"ref": {"type": "action_id", "value": one["id"]}},
    )["bindings"]
    assert [(b["display_name"], b["action"]["id"]) for b in bound] == [
        ("Second, first", two["id"]),
        ("one", one["id"]),
    ]
    assert all(b["trigger_id"] == "post-login" and b["id"] for b in bound)
    listed = api(tenant, "GET", "triggers/post-login/bindings").json()
    assert [b["id"] for b in listed["bindings"]] == [b["id"] for b in bound]
    assert listed["total"] == 2
    again = bind(tenant, {"ref": {"type": "binding_id", "value": bound[1]["id"]}})["bindings"]
    assert [b["id"] for b in again] == [bound[1]["id"]]  # the same binding kept its id
    assert api(tenant, "GET", "triggers/post-login/bindings").json()["total"] == 1


@pytest.mark.parametrize(
    ("refs", "message"),
    [
        ([{"ref": {"type": "action_name", "value": "nobody"}}], "No action matches"),
        ([{"ref": {"type": "action_name", "value": "draft"}}], "has not been deployed"),
        ([{"ref": {"type": "name", "value": "draft"}}], "Payload validation error"),
        ([{"display_name": "no ref"}], "Payload validation error"),
    ],
)
def test_a_binding_needs_a_deployed_action_it_can_find(tenant, refs, message):
    create(tenant, "draft")
    response = api(tenant, "PATCH", "triggers/post-login/bindings", json={"bindings": refs})
    assert response.status_code == 400 and message in response.json()["message"]


def test_an_action_of_another_trigger_cannot_be_bound_to_post_login(tenant):
    create(tenant, "m2m", supported_triggers=[{"id": "credentials-exchange"}], deploy=True)
    response = api(
        tenant,
        "PATCH",
        "triggers/post-login/bindings",
        json={"bindings": [{"ref": {"type": "action_name", "value": "m2m"}}]},
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("method", "path", "body", "needed"),
    [
        ("GET", "actions", None, "read:actions"),
        (
            "POST",
            "actions",
            {"name": "x", "supported_triggers": [{"id": "post-login"}]},
            "create:actions",
        ),
        ("GET", "actions/{id}", None, "read:actions"),
        ("PATCH", "actions/{id}", {"code": ""}, "update:actions"),
        ("DELETE", "actions/{id}", None, "delete:actions"),
        ("POST", "actions/{id}/deploy", None, "create:actions"),
        ("GET", "triggers/post-login/bindings", None, "read:actions"),
        ("PATCH", "triggers/post-login/bindings", {"bindings": []}, "update:actions"),
    ],
)
def test_each_call_needs_its_scope(tenant, method, path, body, needed):
    action = create(tenant)
    others = " ".join(s for s in ALL.split() + ["read:users"] if s != needed)
    path = path.format(id=action["id"])
    refused = api(tenant, method, path, scope=others, json=body)
    assert refused.status_code == 403
    assert refused.json() == {
        "statusCode": 403,
        "error": "Forbidden",
        "message": f"Insufficient scope, expected any of: {needed}",
        "errorCode": "insufficient_scope",
    }
    assert api(tenant, method, path, scope=needed, json=body).status_code < 300
    anonymous = http.request(method, f"{tenant}/api/v2/actions/{path}", json=body)
    assert anonymous.status_code == 401


@pytest.mark.parametrize(
    ("method", "suffix", "body", "message"),
    [
        ("GET", "", None, "The action does not exist."),
        ("PATCH", "", {"code": ""}, "Action not found and cannot be updated."),
        ("DELETE", "", None, "The action does not exist."),
        ("POST", "/deploy", None, "The action does not exist."),
    ],
)
def test_an_unknown_action_id_is_a_404(tenant, method, suffix, body, message):
    response = api(
        tenant, method, f"actions/00000000-0000-0000-0000-000000000000{suffix}", json=body
    )
    assert response.status_code == 404
    assert response.json()["message"] == message and response.json()["statusCode"] == 404


@pytest.mark.parametrize(
    "body",
    [
        {"supported_triggers": [{"id": "post-login"}]},
        {"name": "x"},
        {"name": "x", "supported_triggers": [{"id": "no-such-trigger"}]},
        {"name": "x", "supported_triggers": [{"id": "post-login"}], "secrets": [{"value": "v"}]},
        {"name": "x", "supported_triggers": [{"id": "post-login"}], "colour": "teal"},
        ["not", "an", "object"],
    ],
)
def test_create_refuses_a_body_auth0s_schema_refuses(tenant, body):
    response = api(tenant, "POST", "actions", json=body)
    assert response.status_code == 400
    assert response.json()["errorCode"] == "invalid_body"


def test_a_name_is_taken_once(tenant):
    create(tenant, "unique")
    again = api(
        tenant,
        "POST",
        "actions",
        json={"name": "unique", "supported_triggers": [{"id": "post-login"}]},
    )
    assert again.status_code == 409


def test_a_bound_action_is_deleted_only_with_force_which_unbinds_it(tenant):
    action = create(tenant, deploy=True)
    bind(tenant, {"ref": {"type": "action_id", "value": action["id"]}})
    assert api(tenant, "DELETE", f"actions/{action['id']}").status_code == 400
    assert (
        api(tenant, "DELETE", f"actions/{action['id']}", params={"force": "true"}).status_code
        == 204
    )
    assert api(tenant, "GET", f"actions/{action['id']}").status_code == 404
    assert api(tenant, "GET", "triggers/post-login/bindings").json()["bindings"] == []


def test_reset_forgets_the_actions_made_through_the_api(tenant):
    create(tenant)
    http.post(f"{tenant}/__dev/reset").raise_for_status()
    assert api(tenant, "GET", "actions").json()["total"] == 0


@needs_node
def test_logins_run_the_deployed_and_bound_version_only(tenant):
    def version() -> str | None:
        browser = Browser(tenant)
        return claims(browser.tokens(browser.begin("Ben Carter"))["id_token"]).get(CLAIM)

    action = create(tenant)
    assert version() is None  # created, not deployed nor bound: nothing runs
    api(tenant, "POST", f"actions/{action['id']}/deploy")
    assert version() is None  # deployed, not bound
    bind(tenant, {"ref": {"type": "action_id", "value": action["id"]}})
    assert version() == "1:teal"
    api(tenant, "PATCH", f"actions/{action['id']}", json={"code": code(2)})
    assert version() == "1:teal"  # the draft does not run
    api(tenant, "POST", f"actions/{action['id']}/deploy")
    assert version() == "2:teal"
    bind(tenant)
    assert version() is None


@needs_node
def test_bound_actions_replace_the_start_up_action(serve):
    tenant = serve(create_tenant({"DEVTENANT_ACTION": str(FIXTURE)}))

    def token() -> dict:
        browser = Browser(tenant)
        return claims(browser.tokens(browser.begin("Ben Carter"))["id_token"])

    assert "https://fixture.test/seen" in token()
    action = create(tenant, deploy=True)
    bind(tenant, {"ref": {"type": "action_id", "value": action["id"]}})
    assert "https://fixture.test/seen" not in token() and token()[CLAIM] == "1:teal"
