"""The tenant's Actions: those created, deployed and bound through the Actions Management API, the
default Action file given at start-up, which of them run on a login, and the trigger's cache."""

from __future__ import annotations

import copy
import logging
import threading
import uuid
from pathlib import Path
from typing import Any

from devtenant.actions_runtime import ActionSpec, find_node
from devtenant.store import iso

logger = logging.getLogger("devtenant.actions")

POST_LOGIN = "post-login"
# Auth0's trigger ids (ActionTriggerTypeEnum); only post-login runs here.
TRIGGERS = (
    "post-login",
    "credentials-exchange",
    "pre-user-registration",
    "post-user-registration",
    "post-change-password",
    "send-phone-message",
    "password-reset-post-challenge",
)
DEFAULT_ACTION_ID = "startup-default"


class ActionError(Exception):
    """A Management API request the store refuses, with Auth0's status and message."""

    def __init__(self, status: int, message: str) -> None:
        """Remember the HTTP status and message."""
        super().__init__(message)
        self.status = status
        self.message = message


def not_found() -> ActionError:
    """Auth0's answer for an action id it does not have (its reference's wording)."""
    return ActionError(404, "The action does not exist.")


def listed_secrets(
    old: dict[str, dict[str, Any]], listed: list[dict[str, str]], stamp: str
) -> dict[str, dict[str, Any]]:
    """An action's secrets after a request listing them: the list replaces the old one, and a
    secret listed by name only keeps its value (unconfirmed: Auth0's tools always send values)."""
    secrets = {}
    for secret in listed:
        kept = old.get(secret["name"])
        if "value" in secret or kept is None:
            secrets[secret["name"]] = {"value": secret.get("value", ""), "updated_at": stamp}
        else:
            secrets[secret["name"]] = kept
    return secrets


class ActionsStore:
    """Actions, their versions and bindings, locked (the server is threaded)."""

    def __init__(self, config: dict[str, Any]) -> None:
        """The start-up default Action (DEVTENANT_ACTION and _SECRETS) and whether Node is here."""
        self.lock = threading.RLock()
        default = config.get("DEVTENANT_ACTION")
        self.default_file = Path(default).resolve() if default else None
        self.default_secrets = {
            str(k): str(v) for k, v in (config.get("DEVTENANT_ACTION_SECRETS") or {}).items()
        }
        self.timeout = float(config.get("DEVTENANT_ACTION_TIMEOUT", 20.0))
        self.node = find_node()
        if self.node is None:
            logger.warning(
                "node is not on PATH: post-login Actions will not run, and people log in "
                "without them (install Node.js 18+ to run them)"
            )
        elif self.default_file is not None:
            logger.info("post-login Action at start-up: %s", self.default_file)
        self.clear()

    def clear(self) -> None:
        """Forget every Action made through the API, its bindings and the cache (the start-up
        default stays)."""
        with self.lock:
            self.actions: dict[str, dict[str, Any]] = {}
            self.bindings: dict[str, list[dict[str, Any]]] = {t: [] for t in TRIGGERS}
            self.cache: dict[str, dict[str, Any]] = {}

    # --- what runs ------------------------------------------------------------------------

    def pipeline(self) -> list[ActionSpec]:
        """The post-login Actions a login runs, in order: the bound ones (their deployed
        versions), or else the start-up default; none without Node."""
        if self.node is None:
            return []
        with self.lock:
            bound = [self.actions[b["action_id"]] for b in self.bindings[POST_LOGIN]]
            specs = [
                ActionSpec(
                    action_id=a["id"],
                    name=a["name"],
                    code=a["deployed"]["code"],
                    filename=f"/actions/{a['name']}.js",
                    secrets=dict(a["deployed"]["secret_values"]),
                )
                for a in bound
            ]
        if specs or self.default_file is None:
            return specs
        return [self.default_spec()]

    def default_spec(self) -> ActionSpec:
        """The start-up file as it is now (read at every login, so edits apply at once)."""
        assert self.default_file is not None
        try:
            code = self.default_file.read_text(encoding="utf-8")
        except OSError as exc:
            code = f"throw new Error({str(exc)!r});"
        return ActionSpec(
            action_id=DEFAULT_ACTION_ID,
            name=self.default_file.name,
            code=code,
            filename=str(self.default_file),
            secrets=dict(self.default_secrets),
        )

    # --- the trigger's cache (Auth0 scopes api.cache to the trigger) --------------------------

    def cache_entries(self, now_ms: int) -> dict[str, dict[str, Any]]:
        """Entries not yet expired."""
        with self.lock:
            for key in [k for k, v in self.cache.items() if v["expires_at"] <= now_ms]:
                del self.cache[key]
            return copy.deepcopy(self.cache)

    def apply_cache(self, commands: list[dict[str, Any]]) -> None:
        """Keep what an Action set or deleted with api.cache."""
        with self.lock:
            for command in commands:
                if command.get("type") == "cache_set":
                    self.cache[str(command["key"])] = {
                        "value": str(command["value"]),
                        "expires_at": int(command["expires_at"]),
                    }
                elif command.get("type") == "cache_delete":
                    self.cache.pop(str(command["key"]), None)

    # --- the Management API's objects -------------------------------------------------------

    def get(self, action_id: str) -> dict[str, Any]:
        """One action's record (a copy), or a 404."""
        with self.lock:
            action = self.actions.get(action_id)
            if action is None:
                raise not_found()
            return copy.deepcopy(action)

    def all(self) -> list[dict[str, Any]]:
        """Every action's record, oldest first."""
        with self.lock:
            return copy.deepcopy(list(self.actions.values()))

    def create(self, fields: dict[str, Any], now: float) -> dict[str, Any]:
        """A new action from validated fields; a name already taken is a 409."""
        with self.lock:
            self._refuse_taken_name(fields["name"], None)
            action = {
                "id": str(uuid.uuid4()),
                "code": "",
                "dependencies": [],
                "runtime": "node22",
                "secrets": {},
                "created_at": iso(now),
                "deployed": None,
                "versions": [],
            }
            self._change(action, fields, now)
            self.actions[action["id"]] = action
            return copy.deepcopy(action)

    def update(self, action_id: str, fields: dict[str, Any], now: float) -> dict[str, Any]:
        """Change an action's draft: a bound action keeps running its deployed version."""
        with self.lock:
            action = self.actions.get(action_id)
            if action is None:
                raise ActionError(404, "Action not found and cannot be updated.")
            if "name" in fields:
                self._refuse_taken_name(fields["name"], action_id)
            self._change(action, fields, now)
            return copy.deepcopy(action)

    def _refuse_taken_name(self, name: str, action_id: str | None) -> None:
        # Unconfirmed: Auth0 documents no 409 here, but binds by name (ref type action_name), so
        # two actions cannot share one; its exact answer to a duplicate is not documented.
        if any(a["name"] == name and a["id"] != action_id for a in self.actions.values()):
            raise ActionError(409, f"An action with the name '{name}' already exists.")

    @staticmethod
    def _change(action: dict[str, Any], fields: dict[str, Any], now: float) -> None:
        stamp = iso(now)
        for key, value in fields.items():
            if key == "secrets":
                action["secrets"] = listed_secrets(action["secrets"], value, stamp)
            else:
                action[key] = copy.deepcopy(value)
        action["updated_at"] = stamp
        action["all_changes_deployed"] = False

    def delete(self, action_id: str, force: bool) -> None:
        """Delete an action; a bound one only with force (its bindings go too)."""
        with self.lock:
            if action_id not in self.actions:
                raise ActionError(404, "The action does not exist.")
            bound = [
                t for t, bs in self.bindings.items() if any(b["action_id"] == action_id for b in bs)
            ]
            if bound and not force:
                # Auth0: "An action must be unbound from all triggers before it can be deleted";
                # its status and wording for that refusal are not documented.
                raise ActionError(
                    400,
                    "The action is bound to a trigger: unbind it first, or delete it with "
                    "force=true.",
                )
            for trigger in bound:
                self.bindings[trigger] = [
                    b for b in self.bindings[trigger] if b["action_id"] != action_id
                ]
            del self.actions[action_id]

    def deploy(self, action_id: str, now: float) -> dict[str, Any]:
        """Make the draft a new immutable version and deploy it (what bindings run)."""
        with self.lock:
            action = self.actions.get(action_id)
            if action is None:
                raise not_found()
            stamp = iso(now)
            for version in action["versions"]:
                version["deployed"] = False
            version = {
                "id": str(uuid.uuid4()),
                "number": len(action["versions"]) + 1,
                "code": action["code"],
                "dependencies": copy.deepcopy(action["dependencies"]),
                "runtime": action["runtime"],
                "supported_triggers": copy.deepcopy(action["supported_triggers"]),
                "secret_values": {n: s["value"] for n, s in action["secrets"].items()},
                "secrets": [
                    {"name": n, "updated_at": s["updated_at"]} for n, s in action["secrets"].items()
                ],
                "deployed": True,
                "created_at": stamp,
                "updated_at": stamp,
                "built_at": stamp,
            }
            action["versions"].append(version)
            action["deployed"] = version
            action["all_changes_deployed"] = True
            return copy.deepcopy(action)

    def bindings_of(self, trigger: str) -> list[dict[str, Any]]:
        """A trigger's bindings, in the order they run."""
        with self.lock:
            return copy.deepcopy(self.bindings[trigger])

    def bind(self, trigger: str, refs: list[dict[str, Any]], now: float) -> list[dict[str, Any]]:
        """Replace a trigger's bindings with these (each {ref, display_name?}), in this order."""
        with self.lock:
            old = {b["action_id"]: b for b in self.bindings[trigger]}
            by_binding = {b["id"]: b for b in self.bindings[trigger]}
            fresh = []
            for entry in refs:
                action = self._resolve(entry["ref"], by_binding)
                if action["supported_triggers"][0]["id"] != trigger:
                    raise ActionError(
                        400,
                        f"The action '{action['name']}' does not support the trigger '{trigger}'.",
                    )
                if action["deployed"] is None:
                    # The start of Auth0's message, as a deploy tool reports it; the rest is ours.
                    raise ActionError(
                        400, "Trying to create a binding for an action that has not been deployed."
                    )
                kept = old.get(action["id"])
                fresh.append(
                    {
                        "id": kept["id"] if kept else str(uuid.uuid4()),
                        "trigger_id": trigger,
                        "action_id": action["id"],
                        "display_name": entry.get("display_name") or action["name"],
                        "created_at": kept["created_at"] if kept else iso(now),
                        "updated_at": iso(now),
                    }
                )
            self.bindings[trigger] = fresh
            if trigger == POST_LOGIN and fresh and self.default_file is not None:
                logger.info("post-login Actions are bound: the start-up Action no longer runs")
            return copy.deepcopy(fresh)

    def _resolve(
        self, ref: dict[str, str], by_binding: dict[str, dict[str, Any]]
    ) -> dict[str, Any]:
        kind, value = ref["type"], ref["value"]
        if kind == "binding_id":
            binding = by_binding.get(value)
            action = self.actions.get(binding["action_id"]) if binding else None
        elif kind == "action_id":
            action = self.actions.get(value)
        else:
            action = next((a for a in self.actions.values() if a["name"] == value), None)
        if action is None:
            # Unconfirmed wording: Auth0 documents only a 400 for this request.
            raise ActionError(400, f"No action matches the binding reference {kind} '{value}'.")
        return action
