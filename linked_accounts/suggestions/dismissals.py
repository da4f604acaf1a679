"""Dismissed suggestions: "Not now" hides one for SUGGEST_SNOOZE_DAYS, "Not mine" for good.

Kept per Auth0 user in the side store shared by every session and instance (`per_user`), so a
dismissal holds on every device the person signs in on. Not in the person's Auth0 `user_metadata`:
that would need `update:current_user_metadata` (which a tenant may withhold), cost a Management
API call per dismissal, and show our bookkeeping to every other application of the tenant (and let
the person, or any of those applications, edit it).
"""

from __future__ import annotations

import time

from .. import metrics, per_user
from .settings import SuggestSettings

KIND = "dismissed"
REASONS = ("not_now", "not_mine")
KEEP_SECONDS = 10 * 365 * 24 * 3600  # "Not mine" is for good; the store still needs a bound
MAX_ENTRIES = 50  # a person has a handful of duplicates; a flood of forms must not grow it


def hidden(user_id: str) -> dict[str, str]:
    """Return the suggestions (other users' ids) the user dismissed and that are still hidden,
    each with its reason ("not_now" or "not_mine": the page tells them apart)."""
    now = time.time()
    return {
        k: str(v.get("reason"))
        for k, v in _entries(user_id).items()
        if v.get("until") is None or v["until"] > now
    }


def dismiss(user_id: str, other: str, reason: str, settings: SuggestSettings) -> None:
    """Hide the suggestion `other` from `user_id`: for SNOOZE_DAYS, or for good."""
    still_hidden = hidden(user_id)
    entries = {k: v for k, v in _entries(user_id).items() if k in still_hidden}
    until = None if reason == "not_mine" else time.time() + settings.snooze_days * 86400
    entries[other] = {"reason": reason, "until": until}
    while len(entries) > MAX_ENTRIES:
        entries.pop(next(iter(entries)))
    per_user.put(KIND, user_id, entries, KEEP_SECONDS)
    metrics.suggestion_dismissed(reason)


def restore(user_id: str) -> int:
    """Show every dismissed suggestion again; return how many there were."""
    count = len(hidden(user_id))
    per_user.delete(KIND, user_id)
    return count


def _entries(user_id: str) -> dict[str, dict]:
    value = per_user.get(KIND, user_id)
    return dict(value) if isinstance(value, dict) else {}
