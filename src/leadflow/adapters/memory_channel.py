"""The NotificationChannel port in memory, written from its docstring: it records what it
was given and answers with the deliveries a test scripts (sent when none is left)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..ports import Delivery


@dataclass(frozen=True, slots=True)
class Sent:
    subject: str
    text: str
    blocks: dict[str, Any] | None


class MemoryChannel:
    def __init__(self, name: str = "memory", answers: Iterable[Delivery] = ()) -> None:
        self.name = name
        self.answers = list(answers)
        self.sent: list[Sent] = []  # every message given, whatever the answer
        self._lock = threading.Lock()

    def send(self, subject: str, text: str, blocks: Mapping[str, Any] | None = None) -> Delivery:
        with self._lock:
            self.sent.append(Sent(subject, text, None if blocks is None else dict(blocks)))
            return self.answers.pop(0) if self.answers else Delivery("sent")
