"""Jobs and their status documents (seed 004's field names), in SQLite.

A job's progress is not a counter that workers bump after the fact (a redelivered batch
would count twice): the lead store moves the job's running totals in the same
transaction as the batch's ledger entry and effect, so each batch counts exactly once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..adapters.sqlite_db import Database
from ..clock import epoch_of, iso

TTL_SECONDS = 24 * 3600  # a status document lives 24 h after its job ends
ENDED = ("completed", "error", "cancelled")
DEAD_LETTERED_CODE = "dead_lettered"  # a job that ended because nothing could be applied
UNDO_STALE_SECONDS = 600.0  # an undo marked running this long ago died with its process


@dataclass(frozen=True, slots=True)
class Job:
    job_id: str
    owner: str
    kind: str
    status: str
    stage: str
    options: dict[str, Any]
    blob_key: str | None
    file_name: str | None
    file_size: int | None
    total_batches: int | None
    total_leads: int | None
    start_time: str | None
    error: dict[str, Any] | None
    created_at: str
    updated_at: str
    ended_at: float | None
    ttl: int | None
    result_key: str | None = None
    undo: dict[str, Any] | None = None
    warnings: list[str] | None = None
    done_batches: int = 0  # running totals, kept by the lead store with each batch
    totals: str | None = None
    columns: dict[str, str | None] | None = None  # header -> field (None: attributes)


class SqliteStatusStore:
    def __init__(self, db: Database, clock: Any = time.time) -> None:
        self.db = db
        self.clock = clock

    def create(
        self,
        job_id: str,
        owner: str,
        kind: str,
        options: Mapping[str, Any],
        file_name: str | None = None,
    ) -> None:
        now = iso(self.clock())
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO jobs (job_id, owner, kind, status, stage, options, file_name, "
                "created_at, updated_at) VALUES (?, ?, ?, 'uploading', 'file_upload', ?, ?, ?, ?)",
                (job_id, owner, kind, json.dumps(dict(options)), file_name, now, now),
            )

    def update(self, job_id: str, **fields: Any) -> bool:
        """Set columns of a job; ending it (completed, error, cancelled) starts its TTL.

        A job that has ended keeps its status: a worker's late "processing" must not undo
        a cancel. False when a status change was refused for that reason.
        """
        now = self.clock()
        fields["updated_at"] = iso(now)
        for name in ("error", "undo", "warnings", "columns"):
            if fields.get(name) is not None:
                fields[name] = json.dumps(fields[name])
        if fields.get("status") in ENDED:
            fields.setdefault("ended_at", now)
            fields.setdefault("ttl", int(now + TTL_SECONDS))
        assignments = ", ".join(f"{name} = ?" for name in fields)
        guard = ""
        if "status" in fields:
            guard = " AND status NOT IN ('completed', 'error', 'cancelled')"
        elif "stage" in fields:  # a late stage must not hide how the job ended
            assignments = assignments.replace(
                "stage = ?",
                "stage = CASE WHEN status IN ('completed', 'error', 'cancelled') "
                "THEN stage ELSE ? END",
            )
        with self.db.transaction() as conn:
            cursor = conn.execute(
                f"UPDATE jobs SET {assignments} WHERE job_id = ?{guard}",
                [*fields.values(), job_id],
            )
            return cursor.rowcount == 1

    def all_batches_done(self, job_id: str) -> Job | None:
        """The job, when it is processing and every batch is in the ledger; else None."""
        job = self.get_job(job_id)
        if job is None or job.status != "processing" or job.total_batches is None:
            return None
        return job if job.done_batches >= job.total_batches else None

    def complete(self, job_id: str, result_key: str | None) -> bool:
        """Mark a processing job completed; False when it had ended already."""
        now = self.clock()
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "UPDATE jobs SET status = 'completed', stage = 'completed', updated_at = ?, "
                "ended_at = ?, ttl = ?, result_key = ? WHERE job_id = ? AND status = 'processing'",
                (iso(now), now, int(now + TTL_SECONDS), result_key, job_id),
            )
            return cursor.rowcount == 1

    def get_job(self, job_id: str, owner: str | None = None) -> Job | None:
        sql = "SELECT * FROM jobs WHERE job_id = ?"
        params: list[Any] = [job_id]
        if owner is not None:
            sql += " AND owner = ?"
            params.append(owner)
        cursor = self.db.conn.execute(sql, params)
        row = cursor.fetchone()
        if row is None:
            return None
        data = dict(zip([d[0] for d in cursor.description], row, strict=True))
        data["options"] = json.loads(data["options"])
        data["error"] = json.loads(data["error"]) if data["error"] else None
        data["undo"] = json.loads(data["undo"]) if data["undo"] else None
        data["warnings"] = json.loads(data["warnings"]) if data["warnings"] else None
        data["columns"] = json.loads(data["columns"]) if data.get("columns") else None
        return Job(**data)

    def list_jobs(self, owner: str, limit: int = 100) -> list[str]:
        """The ids of the owner's jobs (uploads, enrichment), newest first."""
        rows = self.db.conn.execute(
            "SELECT job_id FROM jobs WHERE owner = ? ORDER BY created_at DESC, rowid DESC LIMIT ?",
            (owner, limit),
        )
        return [str(row[0]) for row in rows]

    def document(self, job_id: str, owner: str) -> dict[str, Any] | None:
        """The status document of seed 004, or None (unknown, or another user's job)."""
        job = self.get_job(job_id, owner)
        if job is None:
            return None
        done, totals = job.done_batches, json.loads(job.totals or "{}")
        processed = totals.get("received", 0)
        percentage = 0.0
        if job.status == "completed":
            percentage = 100.0
        elif job.total_batches:
            percentage = round(100.0 * done / job.total_batches, 1)
        return {
            "uploadId": job.job_id,
            "jobId": job.job_id,
            "status": job.status,
            "stage": job.stage,
            "progress": {
                "totalBatches": job.total_batches or 0,
                "completedBatches": done,
                "totalLeads": job.total_leads or 0,
                "processedLeads": processed,
                "percentage": percentage,
            },
            "metadata": {
                "fileName": job.file_name,
                "fileSize": job.file_size,
                "startTime": job.start_time,
                "estimatedCompletion": self._estimate(job, processed),
            },
            "error": job.error,
            "summary": totals if job.columns is None else {**totals, "columns": job.columns},
            "undo": job.undo,
            "warnings": job.warnings or [],
            "createdAt": job.created_at,
            "updatedAt": job.updated_at,
            "ttl": job.ttl,
        }

    def _estimate(self, job: Job, processed: int) -> str | None:
        """When the job should end at the rate observed so far."""
        if job.status in ENDED:
            return job.updated_at
        if not job.start_time or not job.total_leads or not processed:
            return None
        started = epoch_of(job.start_time)
        elapsed = max(self.clock() - started, 1e-3)
        remaining = max(job.total_leads - processed, 0) * elapsed / processed
        return iso(self.clock() + remaining)

    def cancel(self, job_id: str, owner: str) -> bool | None:
        """Cancel a running job: None when unknown, False when it has ended already."""
        job = self.get_job(job_id, owner)
        if job is None:
            return None
        if job.status in ENDED:
            return False
        return self.update(job_id, status="cancelled", stage="cancelled")

    def reopen(self, job_id: str) -> bool:
        """Make a job that ended in error because its messages were dead-lettered
        (code DEAD_LETTERED) processing again, for its redriven messages; False for any
        other job."""
        now = self.clock()
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "UPDATE jobs SET status = 'processing', error = NULL, ended_at = NULL, "
                "ttl = NULL, updated_at = ? WHERE job_id = ? AND status = 'error' "
                "AND json_extract(error, '$.code') = ?",
                (iso(now), job_id, DEAD_LETTERED_CODE),
            )
            return cursor.rowcount == 1

    def claim_undo(self, job_id: str, owner: str, stale_after: float = UNDO_STALE_SECONDS) -> bool:
        """Mark the job's undo as running; False when it was undone already or an undo is
        running (a conditional write: of two concurrent undos, one wins). An undo marked
        running for longer than `stale_after` seconds (its process died) may be taken over.
        """
        now = self.clock()
        marker = json.dumps({"state": "running", "startedAt": iso(now), "startedEpoch": now})
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "UPDATE jobs SET undo = ?, updated_at = ? WHERE job_id = ? AND owner = ? "
                "AND (undo IS NULL OR (json_extract(undo, '$.state') = 'running' "
                "AND json_extract(undo, '$.startedEpoch') < ?))",
                (marker, iso(now), job_id, owner, now - stale_after),
            )
            return cursor.rowcount == 1

    def release_undo(self, job_id: str) -> None:
        """Forget a running undo that failed, so that it may be asked for again."""
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE jobs SET undo = NULL WHERE job_id = ? "
                "AND json_extract(undo, '$.state') = 'running'",
                (job_id,),
            )

    def expired(self, limit: int = 100) -> list[Job]:
        """Up to `limit` jobs whose TTL has passed, oldest first (for the sweeper)."""
        ids = [
            row[0]
            for row in self.db.conn.execute(
                "SELECT job_id FROM jobs WHERE ttl IS NOT NULL AND ttl < ? ORDER BY ttl LIMIT ?",
                (int(self.clock()), limit),
            )
        ]
        return [job for job_id in ids if (job := self.get_job(job_id)) is not None]

    def forget(self, job_id: str) -> bool:
        """Delete a job's status document; False when it was gone already."""
        with self.db.transaction() as conn:
            return conn.execute("DELETE FROM jobs WHERE job_id = ?", (job_id,)).rowcount == 1

    def sweep(self) -> int:
        """Forget status documents whose TTL has passed; how many."""
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "DELETE FROM jobs WHERE ttl IS NOT NULL AND ttl < ?", (int(self.clock()),)
            )
            return cursor.rowcount
