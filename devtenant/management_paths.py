"""Which Management API operation a request is, read from its raw (still percent-encoded) path."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from flask import request

USERS_PREFIX = "/api/v2/users"


def raw_segments() -> list[str] | None:
    """Path segments after /api/v2/users, each percent-decoded from the RAW request path.

    PATH_INFO is already decoded, so an id holding %2F would be split in the wrong place.
    """
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw:
        path = raw.split("?", 1)[0]
        if "://" in path:  # absolute-form request target
            path = urlsplit(path).path
        prefix = request.script_root + USERS_PREFIX
    else:
        path, prefix = request.path, USERS_PREFIX
    if not path.startswith(prefix + "/"):
        return None
    return [unquote(segment) for segment in path[len(prefix) + 1 :].split("/")]


def operation(method: str, segments: list[str] | None) -> str | None:
    """Which Management API operation a request is (also the fault endpoint name)."""
    if not segments or not segments[0]:
        return None
    if len(segments) == 1:
        return {"GET": "get_user", "DELETE": "delete_user", "PATCH": "update_user"}.get(method)
    if segments[1] != "identities":
        return None
    if len(segments) == 2 and method == "POST":
        return "link_identity"
    if len(segments) == 4 and method == "DELETE" and segments[2] and segments[3]:
        return "delete_identity"
    return None
