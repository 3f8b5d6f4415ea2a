"""Job status documents (seed 004's field names), put together from a Job record and its
BatchLedger totals: a pure function, the same on every store.

A job's progress is not a counter that workers bump after the fact (a redelivered batch
would count twice): it is the sum of the job's ledger entries, each batch entered once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from ..clock import iso
from ..pipelines.summary import BatchCounts
from ..ports import DEAD_LETTERED_CODE, ENDED, JOB_TTL_SECONDS, Job

__all__ = [
    "DEAD_LETTERED_CODE",
    "ENDED",
    "JOB_TTL_SECONDS",
    "Job",
    "UNDO_STALE_SECONDS",
    "JobTotals",
    "all_batches_done",
    "document",
    "iso",
    "new_job",
]

UNDO_STALE_SECONDS = 600.0  # an undo marked running this long ago died with its process

# job id -> (ledger entries, their counts summed): BatchLedger.totals
JobTotals = Callable[[str], tuple[int, dict[str, int]]]


def new_job(
    job_id: str,
    owner: str,
    kind: str,
    options: Mapping[str, Any],
    now: float,
    file_name: str | None = None,
) -> Job:
    """A job just asked for: status `uploading`, stage `file_upload`."""
    stamp = iso(now)
    return Job(
        job_id=job_id,
        owner=owner,
        kind=kind,
        status="uploading",
        stage="file_upload",
        options=dict(options),
        created_at=stamp,
        updated_at=stamp,
        file_name=file_name,
    )


def all_batches_done(job: Job, entries: int) -> bool:
    """Whether a processing job has every batch in its ledger (applied or dead)."""
    return (
        job.status == "processing"
        and job.total_batches is not None
        and entries >= job.total_batches
    )


def document(job: Job, totals: tuple[int, Mapping[str, int]], now: float) -> dict[str, Any]:
    """The status document of seed 004 for `job`, whose ledger holds `totals` (entries,
    counts summed); `now` (epoch seconds) dates the completion estimate."""
    done, counts = totals
    summary: dict[str, Any] = dict(counts)
    if not done and job.total_batches == 0:  # a file without records: a summary of zeros
        summary = dataclasses.asdict(BatchCounts())
    processed = int(summary.get("received", 0))
    percentage = 0.0
    if job.status == "completed":
        percentage = 100.0
    elif job.total_batches:
        percentage = round(100.0 * min(done, job.total_batches) / job.total_batches, 1)
    if job.columns is not None:
        summary["columns"] = job.columns
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
            "estimatedCompletion": _estimate(job, processed, now),
        },
        "error": job.error,
        "summary": summary,
        "undo": job.undo,
        "warnings": job.warnings or [],
        "createdAt": job.created_at,
        "updatedAt": job.updated_at,
        "ttl": job.ttl,
    }


def _estimate(job: Job, processed: int, now: float) -> str | None:
    """When the job should end at the rate observed so far."""
    if job.status in ENDED:
        return job.updated_at
    if not job.start_time or not job.total_leads or not processed:
        return None
    started = dt.datetime.fromisoformat(job.start_time.replace("Z", "+00:00")).timestamp()
    elapsed = max(now - started, 1e-3)
    remaining = max(job.total_leads - processed, 0) * elapsed / processed
    return iso(now + remaining)
