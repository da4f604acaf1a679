"""Auth0's rate limits, on the tenant's (shiftable) clock: a token bucket per endpoint group (its
current model, per plan) and the older per-user window of 60 s, kept as an optional extra."""

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
    # Seconds until one call is allowed again, when the limit can say so (a bucket can).
    retry_after: int | None = None

    def headers(self) -> dict[str, str]:
        """The three headers Auth0 sends on Management API responses."""
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-reset": str(self.reset),
        }


class TokenBucket:
    """Buckets of `burst` calls, each refilled at `per_second` up to `burst` again.

    The headers follow Auth0's description of its buckets: the limit is the bucket's size, the
    remaining count the whole calls left in it, and the reset the Unix time at which the bucket
    is full again (not when the next call is allowed: that is `retry_after`).
    """

    def __init__(self) -> None:
        """Empty buckets (a bucket starts full)."""
        self.lock = threading.Lock()
        self.levels: dict[str, tuple[float, float]] = {}  # key -> (calls left, at)

    def clear(self) -> None:
        """Fill every bucket again."""
        with self.lock:
            self.levels.clear()

    def check(
        self, key: str, burst: int, per_second: float, now: float, consume: bool = True
    ) -> Verdict:
        """Take a call from key's bucket (if one is left and consume) and say whether it may go."""
        with self.lock:
            level, at = self.levels.get(key, (float(burst), now))
            level = min(float(burst), level + max(0.0, now - at) * per_second)
            allowed = level >= 1
            if allowed and consume:
                level -= 1
            self.levels[key] = (level, now)
            missing = burst - level
            full_in = missing / per_second if per_second > 0 and missing > 0 else 0.0
            retry_after = None
            if not allowed and per_second > 0:
                retry_after = max(1, math.ceil((1 - level) / per_second))
            return Verdict(allowed, burst, math.floor(level), math.ceil(now + full_in), retry_after)


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
