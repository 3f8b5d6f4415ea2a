"""The JobStore contract (ports.JobStore), on every adapter set."""

from __future__ import annotations

import pytest
from port_adapters import AdapterSet

from leadflow.jobs.status import new_job
from leadflow.ports import DEAD_LETTERED_CODE, JOB_TTL_SECONDS, DuplicateJob, JobStore


def make(adapter_set: AdapterSet, job_id: str = "j1", owner: str = "alice") -> JobStore:
    jobs = adapter_set.jobs()
    jobs.create(new_job(job_id, owner, "upload", {"mode": "create"}, adapter_set.clock(), "a.csv"))
    return jobs


def test_create_then_get_gives_the_job_back(adapter_set: AdapterSet) -> None:
    jobs = make(adapter_set)
    job = jobs.get("j1")
    assert job is not None
    assert (job.owner, job.kind, job.status, job.stage) == (
        "alice",
        "upload",
        "uploading",
        "file_upload",
    )
    assert job.options == {"mode": "create"} and job.file_name == "a.csv"
    assert job.ttl is None and job.ended_at is None
    assert jobs.get("j1", "alice") == job
    assert jobs.get("j1", "bob") is None, "another owner's job reads as absent"
    assert jobs.get("nope") is None


def test_an_id_is_created_once(adapter_set: AdapterSet) -> None:
    jobs = make(adapter_set)
    with pytest.raises(DuplicateJob):
        jobs.create(new_job("j1", "bob", "upload", {}, adapter_set.clock()))
    job = jobs.get("j1")
    assert job is not None and job.owner == "alice"


def test_update_sets_fields_and_updated_at(adapter_set: AdapterSet) -> None:
    jobs = make(adapter_set)
    adapter_set.advance(5)
    warnings = ["row 3: odd"]
    columns: dict[str, str | None] = {"Name": "name", "X": None}
    assert jobs.update(
        "j1", status="processing", total_batches=3, warnings=warnings, columns=columns,
        error=None, start_time="2027-01-15T08:00:00.000Z",
    )  # fmt: skip
    job = jobs.get("j1")
    assert job is not None
    assert (job.status, job.total_batches, job.warnings, job.columns) == (
        "processing", 3, warnings, columns,
    )  # fmt: skip
    assert job.updated_at > job.created_at
    assert jobs.update("nope", stage="batch_processing") is False


def test_unknown_fields_are_refused(adapter_set: AdapterSet) -> None:
    jobs = make(adapter_set)
    for bad in ({"colour": "red"}, {"job_id": "j2"}, {"owner": "bob"}):
        with pytest.raises(TypeError):
            jobs.update("j1", **bad)


@pytest.mark.parametrize("ending", ["completed", "error", "cancelled"])
def test_an_ended_job_stays_ended(adapter_set: AdapterSet, ending: str) -> None:
    jobs = make(adapter_set)
    assert jobs.update("j1", status="processing", stage="batch_processing")
    assert jobs.update("j1", status=ending, stage=ending)
    ended = jobs.get("j1")
    assert ended is not None
    assert ended.ended_at == adapter_set.clock()
    assert ended.ttl == int(adapter_set.clock() + JOB_TTL_SECONDS)
    assert jobs.update("j1", status="processing") is False, "a late status is refused"
    assert jobs.update("j1", status="completed", result_key="r") is False
    assert jobs.update("j1", stage="file_processing", total_batches=7), "other fields apply"
    job = jobs.get("j1")
    assert job is not None
    assert (job.status, job.stage, job.total_batches, job.result_key) == (ending, ending, 7, None)


def test_an_ending_update_may_set_its_own_ttl(adapter_set: AdapterSet) -> None:
    jobs = make(adapter_set)
    assert jobs.update("j1", status="error", ttl=int(adapter_set.clock()) + 60)
    job = jobs.get("j1")
    assert job is not None and job.ttl == int(adapter_set.clock()) + 60


def test_a_job_past_its_ttl_reads_as_absent(adapter_set: AdapterSet) -> None:
    jobs = make(adapter_set)
    make_other = new_job("j2", "alice", "upload", {}, adapter_set.clock())
    jobs.create(make_other)
    assert jobs.update("j1", status="completed")
    job = jobs.get("j1")
    assert job is not None and job.ttl is not None
    adapter_set.advance(job.ttl - adapter_set.clock())  # at its ttl: still there
    assert jobs.get("j1") is not None
    adapter_set.advance(1)  # past it
    assert jobs.get("j1") is None
    assert jobs.get("j1", "alice") is None
    assert [j.job_id for j in jobs.list("alice")] == ["j2"]
    assert jobs.update("j1", stage="x") is False
    assert jobs.cancel("j1", "alice") is None
    assert jobs.claim_undo("j1", "alice", 600) is False
    assert [j.job_id for j in jobs.expired(adapter_set.clock())] == ["j1"]


def test_expired_lists_earliest_ttl_first_and_forget_deletes(adapter_set: AdapterSet) -> None:
    jobs = adapter_set.jobs()
    for n in range(3):
        jobs.create(new_job(f"j{n}", "alice", "upload", {}, adapter_set.clock()))
    assert jobs.update("j2", status="completed", ttl=1000)
    assert jobs.update("j0", status="error", ttl=2000)
    assert jobs.update("j1", status="cancelled", ttl=int(adapter_set.clock()) + 10)
    assert [j.job_id for j in jobs.expired(1500)] == ["j2"]
    assert [j.job_id for j in jobs.expired(adapter_set.clock())] == ["j2", "j0"]
    assert [j.job_id for j in jobs.expired(adapter_set.clock(), limit=1)] == ["j2"]
    assert jobs.forget("j2") is True
    assert jobs.forget("j2") is False
    assert jobs.forget("j1") is True, "a live job may be forgotten too"
    assert [j.job_id for j in jobs.expired(adapter_set.clock() + 100)] == ["j0"]


def test_list_is_the_owners_newest_first(adapter_set: AdapterSet) -> None:
    jobs = adapter_set.jobs()
    for n, owner in enumerate(["alice", "bob", "alice", "alice"]):
        jobs.create(new_job(f"j{n}", owner, "upload", {}, adapter_set.clock()))
        adapter_set.advance(1)
    assert [j.job_id for j in jobs.list("alice")] == ["j3", "j2", "j0"]
    assert [j.job_id for j in jobs.list("alice", limit=2)] == ["j3", "j2"]
    assert [j.job_id for j in jobs.list("bob")] == ["j1"]
    assert jobs.list("carol") == []


def test_cancel(adapter_set: AdapterSet) -> None:
    jobs = make(adapter_set)
    assert jobs.cancel("j1", "bob") is None
    assert jobs.cancel("nope", "alice") is None
    assert jobs.cancel("j1", "alice") is True
    job = jobs.get("j1")
    assert job is not None and (job.status, job.stage) == ("cancelled", "cancelled")
    assert job.ttl is not None
    assert jobs.cancel("j1", "alice") is False


def test_reopen_only_takes_back_a_dead_lettered_error(adapter_set: AdapterSet) -> None:
    jobs = make(adapter_set)
    assert jobs.reopen("j1") is False, "not ended"
    assert jobs.update("j1", status="error", error={"code": "unreadable_file", "message": "x"})
    assert jobs.reopen("j1") is False
    jobs.create(new_job("j2", "alice", "upload", {}, adapter_set.clock()))
    assert jobs.update("j2", status="error", error={"code": DEAD_LETTERED_CODE, "message": "m"})
    assert jobs.reopen("j2") is True
    job = jobs.get("j2")
    assert job is not None
    assert (job.status, job.error, job.ended_at, job.ttl) == ("processing", None, None, None)
    assert jobs.reopen("j2") is False
    jobs.create(new_job("j3", "alice", "upload", {}, adapter_set.clock()))
    assert jobs.update("j3", status="completed")
    assert jobs.reopen("j3") is False


def test_claim_undo_is_won_once_until_stale_or_released(adapter_set: AdapterSet) -> None:
    jobs = make(adapter_set)
    assert jobs.claim_undo("j1", "bob", 600) is False, "another owner's"
    assert jobs.claim_undo("j1", "alice", 600) is True
    job = jobs.get("j1")
    assert job is not None and job.undo is not None
    assert job.undo["state"] == "running" and job.undo["startedEpoch"] == adapter_set.clock()
    assert job.undo["startedAt"].endswith("Z")
    assert jobs.claim_undo("j1", "alice", 600) is False, "one running undo"
    adapter_set.advance(601)
    assert jobs.claim_undo("j1", "alice", 600) is True, "a stale undo is taken over"
    jobs.release_undo("j1")
    job = jobs.get("j1")
    assert job is not None and job.undo is None
    assert jobs.claim_undo("j1", "alice", 600) is True
    assert jobs.update("j1", undo={"state": "done", "deleted": 1})
    jobs.release_undo("j1")  # a finished undo is not forgotten
    adapter_set.advance(10_000)
    assert jobs.claim_undo("j1", "alice", 600) is False, "undone already"
    job = jobs.get("j1")
    assert job is not None and job.undo == {"state": "done", "deleted": 1}
