"""`flask linked-accounts install-action`: put the at-login door's post-login Action on an Auth0
tenant with the Management API: create it (or update it when its code or secrets differ), deploy
it, and bind it to the post-login trigger after the Actions already bound there. Run it again
with the same inputs and it changes nothing ("up to date"); `--dry-run` says what it would do.

The M2M client it runs as (AUTH0_M2M_CLIENT_ID/_SECRET) needs these Management API scopes, as
Auth0's API reference lists them per endpoint:
  read:actions    GET /api/v2/actions/actions, GET /api/v2/actions/triggers/post-login/bindings
  create:actions  POST /api/v2/actions/actions, POST /api/v2/actions/actions/{id}/deploy
  update:actions  PATCH /api/v2/actions/actions/{id},
                  PATCH /api/v2/actions/triggers/post-login/bindings
The Action itself calls the Management API with the client in its M2M_CLIENT_ID secret, which
needs `read:users update:users`. By default that is the same client; give the Action a client of
its own (`--action-m2m-client-id`) so that the one in the Action cannot deploy Actions.

Secrets and idempotence: Auth0 never answers a secret's value, only its name. So the Action's
code as installed ends with a comment line holding a SHA-256 fingerprint of the secrets (names
and values); the next run compares it, and the secret names Auth0 lists, with what it was given.
A fingerprint reveals nothing usable: the secrets it covers include random values (the linking
secret, the M2M client secret), so it cannot be reversed or guessed value by value. A secret
changed in the Dashboard since is not noticed (the fingerprint still matches): change it here.

Keeping the other bindings: PATCH .../bindings replaces the whole list, so the list is read
first and sent back in its order, each by its action's id and display name, with this Action
last. Installed (Marketplace) Actions keep their configuration on the Action, not the binding.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

import click
import requests
from flask import current_app
from flask.cli import with_appcontext

from ..auth0.m2m import ClientCredentials
from ..auth0.management import DEFAULT_TIMEOUT, Forbidden, ManagementError, send
from ..settings import is_loopback, tenant_url

ACTION_FILE = Path(__file__).with_name("action") / "link-accounts.js"
DEFAULT_NAME = "linked-accounts-at-login"
TRIGGER = "post-login"
TRIGGER_VERSION = "v3"
RUNTIME = "node22"
SCOPES = "read:actions create:actions update:actions"
# The last line of the code as installed: the fingerprint of the secrets it was installed with.
FINGERPRINT_MARK = "// linked-accounts install-action, secrets sha256:"
BUILD_WAIT = 60.0  # seconds to wait for Auth0 to build a draft before deploying it
BUILD_POLL = 1.0


class InstallError(Exception):
    """The Action could not be installed as asked; the message says why and what to do."""


class TenantLike(Protocol):
    """What the install needs of the tenant (linked_accounts.settings.Settings has it all)."""

    @property
    def issuer_url(self) -> str: ...  # where calls and the token request go
    @property
    def audience(self) -> str: ...  # the Management API's audience
    @property
    def timeout(self) -> tuple[float, float]: ...
    @property
    def m2m_client_id(self) -> str: ...
    @property
    def m2m_client_secret(self) -> str: ...


@dataclass(frozen=True)
class Tenant:
    """The tenant to install on, from the app's config (AUTH0_DOMAIN, AUTH0_MANAGEMENT_DOMAIN,
    AUTH0_M2M_CLIENT_ID/_SECRET)."""

    issuer_url: str
    canonical_url: str
    m2m_client_id: str
    m2m_client_secret: str
    timeout: tuple[float, float] = DEFAULT_TIMEOUT

    @property
    def audience(self) -> str:
        return f"{self.canonical_url}/api/v2/"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Tenant:
        def text(name: str) -> str:
            return str(config.get(name) or "").strip()

        try:
            issuer = tenant_url(text("AUTH0_DOMAIN"))
            canonical = tenant_url(text("AUTH0_MANAGEMENT_DOMAIN") or text("AUTH0_DOMAIN"))
        except ValueError as exc:
            raise InstallError(f"AUTH0_DOMAIN / AUTH0_MANAGEMENT_DOMAIN: {exc}") from exc
        if not (text("AUTH0_M2M_CLIENT_ID") and text("AUTH0_M2M_CLIENT_SECRET")):
            raise InstallError(
                "AUTH0_M2M_CLIENT_ID and AUTH0_M2M_CLIENT_SECRET are not set: a machine-to-machine "
                f"client granted {SCOPES} on the Management API installs the Action"
            )
        timeout = (
            float(config.get("AUTH0_CONNECT_TIMEOUT") or DEFAULT_TIMEOUT[0]),
            float(config.get("AUTH0_READ_TIMEOUT") or DEFAULT_TIMEOUT[1]),
        )
        return cls(
            issuer, canonical, text("AUTH0_M2M_CLIENT_ID"), text("AUTH0_M2M_CLIENT_SECRET"), timeout
        )


def install_action(
    settings_like: TenantLike,
    *,
    action_file: str | Path = ACTION_FILE,
    secrets: Mapping[str, str],
    name: str = DEFAULT_NAME,
    dry_run: bool = False,
    http: requests.Session | None = None,
    echo: Callable[[str], Any] = print,
) -> list[str]:
    """Create or update, deploy and bind the post-login Action; return the changes made (with
    `dry_run`, those that would be made, and none is). Raises InstallError, or a ManagementError
    subclass for an answer from Auth0 it cannot go on from."""
    secrets = {str(k): str(v) for k, v in secrets.items()}
    source = Path(action_file).read_text(encoding="utf-8")
    code = _with_fingerprint(source, secrets)
    own_http = http is None
    api = _ActionsApi(settings_like, http or requests.Session())
    changes: list[str] = []

    def change(what: str) -> None:
        changes.append(what)
        echo(f"would {what}" if dry_run else what)

    try:
        action = api.find(name)
        if action is None:
            change(
                f"create action {name!r} ({TRIGGER} {TRIGGER_VERSION}, {RUNTIME}, secrets: "
                f"{', '.join(sorted(secrets))})"
            )
            if not dry_run:
                action = api.create(name, code, secrets)
        else:
            differs = _differences(action, source, secrets)
            if differs:
                change(f"update action {name!r}: {', '.join(differs)}")
                if not dry_run:
                    action = api.update(str(action["id"]), code, secrets)
        if changes or action is None or action.get("all_changes_deployed") is not True:
            change(f"deploy action {name!r}")
            if not dry_run:
                assert action is not None
                api.deploy(name, action)
        bindings = api.bindings()
        action_id = None if action is None else str(action["id"])
        if action_id is None or not any(_bound_id(b) == action_id for b in bindings):
            after = [str(b.get("display_name") or "") for b in bindings]
            change(
                f"bind action {name!r} to {TRIGGER}"
                + (f" after {', '.join(after)}" if after else "")
            )
            if not dry_run:
                assert action_id is not None
                api.bind(bindings, action_id, name)
    finally:
        if own_http:
            api.http.close()
    if not changes:
        echo(f"action {name!r}: up to date")
    return changes


class _ActionsApi:
    """The few Actions endpoints of the Management API, with a client-credentials token."""

    def __init__(self, tenant: TenantLike, http: requests.Session) -> None:
        self.base = f"{tenant.issuer_url.rstrip('/')}/api/v2"
        self.timeout = tenant.timeout
        self.http = http
        self.m2m = ClientCredentials(
            f"{tenant.issuer_url.rstrip('/')}/oauth/token",
            tenant.m2m_client_id,
            tenant.m2m_client_secret,
            tenant.audience,
            http=http,
            timeout=tenant.timeout,
            scope=SCOPES,
        )

    def call(self, method: str, *segments: str, **kwargs: Any) -> Any:
        url = "/".join([self.base, *(quote(str(s), safe="") for s in segments)])
        try:
            token = self.m2m.token()
        except ManagementError as exc:
            raise InstallError(
                f"no Management API token for AUTH0_M2M_CLIENT_ID ({exc.status or exc}): the "
                f"client needs a grant for the Management API with {SCOPES}"
            ) from exc
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        what = f"{method} {'/'.join(s for s in segments if s in _LABELS)}"
        try:
            return send(
                self.http, method, url, what, timeout=self.timeout, headers=headers, **kwargs
            )
        except Forbidden as exc:
            raise InstallError(
                f"{what}: Auth0 refused ({exc.message}); the M2M client needs {SCOPES}"
            ) from exc

    def find(self, name: str) -> dict[str, Any] | None:
        body = self.call(
            "GET", "actions", "actions", params={"actionName": name, "triggerId": TRIGGER}
        )
        actions = body.get("actions") if isinstance(body, dict) else None
        if not isinstance(actions, list):
            raise InstallError("GET actions: the answer has no list of actions")
        found = [a for a in actions if isinstance(a, dict) and a.get("name") == name]
        return found[0] if found else None

    def create(self, name: str, code: str, secrets: Mapping[str, str]) -> dict[str, Any]:
        return self._action(
            self.call(
                "POST",
                "actions",
                "actions",
                json={
                    "name": name,
                    "supported_triggers": [{"id": TRIGGER, "version": TRIGGER_VERSION}],
                    "code": code,
                    "runtime": RUNTIME,
                    "secrets": _secret_list(secrets),
                },
            )
        )

    def update(self, action_id: str, code: str, secrets: Mapping[str, str]) -> dict[str, Any]:
        body = {"code": code, "runtime": RUNTIME, "secrets": _secret_list(secrets)}
        return self._action(self.call("PATCH", "actions", "actions", action_id, json=body))

    def deploy(self, name: str, action: dict[str, Any]) -> None:
        """Deploy once Auth0 has built the draft (a draft still building cannot be deployed)."""
        deadline = time.monotonic() + BUILD_WAIT
        while action.get("status") not in (None, "built"):
            if action.get("status") == "failed":
                raise InstallError(f"Auth0 could not build action {name!r}: see its Dashboard page")
            if time.monotonic() > deadline:
                raise InstallError(f"action {name!r} still not built after {BUILD_WAIT:.0f} s")
            time.sleep(BUILD_POLL)
            action = self.find(name) or action
        self.call("POST", "actions", "actions", str(action["id"]), "deploy")

    def bindings(self) -> list[dict[str, Any]]:
        """Every binding of the trigger, in the order they run."""
        found: list[dict[str, Any]] = []
        page = 0
        while True:
            params = {"page": page, "per_page": 20} if page else None
            body = self.call("GET", "actions", "triggers", TRIGGER, "bindings", params=params)
            items = body.get("bindings") if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise InstallError("GET bindings: the answer has no list of bindings")
            found.extend(b for b in items if isinstance(b, dict))
            total = body.get("total")
            if not items or not isinstance(total, int) or len(found) >= total:
                return found
            page += 1

    def bind(self, bindings: list[dict[str, Any]], action_id: str, name: str) -> None:
        kept = [
            {"ref": {"type": "action_id", "value": _bound_id(b)}, "display_name": b["display_name"]}
            for b in bindings
            if _bound_id(b) and b.get("display_name")
        ]
        if len(kept) != len(bindings):
            raise InstallError("GET bindings: a binding without its action's id or display name")
        ours = {"ref": {"type": "action_id", "value": action_id}, "display_name": name}
        self.call(
            "PATCH", "actions", "triggers", TRIGGER, "bindings", json={"bindings": [*kept, ours]}
        )

    @staticmethod
    def _action(body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not body.get("id"):
            raise InstallError("Auth0's answer is not an action")
        return body


_LABELS = {"actions", "triggers", "bindings", "deploy", TRIGGER}


def _bound_id(binding: dict[str, Any]) -> str | None:
    action = binding.get("action")
    return str(action["id"]) if isinstance(action, dict) and action.get("id") else None


def _secret_list(secrets: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in sorted(secrets.items())]


def _fingerprint(secrets: Mapping[str, str]) -> str:
    canonical = json.dumps(sorted(secrets.items()), separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(b"linked-accounts action secrets\n" + canonical.encode()).hexdigest()


def _with_fingerprint(source: str, secrets: Mapping[str, str]) -> str:
    return f"{source.rstrip()}\n\n{FINGERPRINT_MARK}{_fingerprint(secrets)}\n"


def _differences(action: dict[str, Any], source: str, secrets: Mapping[str, str]) -> list[str]:
    """What of the Action on the tenant differs from what is asked: its code, runtime, secrets."""
    remote = str(action.get("code") or "").rstrip()
    head, _, last = remote.rpartition("\n")
    remote_print = last[len(FINGERPRINT_MARK) :] if last.startswith(FINGERPRINT_MARK) else None
    remote_source = head if remote_print is not None else remote
    differs = []
    if remote_source.rstrip() != source.rstrip():
        differs.append("code")
    if action.get("runtime") != RUNTIME:
        differs.append("runtime")
    names = {str(s.get("name")) for s in action.get("secrets") or () if isinstance(s, dict)}
    if remote_print != _fingerprint(secrets) or names != set(secrets):
        differs.append("secrets")
    return differs


def action_domain(canonical_url: str) -> str:
    """The Action's AUTH0_DOMAIN secret: a bare host for https, the origin as is otherwise (a
    development tenant on http://127.0.0.1:port)."""
    parts = urlsplit(canonical_url)
    return parts.netloc if parts.scheme == "https" else f"{parts.scheme}://{parts.netloc}"


def action_secrets(
    tenant: Tenant,
    *,
    linking_secret: str,
    linking_url: str,
    client_ids: tuple[str, ...] = (),
    not_now_days: int = 30,
    m2m_client_id: str = "",
    m2m_client_secret: str = "",
    identities_claim: str = "",
    identities_client_ids: tuple[str, ...] = (),
) -> dict[str, str]:
    """The Action's secrets (see the block at the top of link-accounts.js)."""
    secrets = {
        "LINKING_SECRET": linking_secret,
        "LINKING_URL": linking_url,
        "AUTH0_DOMAIN": action_domain(tenant.canonical_url),
        "M2M_CLIENT_ID": m2m_client_id or tenant.m2m_client_id,
        "M2M_CLIENT_SECRET": m2m_client_secret or tenant.m2m_client_secret,
        "NOT_NOW_DAYS": str(not_now_days),
    }
    if client_ids:
        secrets["CLIENT_IDS"] = ",".join(client_ids)
    if identities_claim:
        secrets["IDENTITIES_CLAIM"] = identities_claim
        if identities_client_ids:
            secrets["IDENTITIES_CLIENT_IDS"] = ",".join(identities_client_ids)
    return secrets


def _check_linking_url(url: str) -> str:
    parts = urlsplit(url)
    if (
        not parts.hostname
        or parts.scheme not in ("https", "http")
        or (parts.scheme == "http" and not is_loopback(parts.hostname))
    ):
        raise click.BadParameter(
            "must be the page's absolute https URL", param_hint="--linking-url"
        )
    return url


def _check_claim_name(name: str) -> str:
    """A claim Auth0 puts in the ID token: a namespaced URL outside Auth0's own namespaces (a
    claim Auth0 refuses is left out of the token without a word, and the page would read the
    Management API on every first view after all)."""
    parts = urlsplit(name)
    host = (parts.hostname or "").lower()
    own = ("auth0.com", "webtask.io", "webtask.run")
    if (
        parts.scheme not in ("https", "http")
        or not host
        or any(host == d or host.endswith(f".{d}") for d in own)
    ):
        raise click.BadParameter(
            "must be a namespaced URL outside auth0.com, webtask.io and webtask.run, e.g. "
            "https://linked-accounts/identities",
            param_hint="--identities-claim",
        )
    return name


@click.command("install-action")
@click.option(
    "--linking-url",
    required=True,
    help="The at-login page's absolute URL, e.g. https://app.example.com/account/at-login.",
)
@click.option(
    "--client-id",
    "client_ids",
    multiple=True,
    help="A client id the Action acts for (repeat for several); none: every client.",
)
@click.option(
    "--not-now-days",
    type=click.IntRange(min=0),
    default=30,
    show_default=True,
    help="Days before asking again after 'not now'.",
)
@click.option(
    "--identities-claim",
    default=None,
    metavar="NAME",
    help="Put the person's identities in the ID token under this claim, e.g. "
    "https://linked-accounts/identities: the page's first view after a sign-in then reads no "
    "Management API. Default: this app's LINKED_ACCOUNTS_IDENTITIES_CLAIM; empty: no claim.",
)
@click.option(
    "--identities-client-id",
    "identities_client_ids",
    multiple=True,
    metavar="ID",
    help="A client id to add that claim for (repeat for several); none: the --client-id "
    "clients, or every client.",
)
@click.option("--name", default=DEFAULT_NAME, show_default=True, help="The Action's name.")
@click.option(
    "--action-m2m-client-id",
    default="",
    help="The M2M client the Action uses (read:users update:users); default AUTH0_M2M_CLIENT_ID.",
)
@click.option(
    "--action-m2m-client-secret",
    default="",
    envvar="LINKED_ACCOUNTS_ACTION_M2M_CLIENT_SECRET",
    help="Its secret (or set LINKED_ACCOUNTS_ACTION_M2M_CLIENT_SECRET).",
)
@click.option("--dry-run", is_flag=True, help="Say what would change, and change nothing.")
@with_appcontext
def install_action_command(
    linking_url: str,
    client_ids: tuple[str, ...],
    not_now_days: int,
    identities_claim: str | None,
    identities_client_ids: tuple[str, ...],
    name: str,
    action_m2m_client_id: str,
    action_m2m_client_secret: str,
    dry_run: bool,
) -> None:
    """Create or update, deploy and bind the at-login post-login Action on the tenant."""
    config = current_app.config
    linking_secret = str(config.get("LINKED_ACCOUNTS_AT_LOGIN_SECRET") or "")
    if not linking_secret:
        raise click.ClickException("LINKED_ACCOUNTS_AT_LOGIN_SECRET is not set")
    if bool(action_m2m_client_id) != bool(action_m2m_client_secret):
        raise click.UsageError("give --action-m2m-client-id and its secret together")
    # The app reads the claim its config names: by default the Action writes that one.
    app_claim = str(config.get("LINKED_ACCOUNTS_IDENTITIES_CLAIM") or "").strip()
    claim = app_claim if identities_claim is None else identities_claim.strip()
    identities_client_ids = tuple(c.strip() for c in identities_client_ids if c.strip())
    if identities_client_ids and not claim:
        raise click.UsageError("--identities-client-id needs --identities-claim")
    if claim:
        _check_claim_name(claim)
    if app_claim != claim:
        click.echo(
            f"note: this app reads LINKED_ACCOUNTS_IDENTITIES_CLAIM={app_claim or '(unset)'}, "
            f"the Action writes {claim or 'no claim'}",
            err=True,
        )
    try:
        tenant = Tenant.from_config(config)
        secrets = action_secrets(
            tenant,
            linking_secret=linking_secret,
            linking_url=_check_linking_url(linking_url),
            client_ids=tuple(c.strip() for c in client_ids if c.strip()),
            not_now_days=not_now_days,
            m2m_client_id=action_m2m_client_id,
            m2m_client_secret=action_m2m_client_secret,
            identities_claim=claim,
            identities_client_ids=identities_client_ids,
        )
        install_action(tenant, secrets=secrets, name=name, dry_run=dry_run, echo=click.echo)
    except (InstallError, ManagementError) as exc:
        raise click.ClickException(str(exc)) from exc
