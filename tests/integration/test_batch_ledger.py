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
    deleted, restored = store.undo_import("alice", "job-1", "2030-01-01T00:00:00.000Z")
    assert (deleted, restored) == (1, 1)
    (bo_after,) = leads(store)
    for field in ("leadId", "name", "firstName", "lastName", "title", "email", "sourceFile"):
        assert bo_after[field] == bo_before[field], field
    history = store.lead_history("alice", bo_after["leadId"])
    assert [entry["action"] for entry in history] == ["lead_updated", "import_undone"]
    assert store.undo_import("bob", "job-1", "2030-01-01T00:00:00.000Z") == (0, 0)
