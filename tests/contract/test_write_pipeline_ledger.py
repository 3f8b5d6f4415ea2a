"""The batch ledger: under at-least-once delivery each batch takes effect exactly once."""

from __future__ import annotations

import pytest
from lead_adapter_sets import LeadAdapters

from leadflow.pipelines.importing import ImportOptions, ImportSpec, lead_batch, validate_batch
from leadflow.pipelines.shaping import RecordShaper
from leadflow.pipelines.upsert import BatchResult, write_batches
from leadflow.ports import LeadQuery


@pytest.fixture
def store(adapters: LeadAdapters) -> LeadAdapters:
    return adapters


JOB = ImportSpec(ImportOptions(owner="alice"), "job-1", "leads.json", None, spreadsheet=False)
RECORDS = [
    {"name": "Ann Keyless", "company": "Acme"},  # no email, no phone: never merged
    {"name": "Bo", "email": "bo@x.com"},
    {"name": "Bo Again", "email": " BO@x.com "},
    {"email": "not-an-email"},
]


def run(
    store: LeadAdapters, start: int, records: list[dict[str, str]], spec: ImportSpec = JOB
) -> BatchResult | None:
    batch = [(start + i, r) for i, r in enumerate(records)]
    shaped = validate_batch(batch, spec, RecordShaper())
    return write_batches(store.write_ports(), [lead_batch(spec, shaped, start)])[0]


def leads(store: LeadAdapters) -> list[dict[str, object]]:
    items, _ = store.reads.list_leads("alice", LeadQuery(limit=100))
    return items


def test_a_redelivered_batch_changes_nothing_and_counts_once(store: LeadAdapters) -> None:
    first = run(store, 0, RECORDS)
    assert first is not None
    before = leads(store)
    errors_before = store.errors.list("alice")
    assert run(store, 0, RECORDS) is None  # the same batch again: a redelivery
    assert leads(store) == before  # the keyless lead was not created twice
    assert len(store.errors.list("alice")) == len(errors_before)
    batches, totals = store.ledger.totals("job-1")
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
    store: LeadAdapters,
) -> None:
    later = [{"name": "Bo Last", "email": "bo@x.com"}, {"name": "Cy", "email": "cy@x.com"}]
    assert run(store, 10, later) is not None
    assert run(store, 0, RECORDS) is not None
    assert run(store, 10, later) is None
    assert run(store, 0, RECORDS) is None
    by_email = {lead["email"]: lead for lead in leads(store)}
    assert by_email["bo@x.com"]["name"] == "Bo Last"  # the last occurrence in the file
    batches, totals = store.ledger.totals("job-1")
    assert batches == 2
    assert totals["created"] == 3  # Ann, Bo, Cy
    assert totals["duplicates"] == 2  # both earlier Bo rows
    assert totals["received"] == 6


def test_undo_takes_an_import_back(store: LeadAdapters) -> None:
    earlier = ImportSpec(ImportOptions(owner="alice"), "job-0", "old.json", None, spreadsheet=False)
    run(store, 0, [{"name": "Bo Old", "email": "bo@x.com", "title": "CTO"}], earlier)
    (bo_before,) = leads(store)
    assert run(store, 0, RECORDS) is not None  # creates Ann, updates Bo
    assert {lead["name"] for lead in leads(store)} == {"Ann Keyless", "Bo Again"}
    result = store.repo.undo_import("alice", "job-1", "2030-01-01T00:00:00.000Z")
    assert (result.deleted, result.restored, result.conflicts) == (1, 1, [])
    (bo_after,) = leads(store)
    for field in ("leadId", "name", "firstName", "lastName", "title", "email", "sourceFile"):
        assert bo_after[field] == bo_before[field], field
    history = store.reads.lead_history("alice", bo_after["leadId"])
    assert [entry["action"] for entry in history] == ["lead_updated", "import_undone"]
    # the import had no title for Bo: it kept his (issue 9 4.1) and the undo restores
    # only what the import changed
    assert history[-1]["restoredValues"] == {"lastName": "Old", "name": "Bo Old"}
    assert history[-1]["previousValues"] == {"lastName": "Again"}
    assert history[-1]["fieldsChanged"] == ["lastName"]
    nothing = store.repo.undo_import("bob", "job-1", "2030-01-01T00:00:00.000Z")
    assert (nothing.deleted, nothing.restored, nothing.conflicts) == (0, 0, [])


def test_a_dead_batch_counts_as_done_until_its_redrive_takes_its_place(
    store: LeadAdapters,
) -> None:
    ledger = store.ledger
    assert ledger.mark_dead("job-9", 0)
    assert not ledger.mark_dead("job-9", 0)
    assert ledger.totals("job-9") == (1, {"deadLettered": 1})
    assert not ledger.has("job-9", 0)  # a dead entry is no reason to skip the batch
    assert ledger.record("job-9", 0, {"received": 2}, [(0, "created", "L1")])  # the redrive
    assert ledger.has("job-9", 0)
    batches, totals = ledger.totals("job-9")
    assert (batches, totals["received"], totals.get("deadLettered", 0)) == (1, 2, 0)
    assert not ledger.record("job-9", 0, {"received": 5})  # in already: put-if-absent
    assert not ledger.mark_dead("job-9", 0)
    assert ledger.totals("job-9") == (1, {"received": 2, "deadLettered": 0})
    assert list(ledger.outcomes("job-9")) == [(0, "created", "L1")]


def test_a_jobs_totals_are_the_sum_of_its_entries(store: LeadAdapters) -> None:
    ledger = store.ledger
    assert ledger.totals("job-5") == (0, {})
    assert ledger.record("job-5", 10, {"received": 3, "created": 1}, [(11, "created", "b")])
    assert ledger.record("job-5", 0, {"received": 2, "updated": 2}, [(0, "updated", "a")])
    assert ledger.mark_dead("job-5", 20)
    assert ledger.record("job-6", 0, {"received": 7})
    assert ledger.totals("job-5") == (
        3, {"received": 5, "created": 1, "updated": 2, "deadLettered": 1}
    )  # fmt: skip
    assert list(ledger.outcomes("job-5")) == [(0, "updated", "a"), (11, "created", "b")]
    assert (ledger.has("job-5", 0), ledger.has("job-5", 20), ledger.has("job-5", 30)) == (
        True, False, False,
    )  # fmt: skip
    ledger.forget("job-5")
    assert ledger.totals("job-5") == (0, {})
    assert ledger.totals("job-6") == (1, {"received": 7})


def test_forgetting_a_job_drops_its_ledger_receipts_and_skips_but_not_its_leads(
    store: LeadAdapters,
) -> None:
    assert run(store, 0, RECORDS) is not None
    assert store.repo.receipts("job-1", range(4)) != {}
    store.repo.record_skips("alice", "job-1", {"z@x.com": 7})
    store.repo.record_skips("alice", "job-2", {"z@x.com": 8})
    store.ledger.forget("job-1")
    store.repo.forget_import("job-1")
    assert store.ledger.totals("job-1") == (0, {})
    assert list(store.ledger.outcomes("job-1")) == []
    assert store.repo.receipts("job-1", range(4)) == {}
    assert store.repo.find_skips("alice", "job-1", ["z@x.com"]) == {}
    assert store.repo.find_skips("alice", "job-2", ["z@x.com"]) == {"z@x.com": 8}
    assert len(leads(store)) == 2


def test_only_ledgered_batches_write_receipts_and_ledger_entries(store: LeadAdapters) -> None:
    """Issue 9 point 5: an import nobody redelivers (CLI, POST /v1/records) writes no
    receipts and no ledger entry; a queued batch writes a receipt per row it stored."""
    spec = ImportSpec(ImportOptions(owner="alice"), "cli-1", "f.csv", None, spreadsheet=False)
    shaped = validate_batch(list(enumerate(RECORDS)), spec, RecordShaper())
    [result] = write_batches(store.write_ports(ledgered=False), [lead_batch(spec, shaped)])
    assert result is not None and result.counts["created"] == 2
    assert store.repo.receipts("cli-1", range(4)) == {}
    assert store.ledger.totals("cli-1") == (0, {})
    assert run(store, 0, RECORDS) is not None  # the same records, as a queued batch
    receipts = store.repo.receipts("job-1", range(4))
    # row 0 has no key (a new lead again); row 2 is Bo as stored; row 1 an in-batch
    # duplicate and row 3 invalid: no lead write, no receipt
    assert {row: r.outcome for row, r in receipts.items()} == {0: "created", 2: "unchanged"}
    assert (receipts[0].counts, receipts[2].counts) == ({"created": 1}, {"unchanged": 1})
