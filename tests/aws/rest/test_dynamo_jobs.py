"""The DynamoDB JobStore on moto: conditional updates, ttl filtered on read."""

from __future__ import annotations

from typing import Any

import pytest

from leadflow.adapters.dynamo_jobs import DynamoJobStore
from leadflow.adapters.dynamo_tables_rest import create_rest_tables
from leadflow.ports import DEAD_LETTERED_CODE, JOB_TTL_SECONDS, DuplicateJob, Job


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(client: Any, clock: Clock) -> DynamoJobStore:
    db = client("dynamodb")
    create_rest_tables(db, "t")
    return DynamoJobStore.for_prefix(db, "t", clock)


def job(job_id: str, owner: str = "alice", created: str = "2027-01-15T08:00:00.000Z") -> Job:
    return Job(job_id, owner, "import", "uploading", "file_upload", {"mode": "upsert"},
               created, created, file_name="a.csv")  # fmt: skip


def test_create_get_and_duplicates(store: DynamoJobStore) -> None:
    store.create(job("j1"))
    assert store.get("j1") == job("j1")
    assert store.get("j1", "alice") is not None and store.get("j1", "bob") is None
    assert store.get("nope") is None
    with pytest.raises(DuplicateJob):
        store.create(job("j1"))


def test_update_round_trips_every_kind_of_field(store: DynamoJobStore, clock: Clock) -> None:
    store.create(job("j1"))
    assert store.update(
        "j1", status="processing", total_batches=3, total_leads=250, file_size=1234,
        error={"code": "x", "message": "m"}, warnings=["w"], columns={"E-mail": "email", "x": None},
        start_time="2027-01-15T08:00:01.000Z",
    )  # fmt: skip
    got = store.get("j1")
    assert got is not None
    assert (got.status, got.total_batches, got.total_leads, got.file_size) == (
        "processing", 3, 250, 1234)  # fmt: skip
    assert got.columns == {"E-mail": "email", "x": None} and got.warnings == ["w"]
    assert store.update("j1", error=None)
    assert store.get("j1").error is None  # type: ignore[union-attr]
    with pytest.raises(TypeError):
        store.update("j1", bogus=1)
    assert store.update("nope", stage="x") is False


def test_an_ended_job_stays_ended(store: DynamoJobStore, clock: Clock) -> None:
    store.create(job("j1"))
    assert store.update("j1", status="cancelled", stage="cancelled")
    ended = store.get("j1")
    assert ended is not None and ended.ended_at == clock.now
    assert ended.ttl == int(clock.now + JOB_TTL_SECONDS)
    assert store.update("j1", status="processing") is False
    assert store.update("j1", stage="batch_processing", result_key="r") is True
    got = store.get("j1")
    assert got is not None and got.stage == "cancelled" and got.result_key == "r"
    assert store.cancel("j1", "alice") is False
    assert store.cancel("j1", "bob") is None
    assert store.reopen("j1") is False


def test_past_its_ttl_a_job_reads_as_absent(store: DynamoJobStore, clock: Clock) -> None:
    store.create(job("j1"))
    store.create(job("j2", created="2027-01-15T09:00:00.000Z"))
    store.update("j1", status="completed", stage="completed")
    clock.now += JOB_TTL_SECONDS + 1
    assert store.get("j1") is None  # moto (like DynamoDB, for a while) still has it
    assert [j.job_id for j in store.list("alice")] == ["j2"]
    assert store.update("j1", stage="x") is False
    assert [j.job_id for j in store.expired(clock.now)] == ["j1"]
    assert store.expired(clock.now - JOB_TTL_SECONDS - 1) == []
    assert store.forget("j1") is True and store.forget("j1") is False
    assert store.expired(clock.now) == []


def test_list_newest_first_per_owner(store: DynamoJobStore) -> None:
    for i in range(5):
        store.create(job(f"j{i}", created=f"2027-01-15T08:00:0{i}.000Z"))
    store.create(job("same", created="2027-01-15T08:00:04.000Z"))
    store.create(job("b1", owner="bob"))
    assert [j.job_id for j in store.list("alice")] == ["same", "j4", "j3", "j2", "j1", "j0"]
    assert [j.job_id for j in store.list("alice", limit=2)] == ["same", "j4"]
    assert [j.job_id for j in store.list("bob")] == ["b1"]


def test_reopen_only_a_dead_lettered_error(store: DynamoJobStore) -> None:
    store.create(job("j1"))
    store.create(job("j2"))
    store.update("j1", status="error", error={"code": DEAD_LETTERED_CODE, "message": "m"})
    store.update("j2", status="error", error={"code": "bad_file", "message": "m"})
    assert store.reopen("j2") is False
    assert store.reopen("j1") is True
    got = store.get("j1")
    assert got is not None and got.status == "processing"
    assert (got.error, got.ended_at, got.ttl) == (None, None, None)
    assert store.reopen("j1") is False


def test_claim_undo_once_unless_stale(store: DynamoJobStore, clock: Clock) -> None:
    store.create(job("j1"))
    assert store.claim_undo("j1", "bob", 600) is False
    assert store.claim_undo("j1", "alice", 600) is True
    assert store.claim_undo("j1", "alice", 600) is False
    clock.now += 601
    assert store.claim_undo("j1", "alice", 600) is True  # its process died
    store.release_undo("j1")
    got = store.get("j1")
    assert got is not None and got.undo is None
    assert store.claim_undo("j1", "alice", 600) is True
    store.update("j1", undo={"state": "done", "restored": 3})
    assert store.claim_undo("j1", "alice", 0) is False
    store.release_undo("j1")  # a finished undo stays
    assert store.get("j1").undo == {"state": "done", "restored": 3}  # type: ignore[union-attr]


def test_a_ttl_ends_at_its_second_not_the_next(store: DynamoJobStore, clock: Clock) -> None:
    store.create(job("j1"))
    store.update("j1", status="completed", ttl=int(clock.now) + 10)
    clock.now += 10.5  # ttl < now by half a second
    assert store.get("j1") is None
    assert store.update("j1", result_key="r") is False
