"""The Actions Management API: create, read, update, delete and deploy actions, and bind them to a
trigger, in Auth0's wire format and with its scopes (read:, create:, update:, delete:actions; deploy
is create:actions and bindings update:actions, per Auth0's Management API reference)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from devtenant.actions_store import TRIGGERS, ActionError
from devtenant.management import authorized
from devtenant.management_errors import api_error
from devtenant.state import tenant

bp = Blueprint("actions_api", __name__, url_prefix="/api/v2/actions")

ACTION_FIELDS = {"name", "supported_triggers", "code", "dependencies", "runtime", "secrets"}


def invalid_body(detail: str) -> Response:
    """Auth0's 400 for a body its schema refuses."""
    return api_error(400, f"Payload validation error: {detail}", "invalid_body")


def refused(exc: ActionError) -> Response:
    """The store's refusal as Auth0's error body."""
    return api_error(exc.status, exc.message)


def body_object() -> dict[str, Any] | None:
    """The JSON object body, or None."""
    data = request.get_json(silent=True) if request.is_json else None
    return data if isinstance(data, dict) else None


def action_fields(data: dict[str, Any], creating: bool) -> dict[str, Any] | Response:
    """The action fields of a create or update body, checked; or Auth0's 400."""
    allowed = ACTION_FIELDS | ({"deploy"} if creating else set())
    extra = sorted(set(data) - allowed)
    if extra:
        return invalid_body(f"'Additional properties not allowed: {','.join(extra)}'.")
    for name in ("name", "supported_triggers") if creating else ():
        if name not in data:
            return invalid_body(f"'Missing required property: {name}'.")
    checks = {
        "name": lambda v: isinstance(v, str) and 0 < len(v) <= 255,
        "code": lambda v: isinstance(v, str),
        "runtime": lambda v: isinstance(v, str) and v.startswith("node"),
        "supported_triggers": lambda v: (
            isinstance(v, list)
            and len(v) >= 1
            and all(isinstance(t, dict) and t.get("id") in TRIGGERS for t in v)
        ),
        "dependencies": lambda v: (
            isinstance(v, list)
            and all(isinstance(d, dict) and isinstance(d.get("name"), str) for d in v)
        ),
        "secrets": lambda v: (
            isinstance(v, list)
            and all(
                isinstance(s, dict)
                and isinstance(s.get("name"), str)
                and 0 < len(s["name"]) <= 128
                and isinstance(s.get("value", ""), str)
                for s in v
            )
        ),
        "deploy": lambda v: isinstance(v, bool),
    }
    for name, value in data.items():
        if not checks[name](value):
            return invalid_body(f"'Invalid value' on property {name}.")
    return {k: v for k, v in data.items() if k != "deploy"}


def secret_names(secrets: dict[str, dict[str, Any]]) -> list[dict[str, str]]:
    """Secrets as Auth0 shows them: names and dates, never values."""
    return [{"name": name, "updated_at": s["updated_at"]} for name, s in secrets.items()]


def action_summary(action: dict[str, Any]) -> dict[str, Any]:
    """The short form a version names its action by."""
    return {k: action[k] for k in ("id", "name", "supported_triggers", "all_changes_deployed")} | {
        "created_at": action["created_at"],
        "updated_at": action["updated_at"],
    }


def version_json(action: dict[str, Any], version: dict[str, Any]) -> dict[str, Any]:
    """An action version as Auth0 answers it (secret values left out)."""
    body = {k: v for k, v in version.items() if k != "secret_values"}
    return {
        **body,
        "action_id": action["id"],
        "status": "built",
        "errors": [],
        "action": action_summary(action),
    }


def action_json(action: dict[str, Any]) -> dict[str, Any]:
    """An action as Auth0 answers it: secret names only."""
    body = {
        **action_summary(action),
        "code": action["code"],
        "dependencies": action["dependencies"],
        "runtime": action["runtime"],
        "secrets": secret_names(action["secrets"]),
        "status": "built",
        "built_at": action["updated_at"],
    }
    if action["deployed"] is not None:
        body["deployed_version"] = version_json(action, action["deployed"])
    return body


def binding_json(binding: dict[str, Any]) -> dict[str, Any]:
    """A binding with its action, as Auth0 lists them."""
    action = tenant().actions.get(binding["action_id"])
    body = {k: binding[k] for k in ("id", "trigger_id", "display_name")}
    return {
        **body,
        "action": action_json(action),
        "created_at": binding["created_at"],
        "updated_at": binding["updated_at"],
    }


def paging() -> tuple[int, int] | Response:
    """page and per_page from the query (Auth0: first page 0, 20 per page by default)."""
    try:
        page = int(request.args.get("page", "0"))
        per_page = int(request.args.get("per_page", "20"))
    except ValueError:
        page = per_page = -1
    if page < 0 or not 0 < per_page <= 100:
        return api_error(
            400,
            "Query validation error: 'Invalid value' on property page or per_page.",
            "invalid_query_string",
        )
    return page, per_page


@bp.get("/actions")
def list_actions() -> Response:
    """GET /api/v2/actions/actions with Auth0's filters."""
    denied = authorized("read:actions")
    if denied:
        return denied
    pages = paging()
    if isinstance(pages, Response):
        return pages
    page, per_page = pages
    args = request.args
    found = [
        a
        for a in tenant().actions.all()
        if ("actionName" not in args or a["name"] == args["actionName"])
        and (
            "triggerId" not in args
            or any(t["id"] == args["triggerId"] for t in a["supported_triggers"])
        )
        and ("deployed" not in args or (a["deployed"] is not None) == (args["deployed"] == "true"))
    ]
    chunk = found[page * per_page : (page + 1) * per_page]
    return jsonify(
        {
            "actions": [action_json(a) for a in chunk],
            "total": len(found),
            "page": page,
            "per_page": per_page,
        }
    )


@bp.post("/actions")
def create_action() -> Response:
    """POST /api/v2/actions/actions (with `deploy: true`, deployed at once)."""
    denied = authorized("create:actions")
    if denied:
        return denied
    data = body_object()
    if data is None:
        return invalid_body("'Expected type object'.")
    fields = action_fields(data, creating=True)
    if isinstance(fields, Response):
        return fields
    st = tenant()
    try:
        action = st.actions.create(fields, st.now())
        if data.get("deploy"):
            action = st.actions.deploy(action["id"], st.now())
    except ActionError as exc:
        return refused(exc)
    response = jsonify(action_json(action))
    response.status_code = 201
    return response


@bp.get("/actions/<action_id>")
def get_action(action_id: str) -> Response:
    """GET /api/v2/actions/actions/{id}."""
    denied = authorized("read:actions")
    if denied:
        return denied
    try:
        return jsonify(action_json(tenant().actions.get(action_id)))
    except ActionError as exc:
        return refused(exc)


@bp.patch("/actions/<action_id>")
def update_action(action_id: str) -> Response:
    """PATCH /api/v2/actions/actions/{id}: changes the draft, not what runs until deployed."""
    denied = authorized("update:actions")
    if denied:
        return denied
    data = body_object()
    if data is None:
        return invalid_body("'Expected type object'.")
    fields = action_fields(data, creating=False)
    if isinstance(fields, Response):
        return fields
    st = tenant()
    try:
        return jsonify(action_json(st.actions.update(action_id, fields, st.now())))
    except ActionError as exc:
        return refused(exc)


@bp.delete("/actions/<action_id>")
def delete_action(action_id: str) -> Response:
    """DELETE /api/v2/actions/actions/{id}[?force=true]."""
    denied = authorized("delete:actions")
    if denied:
        return denied
    try:
        tenant().actions.delete(action_id, request.args.get("force") == "true")
    except ActionError as exc:
        return refused(exc)
    return Response(status=204)


@bp.post("/actions/<action_id>/deploy")
def deploy_action(action_id: str) -> Response:
    """POST /api/v2/actions/actions/{id}/deploy: 202 with the new version, now what runs."""
    denied = authorized("create:actions")
    if denied:
        return denied
    st = tenant()
    try:
        action = st.actions.deploy(action_id, st.now())
    except ActionError as exc:
        return refused(exc)
    response = jsonify(version_json(action, action["deployed"]))
    response.status_code = 202
    return response


def known_trigger(trigger_id: str) -> Response | None:
    """Auth0's 400 for a trigger id outside its enum."""
    if trigger_id in TRIGGERS:
        return None
    return api_error(
        400, "Path validation error: 'Invalid value' on property triggerId.", "invalid_uri"
    )


@bp.get("/triggers/<trigger_id>/bindings")
def list_bindings(trigger_id: str) -> Response:
    """GET /api/v2/actions/triggers/{triggerId}/bindings, in the order they run."""
    denied = authorized("read:actions") or known_trigger(trigger_id)
    if denied:
        return denied
    pages = paging()
    if isinstance(pages, Response):
        return pages
    page, per_page = pages
    bindings = tenant().actions.bindings_of(trigger_id)
    chunk = bindings[page * per_page : (page + 1) * per_page]
    return jsonify(
        {
            "bindings": [binding_json(b) for b in chunk],
            "total": len(bindings),
            "page": page,
            "per_page": per_page,
        }
    )


def binding_refs(data: dict[str, Any] | None) -> list[dict[str, Any]] | Response:
    """The `bindings` of a PATCH body, checked; or Auth0's 400."""
    if data is None:
        return invalid_body("'Expected type object'.")
    extra = sorted(set(data) - {"bindings"})
    if extra:
        return invalid_body(f"'Additional properties not allowed: {','.join(extra)}'.")
    refs = data.get("bindings")
    if not isinstance(refs, list):
        return invalid_body("'Missing required property: bindings'.")
    for entry in refs:
        ref = entry.get("ref") if isinstance(entry, dict) else None
        if (
            not isinstance(ref, dict)
            or ref.get("type") not in ("binding_id", "action_id", "action_name")
            or not isinstance(ref.get("value"), str)
            or not isinstance(entry.get("display_name", ""), str)
        ):
            return invalid_body("'Invalid value' on property bindings.")
    return refs


@bp.patch("/triggers/<trigger_id>/bindings")
def update_bindings(trigger_id: str) -> Response:
    """PATCH /api/v2/actions/triggers/{triggerId}/bindings: the list given replaces the old one."""
    denied = authorized("update:actions") or known_trigger(trigger_id)
    if denied:
        return denied
    refs = binding_refs(body_object())
    if isinstance(refs, Response):
        return refs
    st = tenant()
    try:
        bindings = st.actions.bind(trigger_id, refs, st.now())
    except ActionError as exc:
        return refused(exc)
    return jsonify({"bindings": [binding_json(b) for b in bindings]})
