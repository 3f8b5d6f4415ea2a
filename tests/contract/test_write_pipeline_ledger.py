"""The batch ledger: under at-least-once delivery each batch takes effect exactly once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from leadflow.adapters.memory_store import MemoryLeadStore
from leadflow.adapters.sqlite_db import Database
from leadflow.adapters.sqlite_store import SqliteLeadStore
from leadflow.pipelines.importing import BatchJob, ImportOptions, shape_batch, store_batch
from leadflow.pipelines.shaping import RecordShaper
from leadflow.ports import LeadQuery, LeadStore

StoreFactory = Callable[[], LeadStore]


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> LeadStore:
    if request.param == "memory":
        return MemoryLeadStore()
    return SqliteLeadStore(Database(tmp_path / "ledger.db"))


JOB = BatchJob(ImportOptions(owner="alice"), "job-1", "leads.json", None, spreadsheet=False)
RECORDS = [
    {"name": "Ann Keyless", "company": "Acme"},  # no email, no phone: never merged
    {"name": "Bo", "email": "bo@x.com"},
    {"name": "Bo Again", "email": " BO@x.com "},
    {"email": "not-an-email"},
]


def run(store: LeadStore, start: int, records: list[dict[str, str]]) -> object:
    batch = [(start + i, r) for i, r in enumerate(records)]
    return store_batch(store, JOB, shape_batch(batch, JOB, RecordShaper()), None, start)


def leads(store: LeadStore) -> list[dict[str, object]]:
    items, _ = store.list_leads("alice", LeadQuery(limit=100))
    return items


def test_a_redelivered_batch_changes_nothing_and_counts_once(store: LeadStore) -> None:
    first = run(store, 0, RECORDS)
    assert first is not None
    before = leads(store)
    errors_before = store.list_schema_errors("alice")
    assert run(store, 0, RECORDS) is None  # the same batch again: a redelivery
    assert leads(store) == before  # the keyless lead was not created twice
    assert len(store.list_schema_errors("alice")) == len(errors_before)
    batches, totals = store.batch_totals("job-1")
    assert batches == 1
    assert totals == {
        "received": 4,
        "valid": 3,
        "invalid": 1,
        "duplicates": 1,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "ignored": 0,
        "rowWarnings": 0,
    }


def test_batches_redelivered_out_of_order_give_the_single_pass_result(
    store: LeadStore,
) -> None:
    later = [{"name": "Bo Last", "email": "bo@x.com"}, {"name": "Cy", "email": "cy@x.com"}]
    assert run(store, 10, later) is not None
    assert run(store, 0, RECORDS) is not None
    assert run(store, 10, later) is None
    assert run(store, 0, RECORDS) is None
    by_email = {lead["email"]: lead for lead in leads(store)}
    assert by_email["bo@x.com"]["name"] == "Bo Last"  # the last occurrence in the file
    batches, totals = store.batch_totals("job-1")
    assert batches == 2
    assert totals["created"] == 3  # Ann, Bo, Cy
    assert totals["duplicates"] == 2  # both earlier Bo rows
    assert totals["received"] == 6


def test_a_batch_that_fails_midway_is_not_in_the_ledger(
    store: LeadStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error inside the transaction rolls back the claim with the rest."""
    import leadflow.pipelines.upsert as upsert

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("the disk filled up")

    monkeypatch.setattr(upsert, "plan_batch", broken)
    with pytest.raises(RuntimeError):
        run(store, 0, RECORDS)
    monkeypatch.undo()
    assert store.batch_totals("job-1") == (0, {})
    assert run(store, 0, RECORDS) is not None  # the retry applies it
    assert store.batch_totals("job-1")[0] == 1


def test_undo_takes_an_import_back(store: LeadStore) -> None:
    earlier = BatchJob(ImportOptions(owner="alice"), "job-0", "old.json", None, spreadsheet=False)
    batch = [(0, {"name": "Bo Old", "email": "bo@x.com", "title": "CTO"})]
    store_batch(store, earlier, shape_batch(batch, earlier, RecordShaper()), None, 0)
    (bo_before,) = leads(store)
    assert run(store, 0, RECORDS) is not None  # creates Ann, updates Bo
    assert {lead["name"] for lead in leads(store)} == {"Ann Keyless", "Bo Again"}
    result = store.undo_import("alice", "job-1", "2030-01-01T00:00:00.000Z")
    assert (result.deleted, result.restored, result.conflicts) == (1, 1, [])
    (bo_after,) = leads(store)
    for field in ("leadId", "name", "firstName", "lastName", "title", "email", "sourceFile"):
        assert bo_after[field] == bo_before[field], field
    history = store.lead_history("alice", bo_after["leadId"])
    assert [entry["action"] for entry in history] == ["lead_updated", "import_undone"]
    # the import had no title for Bo: it kept his (issue 9 4.1) and the undo restores
    # only what the import changed
    assert history[-1]["restoredValues"] == {"lastName": "Old", "name": "Bo Old"}
    assert history[-1]["previousValues"] == {"lastName": "Again"}
    assert history[-1]["fieldsChanged"] == ["lastName"]
    nothing = store.undo_import("bob", "job-1", "2030-01-01T00:00:00.000Z")
    assert (nothing.deleted, nothing.restored, nothing.conflicts) == (0, 0, [])


def test_a_dead_batch_counts_as_done_until_its_redrive_takes_its_place(store: LeadStore) -> None:
    with store.unit_of_work() as uow:
        assert uow.mark_dead("job-9", 0)
        assert not uow.mark_dead("job-9", 0)
    assert store.batch_totals("job-9") == (1, {"deadLettered": 1})
    with store.unit_of_work() as uow:
        assert uow.claim_batch("job-9", 0)  # the redriven batch runs
        uow.finish_batch("job-9", 0, {"received": 2})
    batches, totals = store.batch_totals("job-9")
    assert (batches, totals["received"], totals.get("deadLettered", 0)) == (1, 2, 0)
    with store.unit_of_work() as uow:
        assert not uow.claim_batch("job-9", 0)  # applied: a redelivery is a no-op
        assert not uow.mark_dead("job-9", 0)


def test_forgetting_a_job_drops_its_ledger_and_skips_but_not_its_leads(store: LeadStore) -> None:
    assert run(store, 0, RECORDS) is not None
    with store.unit_of_work() as uow:
        uow.record_skips("alice", "job-1", {"z@x.com": 7})
        uow.record_skips("alice", "job-2", {"z@x.com": 8})
    store.forget_job("job-1")
    assert store.batch_totals("job-1") == (0, {})
    assert list(store.batch_outcomes("job-1")) == []
    with store.unit_of_work() as uow:
        assert uow.find_skips("alice", "job-1", ["z@x.com"]) == {}
        assert uow.find_skips("alice", "job-2", ["z@x.com"]) == {"z@x.com": 8}
    assert len(leads(store)) == 2
