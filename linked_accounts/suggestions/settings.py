"""The configuration of link suggestions and merging: its own keys in `app.config`.

The wiring hands `problems` to `settings.load_settings`, so that one start-up message names every
missing value; `load()` gives the values to the modules that use them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..settings import flag

DEFAULTS: Mapping[str, Any] = {
    # Suggest linking the other Auth0 users with the same verified email (needs the M2M client
    # AUTH0_M2M_CLIENT_ID/_SECRET with read:users).
    "LINKED_ACCOUNTS_SUGGEST_LINKS": False,
    # Copy the merged account's user_metadata into the primary's (the primary wins) before
    # linking; sign-ins then ask for update:current_user_metadata too.
    "LINKED_ACCOUNTS_MERGE_METADATA": False,
    # Copy the merged account's app_metadata keys the primary lacks too (roles, plan: what the
    # site keeps about an account), with the M2M client, which then needs read:users and
    # update:users_app_metadata. Off: the confirmation says that what the site kept is not kept.
    "LINKED_ACCOUNTS_MERGE_APP_METADATA": False,
    # How long "Not now" hides a suggestion ("Not mine" hides it for good).
    "LINKED_ACCOUNTS_SUGGEST_SNOOZE_DAYS": 30,
}


@dataclass(frozen=True)
class SuggestSettings:
    suggest_links: bool = False
    merge_metadata: bool = False
    merge_app_metadata: bool = False
    snooze_days: int = 30


def load(config: Mapping[str, Any]) -> SuggestSettings:
    """Read its keys (start-up has already checked them with `problems`)."""
    return SuggestSettings(
        suggest_links=_flag(config, "LINKED_ACCOUNTS_SUGGEST_LINKS"),
        merge_metadata=_flag(config, "LINKED_ACCOUNTS_MERGE_METADATA"),
        merge_app_metadata=_flag(config, "LINKED_ACCOUNTS_MERGE_APP_METADATA"),
        snooze_days=_days(config),
    )


def problems(config: Mapping[str, Any]) -> list[str]:
    """Name what is missing or wrong in its keys, for the one start-up message."""
    found = []
    if _days(config) < 0:
        found.append("LINKED_ACCOUNTS_SUGGEST_SNOOZE_DAYS must be a whole number of days")
    m2m = all(
        str(config.get(k) or "").strip() for k in ("AUTH0_M2M_CLIENT_ID", "AUTH0_M2M_CLIENT_SECRET")
    )
    if _flag(config, "LINKED_ACCOUNTS_SUGGEST_LINKS") and not m2m:
        found.append(
            "LINKED_ACCOUNTS_SUGGEST_LINKS needs AUTH0_M2M_CLIENT_ID and AUTH0_M2M_CLIENT_SECRET "
            "(a machine-to-machine application authorized for the Management API with "
            "read:users: only Auth0's users-by-email finds accounts with the same email)"
        )
    if _flag(config, "LINKED_ACCOUNTS_MERGE_APP_METADATA") and not m2m:
        found.append(
            "LINKED_ACCOUNTS_MERGE_APP_METADATA needs AUTH0_M2M_CLIENT_ID and "
            "AUTH0_M2M_CLIENT_SECRET (a machine-to-machine application with read:users and "
            "update:users_app_metadata: a person's own token cannot touch app_metadata)"
        )
    return found


def _flag(config: Mapping[str, Any], name: str) -> bool:
    return flag(config.get(name), DEFAULTS[name])


def _days(config: Mapping[str, Any]) -> int:
    value = config.get(
        "LINKED_ACCOUNTS_SUGGEST_SNOOZE_DAYS", DEFAULTS["LINKED_ACCOUNTS_SUGGEST_SNOOZE_DAYS"]
    )
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1
