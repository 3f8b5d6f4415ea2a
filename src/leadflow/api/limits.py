"""Per-user request rate limits and failed-login throttling, kept in this process."""

from __future__ import annotations

import math
import threading
import time
from collections import deque


class RateLimiter:
    """A token bucket per key: `per_minute` requests, refilled continuously; 0 = off."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> int | None:
        """None when the request may go ahead, else seconds to wait."""
        if self.per_minute <= 0:
            return None
        rate = self.per_minute / 60.0
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return None
            self._buckets[key] = (tokens, now)
            return max(1, math.ceil((1.0 - tokens) / rate))


class LoginThrottle:
    """At most `attempts` failed logins per key in a sliding minute."""

    _MAX_KEYS = 10_000

    def __init__(self, attempts: int, window: float = 60.0) -> None:
        self.attempts = attempts
        self.window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> int | None:
        now = time.monotonic()
        with self._lock:
            failures = self._failures.get(key)
            if not failures:
                return None
            while failures and now - failures[0] > self.window:
                failures.popleft()
            if len(failures) < self.attempts:
                return None
            return max(1, math.ceil(self.window - (now - failures[0])))

    def failed(self, key: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._failures) > self._MAX_KEYS:
                # many names or addresses: forget the ones whose failures have expired
                self._failures = {
                    k: q for k, q in self._failures.items() if q and now - q[-1] <= self.window
                }
            self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)
