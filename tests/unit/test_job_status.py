"""The status document (seed 004) as a pure function of a Job and its ledger totals."""

from __future__ import annotations

import dataclasses

from leadflow.jobs.status import all_batches_done, document, iso, new_job
from leadflow.pipelines.summary import BatchCounts
from leadflow.ports import Job

NOW = 1_800_000_000.0


def job(**fields: object) -> Job:
    return dataclasses.replace(new_job("j1", "alice", "upload", {}, NOW, "a.csv"), **fields)


def test_a_new_job_has_seed_004s_fields() -> None:
    doc = document(new_job("j1", "alice", "upload", {}, NOW, "a.csv"), (0, {}), NOW)
    assert doc["uploadId"] == doc["jobId"] == "j1"
    assert (doc["status"], doc["stage"]) == ("uploading", "file_upload")
    assert doc["progress"] == {
        "totalBatches": 0, "completedBatches": 0, "totalLeads": 0, "processedLeads": 0,
        "percentage": 0.0,
    }  # fmt: skip
    assert doc["metadata"]["fileName"] == "a.csv"
    assert doc["metadata"]["estimatedCompletion"] is None
    assert doc["summary"] == {} and doc["warnings"] == [] and doc["ttl"] is None
    assert doc["createdAt"] == doc["updatedAt"] == iso(NOW)


def test_progress_comes_from_the_ledger_totals() -> None:
    running = job(
        status="processing", stage="batch_processing", total_batches=4, total_leads=400,
        start_time=iso(NOW - 10),
    )  # fmt: skip
    doc = document(running, (1, {"received": 100, "created": 90, "invalid": 10}), NOW)
    assert doc["progress"]["completedBatches"] == 1
    assert doc["progress"]["processedLeads"] == 100
    assert doc["progress"]["percentage"] == 25.0
    assert doc["summary"] == {"received": 100, "created": 90, "invalid": 10}
    assert doc["metadata"]["estimatedCompletion"] == iso(NOW + 30)  # 300 more at 10/s


def test_a_file_without_records_completes_with_a_summary_of_zeros() -> None:
    empty = job(status="completed", stage="completed", total_batches=0, total_leads=0)
    doc = document(empty, (0, {}), NOW)
    assert doc["summary"] == dataclasses.asdict(BatchCounts())
    assert doc["progress"]["percentage"] == 100.0


def test_columns_join_the_summary() -> None:
    done = job(status="completed", total_batches=1, columns={"Name": "name", "X": None})
    doc = document(done, (1, {"received": 1}), NOW)
    assert doc["summary"] == {"received": 1, "columns": {"Name": "name", "X": None}}
    assert doc["metadata"]["estimatedCompletion"] == doc["updatedAt"]


def test_all_batches_done_counts_ledger_entries() -> None:
    running = job(status="processing", total_batches=3)
    assert not all_batches_done(running, 2)
    assert all_batches_done(running, 3)
    assert all_batches_done(running, 4), "a redriven dead entry never makes it fewer"
    assert not all_batches_done(job(status="processing"), 10), "not split yet"
    assert not all_batches_done(job(status="cancelled", total_batches=1), 1)
