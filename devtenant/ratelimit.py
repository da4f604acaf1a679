"""Sliding-window rate limits, keyed by user, on the tenant's (shiftable) clock."""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check plus the values for the x-ratelimit-* headers."""

    allowed: bool
    limit: int
    remaining: int
    reset: int

    def headers(self) -> dict[str, str]:
        """The three headers Auth0 sends on Management API responses."""
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-reset": str(self.reset),
        }


class RateLimiter:
    """At most `limit` accepted calls per key in any 60 s window; rejected calls do not count."""

    def __init__(self) -> None:
        """Empty counters."""
        self.lock = threading.Lock()
        self.hits: dict[str, deque[float]] = {}

    def clear(self) -> None:
        """Forget every counter."""
        with self.lock:
            self.hits.clear()

    def check(self, key: str, limit: int, now: float, consume: bool = True) -> Verdict:
        """Record a call for key (if allowed and consume) and say whether it may proceed."""
        with self.lock:
            window = self.hits.setdefault(key, deque())
            while window and window[0] <= now - WINDOW_SECONDS:
                window.popleft()
            allowed = len(window) < limit
            if allowed and consume:
                window.append(now)
            remaining = max(0, limit - len(window))
            # Reset is when the oldest counted call leaves the window (a slot frees up).
            reset = math.ceil(window[0] + WINDOW_SECONDS) if window else math.ceil(now)
            return Verdict(allowed, limit, remaining, reset)
