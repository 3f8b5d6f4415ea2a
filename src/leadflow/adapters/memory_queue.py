"""The Queue port in memory: the fake for tests, behaving exactly like SqliteQueue.

Both adapters pass one contract suite (tests/integration/test_queue_contract.py),
including a property test that runs random operations on both and compares every
result. So this module copies SQLite's behaviour where it shows:

* ids are one more than the largest id present (an INTEGER PRIMARY KEY without
  AUTOINCREMENT), so the id of a deleted newest message is handed out again;
* bodies are stored as JSON text, so a received body is a fresh JSON round trip;
* a receive looks at the first `max_messages` visible messages in id order; those that
  have used all their receives move to the DLQ there and take up their slots in the
  batch, and a negative `max_messages` (or `limit`) means no limit, as in SQL's LIMIT;
* a receipt stays good until the message is received again, fails or dies, even
  after its lease has run out.

Every method takes one lock, so threads may share an instance.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..clock import iso
from ..ports import DeadLetter, Message
from .sqlite_queue import EXPIRED

Clock = Callable[[], float]

__all__ = ["MemoryQueue"]


@dataclass(slots=True)
class _Entry:
    id: int
    owner: str | None
    body: str  # JSON text, as SQLite stores it
    visible_at: float
    created_at: str
    receive_count: int = 0
    receipt: str | None = None
    last_error: str | None = None
    dead_at: str | None = None


def _limited(items: list[_Entry], limit: int) -> list[_Entry]:
    """SQL's LIMIT: a negative limit means none."""
    return items if limit < 0 else items[:limit]


class MemoryQueue:
    """One named queue (and its DLQ) in a dict."""

    def __init__(self, name: str, max_receive_count: int = 3, clock: Clock = time.time) -> None:
        self.name = name
        self.max_receive_count = max_receive_count
        self.clock = clock
        self._lock = threading.Lock()
        # Ids only grow while entries are inserted, so the dict stays in id order.
        self._entries: dict[int, _Entry] = {}

    def send_many(self, bodies: Sequence[Mapping[str, Any]], owner: str | None = None) -> list[int]:
        now = self.clock()
        texts = [json.dumps(body) for body in bodies]  # all or nothing, like a transaction
        with self._lock:
            first = max(self._entries, default=0) + 1
            ids = list(range(first, first + len(texts)))
            for message_id, text in zip(ids, texts, strict=True):
                self._entries[message_id] = _Entry(message_id, owner, text, now, iso(now))
        return ids

    def bury(self, bodies: Sequence[Mapping[str, Any]], owner: str | None, error: str) -> list[int]:
        ids = self.send_many(bodies, owner)
        now = iso(self.clock())
        with self._lock:
            for message_id in ids:
                entry = self._entries[message_id]
                entry.last_error, entry.dead_at = error, now
        return ids

    def receive(self, max_messages: int, visibility_timeout: float) -> list[Message]:
        now = self.clock()
        received: list[Message] = []
        with self._lock:
            ready = [e for e in self._entries.values() if e.dead_at is None and e.visible_at <= now]
            for entry in _limited(ready, max_messages):
                if entry.receive_count >= self.max_receive_count:
                    # received often enough without an ack: it goes to the DLQ instead
                    entry.last_error = entry.last_error or EXPIRED.format(count=entry.receive_count)
                    entry.dead_at = iso(now)
                    entry.receipt = None
                    continue
                entry.receive_count += 1
                entry.visible_at = now + visibility_timeout
                entry.receipt = secrets.token_hex(8)
                received.append(
                    Message(
                        entry.id,
                        entry.receipt,
                        json.loads(entry.body),
                        entry.receive_count,
                        entry.owner,
                    )
                )
        return received

    def _leased(self, message: Message) -> _Entry | None:
        entry = self._entries.get(message.id)
        if entry is None or entry.dead_at is not None or entry.receipt is None:
            return None
        return entry if entry.receipt == message.receipt else None

    def delete(self, message: Message) -> bool:
        with self._lock:
            if self._leased(message) is None:
                return False
            del self._entries[message.id]
            return True

    def delete_many(self, messages: Sequence[Message]) -> int:
        with self._lock:
            deleted = 0
            for message in messages:
                if self._leased(message) is not None:
                    del self._entries[message.id]
                    deleted += 1
            return deleted

    def change_visibility(self, message: Message, timeout: float) -> bool:
        now = self.clock()
        with self._lock:
            entry = self._leased(message)
            if entry is None:
                return False
            entry.visible_at = now + timeout
            return True

    def release(self, message: Message, delay: float) -> bool:
        now = self.clock()
        with self._lock:
            entry = self._leased(message)
            if entry is None:
                return False
            entry.visible_at = now + delay
            entry.receipt = None
            entry.receive_count = max(entry.receive_count - 1, 0)
            return True

    def fail(self, message: Message, error: str, retry_after: float = 0.0) -> bool:
        now = self.clock()
        with self._lock:
            entry = self._leased(message)
            if entry is None:
                return False
            entry.last_error = error
            entry.receipt = None
            # the count the receiver was given decides, as in SqliteQueue
            if message.receive_count >= self.max_receive_count:
                entry.dead_at = iso(now)
            else:
                entry.visible_at = now + retry_after
            return True

    def depth(self) -> int:
        with self._lock:
            return sum(1 for e in self._entries.values() if e.dead_at is None)

    def _dead(self, owner: str | None, ids: Sequence[int] | None) -> list[_Entry]:
        found: Iterable[_Entry] = (e for e in self._entries.values() if e.dead_at is not None)
        if owner is not None:
            found = (e for e in found if e.owner == owner)
        if ids is not None:
            # ids outside SQLite's integer range cannot exist; drop them rather than fail
            wanted = {i for i in ids if 0 < i < 2**63}
            found = (e for e in found if e.id in wanted)
        return list(found)

    def dead_letters(self, owner: str | None = None, limit: int = 100) -> list[DeadLetter]:
        with self._lock:
            dead = sorted(self._dead(owner, None), key=lambda e: (e.dead_at or "", e.id))
            dead.reverse()
            return [
                DeadLetter(
                    e.id,
                    json.loads(e.body),
                    e.receive_count,
                    e.last_error,
                    e.owner,
                    e.created_at,
                    e.dead_at or "",
                )
                for e in _limited(dead, limit)
            ]

    def dlq_depth(self, owner: str | None = None) -> int:
        with self._lock:
            return len(self._dead(owner, None))

    def redrive(self, owner: str | None = None, ids: Sequence[int] | None = None) -> int:
        if ids is not None and not ids:
            return 0
        now = self.clock()
        with self._lock:
            moved = self._dead(owner, ids)
            for entry in moved:
                entry.dead_at = None
                entry.receive_count = 0
                entry.receipt = None
                entry.visible_at = now
            return len(moved)

    def purge_dead(self, owner: str | None = None, ids: Sequence[int] | None = None) -> int:
        if ids is not None and not ids:
            return 0
        with self._lock:
            purged = self._dead(owner, ids)
            for entry in purged:
                del self._entries[entry.id]
            return len(purged)
