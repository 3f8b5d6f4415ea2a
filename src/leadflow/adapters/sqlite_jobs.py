"""The JobStore port in SQLite: one row per job in `jobs`, every change one conditional
UPDATE (the row's status in its WHERE clause), so concurrent writers need no lock."""

from __future__ import annotations

import builtins
import dataclasses
import json
import sqlite3
import time
from collections.abc import Callable
from typing import Any

from ..clock import iso
from ..ports import DEAD_LETTERED_CODE, ENDED, DuplicateJob, Job
from .job_fields import stamped
from .sqlite_db import Database

_JSON = ("options", "error", "undo", "warnings", "columns")
_FIELDS = tuple(f.name for f in dataclasses.fields(Job))
_ENDED_SQL = "('completed', 'error', 'cancelled')"


class SqliteJobStore:
    """JobStore over the `jobs` table (its running-total columns belong to the lead store)."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock

    def create(self, job: Job) -> None:
        values = [_encode(name, getattr(job, name)) for name in _FIELDS]
        try:
            with self.db.transaction() as conn:
                conn.execute(
                    f"INSERT INTO jobs ({', '.join(_FIELDS)}) "
                    f"VALUES ({', '.join('?' * len(_FIELDS))})",
                    values,
                )
        except sqlite3.IntegrityError as exc:
            raise DuplicateJob(job.job_id) from exc

    def get(self, job_id: str, owner: str | None = None) -> Job | None:
        sql = f"SELECT {', '.join(_FIELDS)} FROM jobs WHERE job_id = ? AND {_LIVE}"
        params: list[Any] = [job_id, self.clock()]
        if owner is not None:
            sql += " AND owner = ?"
            params.append(owner)
        row = self.db.conn.execute(sql, params).fetchone()
        return None if row is None else _job(row)

    def update(self, job_id: str, **fields: Any) -> bool:
        now = self.clock()
        fields = stamped(fields, now)
        assignments = ", ".join(f"{name} = ?" for name in fields)
        guard = ""
        if "status" in fields:
            guard = f" AND status NOT IN {_ENDED_SQL}"
        elif "stage" in fields:  # a late stage must not hide how the job ended
            assignments = assignments.replace(
                "stage = ?", f"stage = CASE WHEN status IN {_ENDED_SQL} THEN stage ELSE ? END"
            )
        with self.db.transaction() as conn:
            cursor = conn.execute(
                f"UPDATE jobs SET {assignments} WHERE job_id = ? AND {_LIVE}{guard}",
                [*(_encode(k, v) for k, v in fields.items()), job_id, now],
            )
            return cursor.rowcount == 1

    def list(self, owner: str, limit: int = 100) -> list[Job]:
        rows = self.db.conn.execute(
            f"SELECT {', '.join(_FIELDS)} FROM jobs WHERE owner = ? AND {_LIVE} "
            "ORDER BY created_at DESC, rowid DESC LIMIT ?",
            (owner, self.clock(), limit),
        )
        return [_job(row) for row in rows]

    def cancel(self, job_id: str, owner: str) -> bool | None:
        job = self.get(job_id, owner)
        if job is None:
            return None
        if job.status in ENDED:
            return False
        return self.update(job_id, status="cancelled", stage="cancelled")

    def reopen(self, job_id: str) -> bool:
        now = self.clock()
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "UPDATE jobs SET status = 'processing', error = NULL, ended_at = NULL, "
                f"ttl = NULL, updated_at = ? WHERE job_id = ? AND {_LIVE} AND status = 'error' "
                "AND json_extract(error, '$.code') = ?",
                (iso(now), job_id, now, DEAD_LETTERED_CODE),
            )
            return cursor.rowcount == 1

    def claim_undo(self, job_id: str, owner: str, stale_after: float) -> bool:
        now = self.clock()
        marker = json.dumps({"state": "running", "startedAt": iso(now), "startedEpoch": now})
        with self.db.transaction() as conn:
            cursor = conn.execute(
                f"UPDATE jobs SET undo = ?, updated_at = ? WHERE job_id = ? AND owner = ? "
                f"AND {_LIVE} AND (undo IS NULL OR (json_extract(undo, '$.state') = 'running' "
                "AND json_extract(undo, '$.startedEpoch') < ?))",
                (marker, iso(now), job_id, owner, now, now - stale_after),
            )
            return cursor.rowcount == 1

    def release_undo(self, job_id: str) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE jobs SET undo = NULL WHERE job_id = ? "
                "AND json_extract(undo, '$.state') = 'running'",
                (job_id,),
            )

    def expired(self, now: float, limit: int = 100) -> builtins.list[Job]:
        rows = self.db.conn.execute(
            f"SELECT {', '.join(_FIELDS)} FROM jobs WHERE ttl IS NOT NULL AND ttl < ? "
            "ORDER BY ttl LIMIT ?",
            (now, limit),
        )
        return [_job(row) for row in rows]

    def forget(self, job_id: str) -> bool:
        with self.db.transaction() as conn:
            return conn.execute("DELETE FROM jobs WHERE job_id = ?", (job_id,)).rowcount == 1


# A job past its ttl (ttl < now) reads as absent; the parameter is now, epoch seconds.
_LIVE = "(ttl IS NULL OR ttl >= ?)"


def _encode(name: str, value: Any) -> Any:
    return json.dumps(value) if name in _JSON and value is not None else value


def _job(row: tuple[Any, ...]) -> Job:
    data = dict(zip(_FIELDS, row, strict=True))
    for name in _JSON:
        if data[name] is not None:
            data[name] = json.loads(data[name])
    data["options"] = data["options"] or {}
    return Job(**data)
