"""Run one post-login Action with Node (devtenant/action_runner.js), as Auth0's runtime does: the
Action gets `event` and `api`, and what it asks of `api` comes back as commands for the tenant to
apply. The Action's own HTTP calls (its `fetch` to the Management API) reach this tenant over
real HTTP while it waits: the server is threaded, and no lock is held here."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RUNNER = Path(__file__).with_name("action_runner.js")
logger = logging.getLogger("devtenant.actions")

# Auth0 ends a flow whose Actions run longer than this (its Actions limitations page); what it
# puts in error_description then is not documented for Actions: this is Auth0 support's wording
# for extensibility code that runs out of time.
DEFAULT_TIMEOUT = 20.0
TIMED_OUT = "Request to Webtask exceeded allowed execution time"


@dataclass(frozen=True)
class ActionSpec:
    """One Action as it runs: its code (a deployed version, or the start-up file) and secrets."""

    action_id: str
    name: str
    code: str
    filename: str
    secrets: dict[str, str] = field(default_factory=dict)


@dataclass
class Outcome:
    """What one run asked for: Auth0's commands in order, the Action's console lines, or the
    error that ended it (then nothing it asked for is applied)."""

    commands: list[dict[str, Any]] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    error: str | None = None

    def of(self, kind: str) -> list[dict[str, Any]]:
        """The commands of one type, in the order the Action gave them."""
        return [c for c in self.commands if c.get("type") == kind]


def find_node() -> str | None:
    """The `node` executable on PATH, if there is one."""
    return shutil.which("node")


def run(node: str, spec: ActionSpec, phase: str, event: dict[str, Any], **context: Any) -> Outcome:
    """Run `onExecutePostLogin` (phase "execute") or `onContinuePostLogin` ("continue").

    `context` holds what the runner needs besides the event: cache, now, issuer, continue_state,
    continue_params, timeout.
    """
    timeout = float(context.pop("timeout", DEFAULT_TIMEOUT))
    payload = {
        "code": spec.code,
        "filename": spec.filename,
        "phase": phase,
        "event": event,
        "secrets": spec.secrets,
        **context,
    }
    try:
        done = subprocess.run(  # noqa: S603 - our own runner script, the Action on stdin
            [node, str(RUNNER)],
            input=json.dumps(payload),
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=timeout,
            env={"PATH": os.environ.get("PATH", "")},
            check=False,
        )
    except subprocess.TimeoutExpired:
        logger.warning("Action %s ran longer than %.0f s: the login fails", spec.name, timeout)
        return Outcome(error=TIMED_OUT)
    except OSError as exc:
        return Outcome(error=f"The Action {spec.name} could not be started: {exc.strerror}")
    if done.stderr.strip():
        logger.warning("Action %s (node): %s", spec.name, done.stderr.strip()[-2000:])
    result = last_json_line(done.stdout)
    if result is None:
        return Outcome(error=f"The Action {spec.name} stopped (exit status {done.returncode})")
    outcome = Outcome(
        commands=[c for c in result.get("commands", []) if isinstance(c, dict)],
        logs=[str(line) for line in result.get("logs", [])],
        error=(result.get("error") or {}).get("message"),
    )
    for line in outcome.logs:
        logger.info("Action %s: %s", spec.name, line)
    return outcome


def last_json_line(stdout: str) -> dict[str, Any] | None:
    """The runner's result: the last line of its output that is a JSON object."""
    for line in reversed(stdout.splitlines()):
        if line.strip():
            try:
                value = json.loads(line)
            except ValueError:
                return None
            return value if isinstance(value, dict) else None
    return None
