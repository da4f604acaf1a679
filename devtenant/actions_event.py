"""The `event` a post-login Action gets, shaped as Auth0's post-login event object documents it."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import request

from devtenant.clients import Client
from devtenant.store import CONNECTIONS, iso

# The profile an Action sees (Auth0's event.user); last_login and logins_count are not in it
# (the count is event.stats.logins_count).
USER_FIELDS = (
    "user_id",
    "email",
    "email_verified",
    "name",
    "nickname",
    "given_name",
    "family_name",
    "picture",
    "created_at",
    "updated_at",
    "identities",
)


def request_details(query: dict[str, str], body: dict[str, str]) -> dict[str, Any]:
    """event.request for the HTTP request being handled, with the query given (a login's
    /authorize parameters; on /continue, its own)."""
    details: dict[str, Any] = {
        "query": query,
        "body": body,
        "ip": request.remote_addr or "",
        "hostname": request.host.split(":")[0],
        "method": request.method,
    }
    if request.user_agent.string:
        details["user_agent"] = request.user_agent.string
    language = request.accept_languages.best
    if language:
        details["language"] = language
    return details


def connection_event(name: str) -> dict[str, Any]:
    """event.connection: social connections' strategy is their name; the database's is auth0."""
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]
    return {
        "id": f"con_{digest}",
        "name": name,
        "strategy": CONNECTIONS[name]["provider"],
        "metadata": {},
    }


def user_event(user: dict[str, Any]) -> dict[str, Any]:
    """event.user: the profile with both metadata objects always present."""
    body = {k: user[k] for k in USER_FIELDS if k in user}
    body["app_metadata"] = user.get("app_metadata") or {}
    body["user_metadata"] = user.get("user_metadata") or {}
    return body


def build(
    user: dict[str, Any],
    client: Client,
    txn: dict[str, Any],
    login: dict[str, Any],
    request_event: dict[str, Any],
) -> dict[str, Any]:
    """The whole event for one run. `login` holds the authentication: id (the transaction's),
    connection, auth_time, sid."""
    method = "pwd" if CONNECTIONS[login["connection"]]["provider"] == "auth0" else "federated"
    transaction: dict[str, Any] = {
        "id": login["id"],
        "locale": "en",
        "protocol": "oidc-basic-profile",
        "redirect_uri": txn["redirect_uri"],
        "requested_scopes": txn["scope"].split(),
        "response_mode": "query",
        "response_type": ["code"],
        "prompt": txn.get("prompts", []),
        "metadata": {},
    }
    if txn.get("state") is not None:
        transaction["state"] = txn["state"]
    if txn.get("login_hint"):
        transaction["login_hint"] = txn["login_hint"]
    event: dict[str, Any] = {
        "user": user_event(user),
        "stats": {"logins_count": int(user.get("logins_count", 0))},
        "client": {"client_id": client.client_id, "name": client.name, "metadata": {}},
        "connection": connection_event(login["connection"]),
        "request": request_event,
        "transaction": transaction,
        "authentication": {"methods": [{"name": method, "timestamp": iso(login["auth_time"])}]},
        "session": {"id": login["sid"]},
        "tenant": {"id": "devtenant"},
    }
    if txn.get("audience"):
        event["resource_server"] = {"identifier": txn["audience"]}
    return event
