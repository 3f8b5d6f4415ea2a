"""ports.BatchLedger and ports.SchemaErrorLog in memory, written from their docstrings."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ..domain.lead import Rejection
from ..ports import DEAD_LETTERED, WriteContext

Outcomes = list[tuple[int, str, str | None]]


class MemoryBatchLedger:
    """Entries by (job, batch): put-if-absent; a dead entry gives way to the real one."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, int], tuple[dict[str, int], Outcomes]] = {}
        self._lock = threading.Lock()

    def record(
        self,
        job_id: str,
        batch_no: int,
        counts: Mapping[str, int],
        outcomes: Sequence[tuple[int, str, str | None]] = (),
    ) -> bool:
        with self._lock:
            held = self._entries.get((job_id, batch_no))
            if held is not None and not held[0].get(DEAD_LETTERED):
                return False
            entry = dict(counts) if held is None else {**counts, DEAD_LETTERED: 0}
            self._entries[(job_id, batch_no)] = (entry, list(outcomes))
            return True

    def mark_dead(self, job_id: str, batch_no: int) -> bool:
        with self._lock:
            if (job_id, batch_no) in self._entries:
                return False
            self._entries[(job_id, batch_no)] = ({DEAD_LETTERED: 1}, [])
            return True

    def has(self, job_id: str, batch_no: int) -> bool:
        held = self._entries.get((job_id, batch_no))
        return held is not None and not held[0].get(DEAD_LETTERED)

    def totals(self, job_id: str) -> tuple[int, dict[str, int]]:
        with self._lock:
            entries = [counts for (job, _), (counts, _) in self._entries.items() if job == job_id]
        totals: dict[str, int] = {}
        for counts in entries:
            for name, value in counts.items():
                totals[name] = totals.get(name, 0) + value
        return len(entries), totals

    def outcomes(self, job_id: str) -> Iterator[tuple[int, str, str | None]]:
        with self._lock:
            entries = sorted((k, v) for k, v in self._entries.items() if k[0] == job_id)
        for _, (_, outcomes) in entries:
            yield from outcomes

    def forget(self, job_id: str) -> None:
        with self._lock:
            self._entries = {k: v for k, v in self._entries.items() if k[0] != job_id}


class MemorySchemaErrorLog:
    """Rejected records by owner, one per (import, row), newest first."""

    def __init__(self) -> None:
        self._entries: list[dict[str, Any]] = []
        self._seen: set[tuple[str, int]] = set()
        self._lock = threading.Lock()

    def append(self, ctx: WriteContext, rejections: Sequence[Rejection]) -> None:
        with self._lock:
            for r in rejections:
                if (ctx.import_id, r.row) in self._seen:
                    continue
                self._seen.add((ctx.import_id, r.row))
                self._entries.append(
                    {
                        "id": len(self._entries) + 1,
                        "owner": ctx.owner,
                        "source": ctx.source,
                        "importId": ctx.import_id,
                        "index": r.row,
                        "record": json.loads(json.dumps(r.record, ensure_ascii=False, default=str)),
                        "errors": [e.as_dict() for e in r.errors],
                        "createdAt": ctx.now,
                    }
                )

    def list(
        self,
        owner: str,
        limit: int = 100,
        before: int | None = None,
        import_id: str | None = None,
    ) -> list[dict[str, Any]]:
        with self._lock:
            entries = list(reversed(self._entries))
        found = [
            {k: v for k, v in e.items() if k != "owner"}
            for e in entries
            if e["owner"] == owner
            and (import_id is None or e["importId"] == import_id)
            and (before is None or e["id"] < before)
        ]
        return found if limit < 0 else found[:limit]

    def forget_import(self, import_id: str) -> None:
        with self._lock:
            self._entries = [e for e in self._entries if e["importId"] != import_id]
            self._seen = {k for k in self._seen if k[0] != import_id}
