"""What every remote provider call gets: a concurrency limit that learns from 429s,
retries with exponential backoff and full jitter, Retry-After honoured, a circuit
breaker, and metrics per provider.

Transient failures (429, 5xx, timeouts, connection errors) are retried; other 4xx are
the request's fault and are not. When the peer keeps failing, the circuit opens and
calls fail fast for a cool-down instead of each waiting out its retries.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
from prometheus_client import Counter, Histogram

CALLS = Counter("leadflow_provider_calls_total", "Provider HTTP calls", ["provider", "result"])
LATENCY = Histogram(
    "leadflow_provider_call_seconds",
    "Provider HTTP call latency",
    ["provider"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)
TRANSIENT = frozenset({408, 425, 429, 500, 502, 503, 504})


class ProviderError(RuntimeError):
    """The provider call failed for good (after its retries, or not retryable)."""


class CircuitOpen(ProviderError):
    """The provider failed too often lately; calls fail fast until the cool-down ends.

    `down_for`: seconds since the provider's outage began (its circuit first opened
    with no successful call since), for the outage budget.
    """

    def __init__(self, message: str, down_for: float = 0.0) -> None:
        super().__init__(message)
        self.down_for = down_for


class AdaptiveLimit:
    """At most `limit` calls in flight; a 429 lowers the limit to what the peer took.

    `with limit as ahead:` gives the number of calls already in flight when this one was
    sent: if the peer refuses it, it took at most those (the calls sent before it), which
    is a tighter bound than the calls in flight when the refusal comes back, since by
    then later calls may have taken the places of finished ones.
    """

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self.in_flight = 0
        self._cond = threading.Condition()

    def __enter__(self) -> int:
        with self._cond:
            while self.in_flight >= self.limit:
                self._cond.wait()
            ahead = self.in_flight
            self.in_flight += 1
        return ahead

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self.in_flight -= 1
            self._cond.notify()

    def too_many(self, ahead: int) -> None:
        """The peer said 429 to a call sent with `ahead` others in flight: it accepts at
        most those, and at most the calls still in flight minus this one."""
        with self._cond:
            self.limit = max(1, min(self.limit, ahead, self.in_flight - 1))


class CircuitBreaker:
    def __init__(
        self, failures: int = 5, cooldown: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.threshold = failures
        self.cooldown = cooldown
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self.down_since: float | None = None  # first opening since the last success
        self._lock = threading.Lock()

    def check(self) -> None:
        with self._lock:
            if self.opened_at is None:
                return
            now = self.clock()
            if now - self.opened_at < self.cooldown:
                down_for = now - (self.down_since if self.down_since is not None else now)
                raise CircuitOpen(
                    "the provider is failing; calls resume after a cool-down", down_for
                )
            self.opened_at = None  # half-open: the next call decides

    def record(self, ok: bool) -> None:
        with self._lock:
            if ok:
                self.failures = 0
                self.down_since = None
                return
            self.failures += 1
            if self.failures >= self.threshold:
                self.opened_at = self.clock()
                if self.down_since is None:
                    self.down_since = self.opened_at


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


class ProviderClient:
    """POSTs JSON for one provider with all of the above."""

    def __init__(
        self,
        name: str,
        concurrency: int = 8,
        timeout: float = 30.0,
        attempts: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        breaker: CircuitBreaker | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name = name
        self.limit = AdaptiveLimit(concurrency)
        self.attempts = attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.breaker = breaker or CircuitBreaker()
        self.sleep = sleep
        self.http = httpx.Client(timeout=timeout, transport=transport)
        # When the first 429 came back, and how many calls sent after it got one too
        # (what the adaptive limit exists to keep at zero).
        self.first_429: float | None = None
        self.late_429s = 0

    def post_json(self, url: str, payload: Any, headers: dict[str, str] | None = None) -> Any:
        """The JSON answer; ProviderError when the call fails for good."""
        response = self.post(url, payload, headers)
        try:
            return response.json()
        except ValueError as exc:
            raise ProviderError(f"{self.name} answered no JSON: {exc}") from None

    def post(self, url: str, payload: Any, headers: dict[str, str] | None = None) -> httpx.Response:
        """The successful response; ProviderError when the call fails for good."""
        last_error = "no attempt made"
        for attempt in range(self.attempts):
            self.breaker.check()
            wait: float | None = None
            started = time.perf_counter()
            try:
                with self.limit as ahead:
                    sent = time.monotonic()
                    response = self.http.post(url, json=payload, headers=headers)
                    if response.status_code == 429:
                        self.limit.too_many(ahead)
                        if self.first_429 is None:
                            self.first_429 = time.monotonic()
                        elif sent > self.first_429:
                            self.late_429s += 1
            except httpx.TransportError as exc:  # timeouts, refused, reset
                last_error = f"{type(exc).__name__}: {exc}"
                CALLS.labels(self.name, "transport_error").inc()
                self.breaker.record(False)
            else:
                LATENCY.labels(self.name).observe(time.perf_counter() - started)
                status = response.status_code
                if status < 400:
                    CALLS.labels(self.name, "ok").inc()
                    self.breaker.record(True)
                    return response
                CALLS.labels(self.name, str(status)).inc()
                last_error = f"HTTP {status}: {response.text[:200]}"
                if status not in TRANSIENT:
                    self.breaker.record(True)  # the peer is up; the request was wrong
                    raise ProviderError(f"{self.name} refused the request: {last_error}")
                if status != 429:
                    self.breaker.record(False)
                wait = retry_after_seconds(response.headers.get("retry-after"))
            if attempt + 1 < self.attempts:
                if wait is None:  # exponential backoff with full jitter
                    wait = random.uniform(0, min(self.max_backoff, self.backoff * 2**attempt))
                self.sleep(min(wait, self.max_backoff))
        raise ProviderError(f"{self.name} failed after {self.attempts} attempts: {last_error}")

    def close(self) -> None:
        self.http.close()
