"""The login page's accounts: those `login_hint` names first and marked, and a button name for
each that no other account on the page shares.

Auth0's Universal Login pre-fills the identifier `login_hint` carries. Here people pick an account
from a list instead, so the hint orders and marks the list: a proof sign-in (the extension sends
the account's email, and its connection) should not be a guess among look-alikes. One email can
name several accounts when no connection narrows the list (Maya's two and the look-alike): each
is marked and none is chosen for the person.

Button names must differ, or a screen reader (and a test pressing a button by name) cannot tell
two accounts apart: an unlink makes a separate user out of a secondary, usually under the same
person's name. A name that no other account on the page has keeps the plain "Continue as <name>".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from devtenant.store import CONNECTIONS


def choices(accounts: list[dict[str, Any]], login_hint: str) -> list[dict[str, Any]]:
    """The accounts to list, hinted ones first (otherwise in the given order), each with its
    button's `label` and whether the hint named it (`hinted`)."""
    hint = login_hint.strip().casefold()
    listed = [
        {**a, "name": " ".join(str(a["name"]).split()), "hinted": bool(hint) and _named(a, hint)}
        for a in accounts
    ]
    listed.sort(key=lambda a: not a["hinted"])  # stable: the given order otherwise
    _label(listed)
    return listed


def _named(account: dict[str, Any], hint: str) -> bool:
    """Whether the hint names this account: its email, in any case."""
    return str(account.get("email") or "").casefold() == hint


def _plain(account: dict[str, Any]) -> str:
    return f"Continue as {account['name']}"


def _method(account: dict[str, Any]) -> str:
    return _detailed(account, account.get("email") or account["identity"])


def _identity(account: dict[str, Any]) -> str:
    # The identity differs between any two accounts on the page (one per user, or per identity
    # on a connection): the last resort when name, method and email are all alike.
    return _detailed(account, ", ".join(filter(None, (account.get("email"), account["identity"]))))


def _detailed(account: dict[str, Any], detail: str) -> str:
    method = CONNECTIONS[account["connection"]]["method"]
    return f"{_plain(account)} with {method} ({detail})"


LABELS: tuple[Callable[[dict[str, Any]], str], ...] = (_plain, _method, _identity)


def _label(listed: list[dict[str, Any]]) -> None:
    """Give each account the plainest label that no other account's label matches; two labels
    match when they read the same aloud (case and spacing aside)."""
    level = [0] * len(listed)
    while True:
        for account, at in zip(listed, level, strict=True):
            account["label"] = LABELS[at](account)
        counts = Counter(_spoken(a["label"]) for a in listed)
        alike = [
            i
            for i, a in enumerate(listed)
            if counts[_spoken(a["label"])] > 1 and level[i] < len(LABELS) - 1
        ]
        if not alike:
            return
        for i in alike:
            level[i] += 1


def _spoken(label: str) -> str:
    return " ".join(label.casefold().split())
