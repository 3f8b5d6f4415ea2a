"""The Outbox port in memory, written from its docstring (ports.Outbox)."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..ports import OUTBOX_CLAIM_SECONDS, OutboxEntry


@dataclass(slots=True)
class _Row:
    id: str
    owner: str
    payload: dict[str, Any]
    status: str = "pending"
    attempts: int = 0
    next_at: float = 0.0
    claimed_at: float | None = None
    channel: str | None = None
    last_error: str | None = None


class MemoryOutbox:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._rows: dict[str, _Row] = {}  # by idempotency key
        self._alarms: dict[str, bool] = {}
        self._lock = threading.Lock()

    def add_many(self, owner: str, entries: Mapping[str, Mapping[str, Any]], now: str) -> int:
        with self._lock:
            new = [key for key in dict.fromkeys(entries) if key not in self._rows]
            for key in new:
                self._rows[key] = _Row(key, owner, copy.deepcopy(dict(entries[key])))
            return len(new)

    def claim(self, limit: int = 20, now: float | None = None) -> list[OutboxEntry]:
        now = self.clock() if now is None else now
        claimed: list[OutboxEntry] = []
        with self._lock:
            for row in self._rows.values():
                if len(claimed) >= limit:
                    break
                due = row.status == "pending" and row.next_at <= now
                abandoned = (
                    row.status == "sending"
                    and row.claimed_at is not None
                    and row.claimed_at < now - OUTBOX_CLAIM_SECONDS
                )
                if due or abandoned:
                    row.status, row.claimed_at = "sending", now
                    row.attempts += 1
                    claimed.append(
                        OutboxEntry(row.id, row.owner, copy.deepcopy(row.payload), row.attempts)
                    )
        return claimed

    def finish(
        self, entry: OutboxEntry, status: str, channel: str | None, error: str | None
    ) -> None:
        with self._lock:
            row = self._rows[entry.id]
            row.status, row.channel, row.last_error = status, channel, error

    def retry_at(
        self, entries: Sequence[OutboxEntry], when: float, error: str | None, counts: bool = True
    ) -> None:
        with self._lock:
            for entry in entries:
                row = self._rows[entry.id]
                row.status, row.next_at, row.claimed_at = "pending", when, None
                if not counts:
                    row.attempts -= 1
                if error is not None:
                    row.last_error = error

    def counts(self) -> dict[str, int]:
        with self._lock:
            found: dict[str, int] = {}
            for row in self._rows.values():
                found[row.status] = found.get(row.status, 0) + 1
            return found

    def alarm_raised(self, name: str) -> bool:
        with self._lock:
            return self._alarms.get(name, False)

    def set_alarm(self, name: str, raised: bool) -> bool:
        with self._lock:
            if self._alarms.get(name, False) == raised and name in self._alarms:
                return False
            self._alarms[name] = raised
            return True
