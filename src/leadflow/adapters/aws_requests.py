"""Count the AWS requests boto3 clients make, by service and operation (botocore's
`before-call` event), for the request figures of docs/scaling.md and for tests that
pin how many requests an adapter call costs."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class RequestCounter:
    """Requests per "service.Operation" (e.g. "sqs.SendMessageBatch"), thread-safe."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def attach(self, *clients: Any) -> None:
        """Count every request these boto3 clients make from now on."""
        for client in clients:
            client.meta.events.register("before-call.*.*", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        name = f"{model.service_model.service_name}.{model.name}"
        with self._lock:
            self.counts[name] += 1

    def take(self) -> dict[str, int]:
        """The counts since the last take (sorted by name), then start again from zero."""
        with self._lock:
            taken = dict(sorted(self.counts.items()))
            self.counts.clear()
        return taken

    def total(self) -> int:
        with self._lock:
            return sum(self.counts.values())
