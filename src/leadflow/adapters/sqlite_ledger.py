"""ports.BatchLedger over SQLite (table job_batches).

A job's totals are the sum of its entries. For fast status reads the sum is also cached
in the job's row (jobs.done_batches, jobs.totals), moved in the same transaction as each
entry, so reading it is one row however many batches the job has; without a job row
(an inbox file's import) the entries are summed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence

from ..ports import DEAD_LETTERED
from .sqlite_db import Database, write


class SqliteBatchLedger:
    """Entries by (job, batch): put-if-absent; a dead entry gives way to the real one."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def record(
        self,
        job_id: str,
        batch_no: int,
        counts: Mapping[str, int],
        outcomes: Sequence[tuple[int, str, str | None]] = (),
    ) -> bool:
        with write(self.db) as conn:
            held = conn.execute(
                "SELECT counts FROM job_batches WHERE job_id = ? AND batch_no = ?",
                (job_id, batch_no),
            ).fetchone()
            dead: dict[str, int] = {}
            entry = dict(counts)
            if held is not None:
                dead = json.loads(held[0] or "{}")
                if not dead.get(DEAD_LETTERED):
                    return False
                entry[DEAD_LETTERED] = 0  # a redriven batch: it was dead once
            conn.execute(
                "INSERT OR REPLACE INTO job_batches (job_id, batch_no, counts, outcomes) "
                "VALUES (?, ?, ?, ?)",
                (job_id, batch_no, json.dumps(entry), json.dumps(list(outcomes))),
            )
            moved = dict(entry)
            for name, value in dead.items():  # a redriven batch takes its dead entry's place
                moved[name] = moved.get(name, 0) - value
            _add_to_job(conn, job_id, moved, 0 if dead else 1)
            return True

    def mark_dead(self, job_id: str, batch_no: int) -> bool:
        with write(self.db) as conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO job_batches (job_id, batch_no, counts, outcomes) "
                "VALUES (?, ?, ?, '[]')",
                (job_id, batch_no, json.dumps({DEAD_LETTERED: 1})),
            )
            if cursor.rowcount == 1:
                _add_to_job(conn, job_id, {DEAD_LETTERED: 1}, 1)
            return cursor.rowcount == 1

    def has(self, job_id: str, batch_no: int) -> bool:
        held = self.db.conn.execute(
            "SELECT counts FROM job_batches WHERE job_id = ? AND batch_no = ?",
            (job_id, batch_no),
        ).fetchone()
        return held is not None and not json.loads(held[0] or "{}").get(DEAD_LETTERED)

    def totals(self, job_id: str) -> tuple[int, dict[str, int]]:
        job = self.db.conn.execute(
            "SELECT done_batches, totals FROM jobs WHERE job_id = ?", (job_id,)
        ).fetchone()
        if job is not None:
            return int(job[0]), json.loads(job[1] or "{}")
        totals: dict[str, int] = {}
        batches = 0
        for (counts,) in self.db.conn.execute(
            "SELECT counts FROM job_batches WHERE job_id = ?", (job_id,)
        ):
            batches += 1
            for name, value in json.loads(counts or "{}").items():
                totals[name] = totals.get(name, 0) + value
        return batches, totals

    def outcomes(self, job_id: str) -> Iterator[tuple[int, str, str | None]]:
        for (outcomes,) in self.db.conn.execute(
            "SELECT outcomes FROM job_batches WHERE job_id = ? ORDER BY batch_no", (job_id,)
        ):
            yield from ((row, o, lead_id) for row, o, lead_id in json.loads(outcomes or "[]"))

    def forget(self, job_id: str) -> None:
        with write(self.db) as conn:
            conn.execute("DELETE FROM job_batches WHERE job_id = ?", (job_id,))


def _add_to_job(conn: sqlite3.Connection, job_id: str, counts: Mapping[str, int], n: int) -> None:
    """Move the cached sum in the job's row, if the job has one."""
    row = conn.execute("SELECT totals FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
    if row is None:
        return
    totals = json.loads(row[0] or "{}")
    for name, value in counts.items():
        totals[name] = totals.get(name, 0) + value
    conn.execute(
        "UPDATE jobs SET done_batches = done_batches + ?, totals = ? WHERE job_id = ?",
        (n, json.dumps(totals), job_id),
    )
