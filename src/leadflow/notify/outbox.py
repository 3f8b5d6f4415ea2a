"""The outbox: one entry per lead and file, keyed so that retries, restarts and a file
processed twice never make a second entry; an entry is claimed before it is sent and
marked sent after."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..adapters.sqlite_db import Database
from ..clock import utc_now

CLAIM_SECONDS = 60.0  # a claim older than this (its sender died) may be taken again


@dataclass(frozen=True)
class Entry:
    id: int
    owner: str
    payload: dict[str, Any]
    attempts: int


class SqliteOutbox:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add_many(self, owner: str, entries: Mapping[str, Mapping[str, Any]], now: str) -> int:
        """Add entries by idempotency key; how many were new."""
        with self.db.transaction() as conn:
            before = conn.total_changes
            conn.executemany(
                "INSERT OR IGNORE INTO outbox (idem_key, owner, payload, created_at) "
                "VALUES (?, ?, ?, ?)",
                [(key, owner, json.dumps(dict(p)), now) for key, p in entries.items()],
            )
            return conn.total_changes - before

    def claim(self, limit: int = 20, now: float | None = None) -> list[Entry]:
        """Pending entries that are due (and ones whose sender died), now claimed by this
        process, oldest first."""
        now = time.time() if now is None else now
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT id, owner, payload, attempts FROM outbox "
                "WHERE (status = 'pending' AND COALESCE(next_at, 0) <= ?) "
                "OR (status = 'sending' AND claimed_at < ?) ORDER BY id LIMIT ?",
                (now, now - CLAIM_SECONDS, limit),
            ).fetchall()
            conn.executemany(
                "UPDATE outbox SET status = 'sending', claimed_at = ?, attempts = attempts + 1 "
                "WHERE id = ?",
                [(now, row[0]) for row in rows],
            )
        return [
            Entry(i, owner, json.loads(payload), attempts + 1)
            for i, owner, payload, attempts in rows
        ]

    def finish(self, entry: Entry, status: str, channel: str | None, error: str | None) -> None:
        """The entry's end: `sent` by `channel`, or `dead` with its reason."""
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE outbox SET status = ?, channel = ?, last_error = ?, sent_at = ? "
                "WHERE id = ?",
                (
                    status,
                    channel,
                    error,
                    utc_now("seconds"),
                    entry.id,
                ),
            )

    def retry_at(
        self, entries: Sequence[Entry], when: float, error: str | None, counts: bool = True
    ) -> None:
        """Put claimed entries back, due at `when` (epoch seconds); an attempt that did
        not count (a rate limit, a pause) is given back."""
        with self.db.transaction() as conn:
            conn.executemany(
                "UPDATE outbox SET status = 'pending', next_at = ?, claimed_at = NULL, "
                "attempts = attempts - ?, last_error = COALESCE(?, last_error) WHERE id = ?",
                [(when, 0 if counts else 1, error, entry.id) for entry in entries],
            )

    def counts(self) -> dict[str, int]:
        """How many entries are in each status (pending, sending, sent, dead)."""
        rows = self.db.conn.execute("SELECT status, count(*) FROM outbox GROUP BY status")
        return {status: int(n) for status, n in rows}

    def alarm_raised(self, name: str) -> bool:
        row = self.db.conn.execute("SELECT raised FROM alarms WHERE name = ?", (name,)).fetchone()
        return bool(row and row[0])

    def set_alarm(self, name: str, raised: bool) -> bool:
        """Record the alarm's state; True when this call changed it (one alert per crossing)."""
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


def lead_entries(leads: Sequence[Mapping[str, Any]], import_id: str) -> dict[str, dict[str, Any]]:
    """Outbox entries for the leads of one file, keyed by file and lead."""
    return {f"{import_id}:{lead['leadId']}": dict(lead) for lead in leads}
