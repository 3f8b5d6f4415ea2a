"""THE WRITE GUARANTEE (ports.py), proven by fault injection, on every adapter set.

A job of several batches runs undisturbed once. Then, for each batch and each k, the
batch is stopped right after its k-th port write (the schema-error append, each
LeadRepository.apply call of at most 25 writes, the skips, the ledger entry: every
write call, in turn), delivered again, and the job goes on. Leads, audit entries, row
outcomes and the job's totals must come out as in the undisturbed run. The file has
in-batch and cross-batch duplicates, rejections, unchanged rows, more than 25 writes in
a batch, batches in file order and out of it, and runs in every import mode.

Writes run outside any session (each write call stands alone, as on DynamoDB) and, on
top, inside the repository's session (SQLite: one transaction that the crash rolls back).
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lead_adapter_sets import ADAPTER_SETS, LeadAdapters
from test_lead_aggregate import files, splits

from leadflow.domain.merge import ImportMode, MergePolicy
from leadflow.pipelines.importing import ImportOptions, ImportSpec, lead_batch, validate_batch
from leadflow.pipelines.shaping import RecordShaper
from leadflow.pipelines.upsert import LeadBatch, LedgerEntry, WritePorts, write_batches
from leadflow.ports import LeadQuery, WriteContext

JOB = "job-1"
NEW = [{"email": f"n{i}@y.com", "name": f"New {i}"} for i in range(30)]
FILE: dict[int, list[dict[str, Any]]] = {
    0: [
        *NEW,  # rows 0-29: more than one apply call of 25
        {"email": "a@x.com", "title": "a30"},
        {"email": "A@x.com ", "title": "a31"},  # an in-batch duplicate of row 30
        {"email": "not-an-email", "title": "bad"},
        {"email": "c@x.com", "title": "same", "name": "Cy"},  # changes nothing
        {"email": "d@x.com", "title": "d34"},
    ],
    40: [
        {"email": "b@x.com", "title": "b40"},
        {"email": "d@x.com", "title": "d41"},  # a later row of batch 0's key
        {"phone": "+1 415 555 0134", "name": "Phone Person"},
        {"email": "@", "name": "bad too"},
        {"email": "a@x.com", "title": "a44"},  # later than rows 30 and 31
    ],
    50: [
        {"email": "b@x.com", "title": "b50"},
        {"email": "n5@y.com", "title": "n5 late"},
        {"name": "No Key", "company": "Acme"},
    ],
}
ORDERS = {"file order": [0, 40, 50], "out of order": [40, 50, 0]}
EXISTING = [
    {"email": "a@x.com", "title": "old a"},
    {"email": "b@x.com", "title": "old b"},
    {"email": "c@x.com", "title": "same", "name": "Cy"},
    {"phone": "+14155550134", "name": "Old Phone"},
]


class Crash(Exception):
    """The process died right after a port write."""


@dataclasses.dataclass
class Faults:
    """Counts write calls; raises Crash right after the `stop_after`-th one (0: never)."""

    stop_after: int = 0
    writes: int = 0

    def wrote(self) -> None:
        self.writes += 1
        if self.writes == self.stop_after:
            raise Crash(f"stopped after write {self.writes}")


class _Wrapped:
    """A port whose write methods count (and may crash) after they ran."""

    def __init__(self, port: Any, faults: Faults, writes: tuple[str, ...], grouped: bool) -> None:
        self._port, self._faults, self._writes, self._grouped = port, faults, writes, grouped

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._port, name)
        if name == "session" and not self._grouped:
            return contextlib.nullcontext  # every write call stands alone
        if name not in self._writes:
            return method

        def write(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            self._faults.wrote()
            return result

        return write


def faulty_ports(store: LeadAdapters, faults: Faults, grouped: bool) -> WritePorts:
    return WritePorts(
        _Wrapped(store.repo, faults, ("apply", "record_skips"), grouped),
        _Wrapped(store.errors, faults, ("append",), grouped),
        _Wrapped(store.ledger, faults, ("record",), grouped),
    )


def batch_of(first: int, mode: ImportMode) -> LeadBatch:
    spec = ImportSpec(ImportOptions(owner="alice", mode=mode), JOB, "f.csv", None, False)
    records = [(first + i, r) for i, r in enumerate(FILE[first])]
    batch = lead_batch(spec, validate_batch(records, spec, RecordShaper()), first)
    context = WriteContext("alice", JOB, f"batch-{first}", "upload", "f.csv", "T1")
    return dataclasses.replace(batch, ctx=context)


def seed(store: LeadAdapters) -> None:
    spec = ImportSpec(ImportOptions(owner="alice"), "imp-0", "old.csv", None, False)
    batch = lead_batch(spec, validate_batch(list(enumerate(EXISTING)), spec, RecordShaper()))
    context = WriteContext("alice", "imp-0", "batch-old", "upload", "old.csv", "T0")
    write_batches(store.write_ports(False), [dataclasses.replace(batch, ctx=context)])


def run_job(
    store: LeadAdapters,
    mode: ImportMode,
    order: list[int],
    crash_in: int | None = None,
    stop_after: int = 0,
    grouped: bool = False,
) -> int:
    """Seed, then run the job's batches in `order`; the batch `crash_in` is stopped after
    its `stop_after`-th write and delivered again. How many writes that batch made."""
    seed(store)
    made = 0
    for first in order:
        faults = Faults(stop_after if first == crash_in else 0)
        try:
            write_batches(faulty_ports(store, faults, grouped), [batch_of(first, mode)])
        except Crash:
            write_batches(faulty_ports(store, Faults(), grouped), [batch_of(first, mode)])
        if first == crash_in:
            made = faults.writes
    # a late duplicate delivery of every batch changes nothing
    for first in order:
        assert write_batches(store.write_ports(), [batch_of(first, mode)]) == [None]
    return made


def key_of(lead: dict[str, Any], place: int) -> str:
    """A lead's key, or for a lead without one its place in creation order."""
    return str(lead["email"] or (lead["phone"] if lead["phoneValid"] else f"keyless #{place}"))


def outcome_of(store: LeadAdapters) -> dict[str, Any]:
    """Everything the job left, with lead ids (random per run) replaced by lead keys."""
    listed, _ = store.reads.list_leads("alice", LeadQuery(limit=500))
    # a lead's key names it; keyless leads by their place in creation order
    keys = {lead["leadId"]: key_of(lead, n) for n, lead in enumerate(listed)}
    leads = {
        keys[lead["leadId"]]: {k: v for k, v in lead.items() if k != "leadId"} for lead in listed
    }
    audit = {
        keys[lead["leadId"]]: [
            {k: v for k, v in e.items() if k != "leadId"}
            for e in store.reads.lead_history("alice", lead["leadId"])
        ]
        for lead in listed
    }
    outcomes = [(row, o, keys.get(i) if i else None) for row, o, i in store.ledger.outcomes(JOB)]
    errors = sorted((e["index"], repr(e["record"])) for e in store.errors.list("alice"))
    return {
        "leads": leads,
        "audit": audit,
        "outcomes": outcomes,
        "totals": store.ledger.totals(JOB),
        "errors": errors,
    }


_fresh = itertools.count()


@pytest.fixture
def open_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[], LeadAdapters]]:
    kind = request.param

    def fresh() -> LeadAdapters:
        directory = tmp_path / f"run-{next(_fresh)}"
        directory.mkdir()
        return ADAPTER_SETS[kind](directory)

    yield fresh


@pytest.mark.parametrize("open_store", sorted(ADAPTER_SETS), indirect=True)
@pytest.mark.parametrize("grouped", [False, True], ids=["each-write-alone", "in-a-session"])
@pytest.mark.parametrize("order", sorted(ORDERS))
@pytest.mark.parametrize("mode", list(ImportMode))
def test_a_batch_stopped_after_any_write_and_redelivered_ends_as_an_undisturbed_run(
    open_store: Callable[[], LeadAdapters], mode: ImportMode, order: str, grouped: bool
) -> None:
    batches = ORDERS[order]
    reference = open_store()
    run_job(reference, mode, batches, grouped=grouped)
    expected = outcome_of(reference)
    assert expected["totals"][0] == len(batches)
    tried = 0
    for crash_in in batches:
        k = 1
        while True:
            store = open_store()
            made = run_job(store, mode, batches, crash_in, k, grouped)
            assert outcome_of(store) == expected, (crash_in, k)
            tried += 1
            if made < k:  # the batch made fewer than k writes: it never crashed
                break
            k += 1
    assert tried >= len(batches) * 3


def test_the_undisturbed_run_counts_what_the_file_says(
    tmp_path: Path,
) -> None:
    """The reference itself is right (else the comparisons above prove little)."""
    store = ADAPTER_SETS["memory"](tmp_path)
    run_job(store, ImportMode.CREATE_AND_UPDATE, ORDERS["out of order"])
    result = outcome_of(store)
    count, totals = result["totals"]
    assert count == 3
    assert totals == {
        "received": 43, "valid": 41, "invalid": 2, "rowWarnings": 0, "created": 32,
        "updated": 3, "unchanged": 1, "duplicates": 5, "ignored": 0,
    }  # fmt: skip
    leads = result["leads"]
    assert (leads["a@x.com"]["title"], leads["b@x.com"]["title"]) == ("a44", "b50")
    assert (leads["d@x.com"]["title"], leads["n5@y.com"]["title"]) == ("d41", "n5 late")
    assert leads["+14155550134"]["name"] == "Phone Person"
    assert [e["previousValues"] for e in result["audit"]["b@x.com"]] == [
        {"title": "old b"},
        {"title": "b40"},
    ]
    assert result["audit"]["c@x.com"] == []  # unchanged: no audit entry
    outcomes = {row: outcome for row, outcome, _ in result["outcomes"]}
    assert (outcomes[30], outcomes[31], outcomes[44]) == ("duplicate", "duplicate", "updated")
    assert (outcomes[32], outcomes[33], outcomes[43]) == ("invalid", "unchanged", "invalid")


@settings(max_examples=40)
@given(st.data(), st.sampled_from(list(ImportMode)), st.sampled_from(list(MergePolicy)))
def test_property_any_file_any_batching_any_crash_point(
    data: st.DataObject, mode: ImportMode, policy: MergePolicy
) -> None:
    """Random files (every kind of key, duplicates across and within batches), split
    into random batches in random order, stopped after a random write of a random batch
    and redelivered: the same leads, audit, outcomes and totals as undisturbed, on every
    adapter set."""
    rows = data.draw(files(max_rows=12), label="rows")
    batches = data.draw(splits(len(rows)), label="batches")
    crash_in = data.draw(st.integers(0, len(batches) - 1), label="crash in batch")
    stop_after = data.draw(st.integers(1, 6), label="after write")
    grouped = data.draw(st.booleans(), label="in a session")
    existing = [d for d in rows[:2] if d.key is not None]

    def run(store: LeadAdapters, crash: bool) -> dict[str, Any]:
        context = WriteContext("alice", "imp-0", "old", "upload", "old.csv", "T0")
        old = [dataclasses.replace(d, row=100 + i, title="Old") for i, d in enumerate(existing)]
        write_batches(store.write_ports(False), [LeadBatch(context, old)])
        for n, members in enumerate(batches):
            first = min(members)
            context = WriteContext("alice", JOB, f"b{first}", "upload", "f.csv", "T1")
            batch = LeadBatch(
                context, [rows[i] for i in members], mode, policy, (), LedgerEntry(JOB, first)
            )
            faults = Faults(stop_after if crash and n == crash_in else 0)
            try:
                write_batches(faulty_ports(store, faults, grouped), [batch])
            except Crash:
                write_batches(faulty_ports(store, Faults(), grouped), [batch])
        return outcome_of(store)

    with tempfile.TemporaryDirectory() as directory:
        for kind, open_set in sorted(ADAPTER_SETS.items()):
            expected = run(open_set(Path(directory) / f"{kind}-a"), crash=False)
            assert run(open_set(Path(directory) / f"{kind}-b"), crash=True) == expected
