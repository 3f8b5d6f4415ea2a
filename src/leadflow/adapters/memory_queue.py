"""The Queue and DeadLetters ports in memory, written from their docstrings (ports.py).

`MemoryQueue` owns its `MemoryDeadLetters` (`queue.dead_letters`), as an SQS queue owns
its redrive target. Every method takes the queue's lock, so threads may share them.
"""

from __future__ import annotations

import copy
import itertools
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..clock import iso
from ..ports import DeadLetter, Message

Clock = Callable[[], float]
EXPIRED = "its lease ran out {count} times (the worker stopped or took too long)"

__all__ = ["MemoryDeadLetters", "MemoryQueue"]


@dataclass(slots=True)
class _Entry:
    id: str
    owner: str | None
    body: dict[str, Any]
    visible_at: float
    created_at: str
    receive_count: int = 0
    receipt: str | None = None
    last_error: str | None = None
    dead_at: str | None = None
    dead_seq: int = 0  # orders dead letters that died in the same millisecond


class MemoryQueue:
    """One queue in a dict; `dead_letters` holds what died."""

    def __init__(self, max_receive_count: int = 3, clock: Clock = time.time) -> None:
        self.max_receive_count = max_receive_count
        self.clock = clock
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._deaths = itertools.count(1)
        self._live: dict[str, _Entry] = {}
        self._dead: dict[str, _Entry] = {}
        self.dead_letters = MemoryDeadLetters(self)

    def _new(self, owner: str | None, body: Mapping[str, Any], visible_at: float) -> _Entry:
        entry = _Entry(
            f"m-{next(self._ids)}", owner, copy.deepcopy(dict(body)), visible_at,
            iso(self.clock()),
        )  # fmt: skip
        return entry

    def _die(self, entry: _Entry, error: str) -> None:
        entry.dead_at, entry.last_error, entry.receipt = iso(self.clock()), error, None
        entry.dead_seq = next(self._deaths)
        self._live.pop(entry.id, None)
        self._dead[entry.id] = entry

    def _leased(self, message: Message) -> _Entry | None:
        entry = self._live.get(message.id)
        return entry if entry is not None and entry.receipt == message.receipt else None

    def send_many(
        self, bodies: Sequence[Mapping[str, Any]], owner: str | None = None, delay: float = 0.0
    ) -> list[str]:
        with self._lock:
            entries = [self._new(owner, body, self.clock() + delay) for body in bodies]
            self._live.update((e.id, e) for e in entries)
            return [e.id for e in entries]

    def receive(self, max_messages: int, visibility_timeout: float) -> list[Message]:
        now = self.clock()
        received: list[Message] = []
        with self._lock:
            for entry in list(self._live.values()):
                if len(received) >= max_messages:
                    break
                if entry.visible_at > now:
                    continue
                if entry.receive_count >= self.max_receive_count:
                    self._die(entry, entry.last_error or EXPIRED.format(count=entry.receive_count))
                    continue
                entry.receive_count += 1
                entry.receipt = secrets.token_hex(8)
                entry.visible_at = now + visibility_timeout
                received.append(
                    Message(
                        entry.id, entry.receipt, copy.deepcopy(entry.body), entry.receive_count,
                        entry.owner,
                    )
                )  # fmt: skip
        return received

    def delete(self, message: Message) -> bool:
        with self._lock:
            if self._leased(message) is None:
                return False
            del self._live[message.id]
            return True

    def delete_many(self, messages: Sequence[Message]) -> int:
        return sum(self.delete(message) for message in messages)

    def change_visibility(self, message: Message, timeout: float) -> bool:
        with self._lock:
            entry = self._leased(message)
            if entry is None:
                return False
            entry.visible_at = self.clock() + timeout
            return True

    def release(self, message: Message, delay: float) -> bool:
        with self._lock:
            entry = self._leased(message)
            if entry is None:
                return False
            del self._live[entry.id]
            copied = self._new(entry.owner, entry.body, self.clock() + delay)
            copied.created_at = entry.created_at
            copied.receive_count = max(entry.receive_count - 1, 0)
            copied.last_error = entry.last_error
            self._live[copied.id] = copied
            return True

    def fail(self, message: Message, error: str, retry_after: float = 0.0) -> bool:
        with self._lock:
            entry = self._leased(message)
            if entry is None:
                return False
            if entry.receive_count >= self.max_receive_count:
                self._die(entry, error)
            else:
                entry.visible_at = self.clock() + retry_after
                entry.last_error, entry.receipt = error, None
            return True

    def depth(self) -> int:
        with self._lock:
            return len(self._live)


class MemoryDeadLetters:
    """The dead letters of one MemoryQueue."""

    def __init__(self, queue: MemoryQueue) -> None:
        self._queue = queue

    def _selected(self, owner: str | None, ids: Sequence[str] | None) -> list[_Entry]:
        wanted = None if ids is None else set(ids)
        return [
            e
            for e in self._queue._dead.values()
            if (owner is None or e.owner == owner) and (wanted is None or e.id in wanted)
        ]

    def add(self, bodies: Sequence[Mapping[str, Any]], owner: str | None, error: str) -> list[str]:
        queue = self._queue
        with queue._lock:
            entries = [queue._new(owner, body, queue.clock()) for body in bodies]
            for entry in entries:
                queue._die(entry, error)
            return [e.id for e in entries]

    def list(self, owner: str | None = None, limit: int = 100) -> list[DeadLetter]:
        with self._queue._lock:
            dead = sorted(
                self._selected(owner, None), key=lambda e: (e.dead_at or "", e.dead_seq),
                reverse=True,
            )  # fmt: skip
            return [
                DeadLetter(
                    e.id, copy.deepcopy(e.body), e.receive_count, e.last_error, e.owner,
                    e.created_at, e.dead_at or "",
                )
                for e in dead[: max(limit, 0)]
            ]  # fmt: skip

    def depth(self, owner: str | None = None) -> int:
        with self._queue._lock:
            return len(self._selected(owner, None))

    def redrive(self, owner: str | None = None, ids: Sequence[str] | None = None) -> int:
        queue = self._queue
        with queue._lock:
            chosen = self._selected(owner, ids)
            for entry in chosen:
                del queue._dead[entry.id]
                fresh = queue._new(entry.owner, entry.body, queue.clock())
                fresh.created_at = entry.created_at
                queue._live[fresh.id] = fresh
            return len(chosen)

    def purge(self, owner: str | None = None, ids: Sequence[str] | None = None) -> int:
        queue = self._queue
        with queue._lock:
            chosen = self._selected(owner, ids)
            for entry in chosen:
                del queue._dead[entry.id]
            return len(chosen)
