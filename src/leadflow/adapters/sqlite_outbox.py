"""The Outbox port in SQLite: `outbox` (one row per idempotency key) and `alarms`."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..clock import iso
from ..ports import OUTBOX_CLAIM_SECONDS, OutboxEntry
from .sqlite_db import Database


class SqliteOutbox:
    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock

    def add_many(self, owner: str, entries: Mapping[str, Mapping[str, Any]], now: str) -> int:
        with self.db.transaction() as conn:
            before = conn.total_changes
            conn.executemany(
                "INSERT OR IGNORE INTO outbox (idem_key, owner, payload, created_at) "
                "VALUES (?, ?, ?, ?)",
                [(key, owner, json.dumps(dict(p)), now) for key, p in entries.items()],
            )
            return conn.total_changes - before

    def claim(self, limit: int = 20, now: float | None = None) -> list[OutboxEntry]:
        now = self.clock() if now is None else now
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT id, owner, payload, attempts FROM outbox "
                "WHERE (status = 'pending' AND COALESCE(next_at, 0) <= ?) "
                "OR (status = 'sending' AND claimed_at < ?) ORDER BY id LIMIT ?",
                (now, now - OUTBOX_CLAIM_SECONDS, limit),
            ).fetchall()
            conn.executemany(
                "UPDATE outbox SET status = 'sending', claimed_at = ?, attempts = attempts + 1 "
                "WHERE id = ?",
                [(now, row[0]) for row in rows],
            )
        return [
            OutboxEntry(str(i), owner, json.loads(payload), attempts + 1)
            for i, owner, payload, attempts in rows
        ]

    def finish(
        self, entry: OutboxEntry, status: str, channel: str | None, error: str | None
    ) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE outbox SET status = ?, channel = ?, last_error = ?, sent_at = ? "
                "WHERE id = ?",
                (status, channel, error, iso(self.clock()), int(entry.id)),
            )

    def retry_at(
        self, entries: Sequence[OutboxEntry], when: float, error: str | None, counts: bool = True
    ) -> None:
        with self.db.transaction() as conn:
            conn.executemany(
                "UPDATE outbox SET status = 'pending', next_at = ?, claimed_at = NULL, "
                "attempts = attempts - ?, last_error = COALESCE(?, last_error) WHERE id = ?",
                [(when, 0 if counts else 1, error, int(entry.id)) for entry in entries],
            )

    def counts(self) -> dict[str, int]:
        rows = self.db.conn.execute("SELECT status, count(*) FROM outbox GROUP BY status")
        return {status: int(n) for status, n in rows}

    def alarm_raised(self, name: str) -> bool:
        row = self.db.conn.execute("SELECT raised FROM alarms WHERE name = ?", (name,)).fetchone()
        return bool(row and row[0])

    def set_alarm(self, name: str, raised: bool) -> bool:
        with self.db.transaction() as conn:
            row = conn.execute("SELECT raised FROM alarms WHERE name = ?", (name,)).fetchone()
            if row is not None and bool(row[0]) == raised:
                return False
            conn.execute(
                "INSERT INTO alarms (name, raised) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET raised = excluded.raised",
                (name, int(raised)),
            )
            return True
