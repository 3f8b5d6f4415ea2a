"""The TTL sweeper: a day after a job ends, everything it kept goes, its status last.

What an undo needs (the job's status document, its leads' audit trail) stays until the
job's TTL; after it the job is forgotten: its uploaded file, result files, enrichment
result parts and the part blobs its queued batches pointed at (`jobs/<id>/`, kept until
then so that a batch redriven from the DLQ still finds its records), its batch-ledger
entries and skip-ledger rows. The leads and
their audit trail stay: they belong to the leads, not to the job. The status document is
deleted last, so a sweep that stops half-way finds the job again next time.
"""

from __future__ import annotations

import logging

from ..ports import BatchLedger, BlobStore, Job, JobStore, LeadRepository
from .enrichment import ENRICH_BATCH, part_key
from .parts import job_prefix

log = logging.getLogger("leadflow.sweeper")


def job_blob_keys(job: Job) -> list[str]:
    """Every blob key a job may have written (they need not all exist)."""
    keys = [job.blob_key] if job.blob_key else []
    if job.result_key:
        keys += [job.result_key + ".csv", job.result_key + ".json"]
    if job.kind == "enrichment":
        rows = (job.total_batches or 0) * ENRICH_BATCH
        keys += [part_key(job.job_id, n) for n in range(0, rows, ENRICH_BATCH)]
    return keys


def job_blob_prefixes(job: Job) -> list[str]:
    """The blob folders that belong to the job alone (deleted whole)."""
    return [job_prefix(job.job_id), f"results/{job.job_id}/"]


def sweep_expired(
    jobs: JobStore,
    blobs: BlobStore,
    ledger: BatchLedger,
    lead_repo: LeadRepository,
    now: float,
    limit: int = 100,
) -> int:
    """Forget up to `limit` jobs whose TTL had passed at `now` (epoch seconds), with all
    they kept; how many."""
    swept = 0
    for job in jobs.expired(now, limit):
        for key in job_blob_keys(job):
            blobs.delete(key)
        for prefix in job_blob_prefixes(job):
            blobs.delete_prefix(prefix)
        ledger.forget(job.job_id)
        lead_repo.forget_import(job.job_id)
        if jobs.forget(job.job_id):
            swept += 1
    if swept:
        log.info("swept expired jobs", extra={"jobs": swept})
    return swept
