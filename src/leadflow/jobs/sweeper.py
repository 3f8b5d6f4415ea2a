"""The TTL sweeper: a day after a job ends, everything it kept goes, its status last.

What an undo needs (the job's status document, its leads' audit trail) stays until the
job's TTL; after it the job is forgotten: its uploaded file, result files and enrichment
parts in the blob store, its batch-ledger entries and skip-ledger rows. The leads and
their audit trail stay: they belong to the leads, not to the job. The status document is
deleted last, so a sweep that stops half-way finds the job again next time.
"""

from __future__ import annotations

import logging

from ..bootstrap import Services
from .enrichment import ENRICH_BATCH, part_key
from .status_store import Job

log = logging.getLogger("leadflow.sweeper")


def job_blob_keys(job: Job) -> list[str]:
    """Every blob key a job may have written (they need not all exist)."""
    keys = [job.blob_key] if job.blob_key else []
    if job.result_key:
        keys += [job.result_key + ".csv", job.result_key + ".json"]
    if job.kind == "process":
        rows = (job.total_batches or 0) * ENRICH_BATCH
        keys += [part_key(job.job_id, n) for n in range(0, rows, ENRICH_BATCH)]
    return keys


def sweep_expired(services: Services, limit: int = 100) -> int:
    """Forget up to `limit` jobs whose TTL has passed, with all they kept; how many."""
    swept = 0
    for job in services.status.expired(limit):
        for key in job_blob_keys(job):
            services.blobs.delete(key)
        services.ledger.forget(job.job_id)
        services.lead_repo.forget_import(job.job_id)
        if services.status.forget(job.job_id):
            swept += 1
    if swept:
        log.info("swept expired jobs", extra={"jobs": swept})
    return swept
