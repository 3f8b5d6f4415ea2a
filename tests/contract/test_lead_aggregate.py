"""The lead aggregate's contract: every adapter set (memory, SQLite ...) passes the same tests.

Scenarios run through the real pipeline functions (upsert.write_batches, import_records,
run_optin) so what is tested is what the service does: merges, counts, the audit trail,
the skip ledger, search, sort and cursor pages, the schema-error log and the conditional
writes of LeadRepository.apply. A property test runs random files, split into random
batches in random order, on every adapter set and on one batch, and demands the same
leads and counts everywhere.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import random
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lead_adapter_sets import ADAPTER_SETS, LeadAdapters

from leadflow.adapters.memory_store import MemoryUserStore
from leadflow.adapters.sqlite_db import Database
from leadflow.adapters.sqlite_store import SqliteUserStore
from leadflow.domain.lead import FieldError, LeadDraft, Rejection
from leadflow.domain.merge import ImportMode, MergePolicy, Outcome
from leadflow.domain.names import join_name
from leadflow.pipelines.importing import ImportOptions, PipelineName, import_records
from leadflow.pipelines.optin import run_optin
from leadflow.pipelines.upsert import LeadBatch, write_batches
from leadflow.ports import BadCursor, LeadQuery, LeadWrite, UserStore, WriteContext

ADAPTERS = sorted(ADAPTER_SETS)
CU, CREATE_ONLY, UPDATE_ONLY = list(ImportMode)
REPLACE, FILL = MergePolicy.REPLACE, MergePolicy.FILL
SORTS = ("createdAt", "updatedAt", "name", "lastName", "company", "email")


def open_store(kind: str, directory: Path) -> LeadAdapters:
    directory.mkdir(parents=True, exist_ok=True)
    return ADAPTER_SETS[kind](directory)


@pytest.fixture
def store(adapters: LeadAdapters) -> LeadAdapters:
    return adapters


@pytest.fixture
def both(tmp_path: Path) -> list[LeadAdapters]:
    """One store of each adapter set, to run a scenario side by side and compare outputs."""
    return [open_store(kind, tmp_path / kind) for kind in ADAPTERS]


# --- helpers ---------------------------------------------------------------------------------


def draft(
    row: int,
    email: str | None = None,
    phone: str | None = None,
    *,
    first: str = "",
    last: str = "",
    title: str = "",
    company: str = "",
    remarks: str = "",
    opt_in: bool | None = None,
    interests: list[str] | None = None,
    attributes: dict[str, Any] | None = None,
    phone_valid: bool | None = None,
) -> LeadDraft:
    if phone is not None and phone_valid is None:
        phone_valid = phone.startswith("+")
    return LeadDraft(
        row, email, phone, phone_valid, first, last, join_name(first, last), title, company,
        remarks, opt_in, interests, attributes or {},
    )  # fmt: skip


def ctx(
    import_id: str = "imp-1",
    owner: str = "alice",
    *,
    batch: str = "b-1",
    source: str = "upload",
    source_file: str | None = "leads.csv",
    now: str = "2026-01-01T00:00:00.000Z",
) -> WriteContext:
    return WriteContext(owner, import_id, batch, source, source_file, now)


@dataclasses.dataclass
class Written:
    """What write_batches said of one batch: its counts and each row's outcome."""

    counts: dict[str, int]
    outcomes: dict[int, tuple[Outcome, str | None]]


def write(
    store: LeadAdapters,
    context: WriteContext,
    drafts: Sequence[LeadDraft],
    mode: ImportMode = CU,
    policy: MergePolicy = REPLACE,
    rejections: Sequence[Rejection] = (),
) -> Written:
    """One batch through write_batches, without a ledger (as the API and CLI write)."""
    batch = LeadBatch(context, drafts, mode, policy, rejections)
    [result] = write_batches(store.write_ports(ledgered=False), [batch])
    assert result is not None
    outcomes = {row: (Outcome(o), lead_id) for row, o, lead_id in result.outcomes}
    return Written(result.counts, outcomes)


def upsert(
    store: LeadAdapters,
    drafts: Sequence[LeadDraft],
    import_id: str = "imp-1",
    mode: ImportMode = CU,
    policy: MergePolicy = REPLACE,
    **context: Any,
) -> Written:
    return write(store, ctx(import_id, **context), drafts, mode, policy)


def counts(plans: Sequence[Written]) -> tuple[int, int, int, int, int]:
    """(created, updated, duplicates, skipped, unchanged) summed over batches."""
    names = ("created", "updated", "duplicates", "ignored", "unchanged")
    a, b, c, d, e = (sum(p.counts.get(name, 0) for p in plans) for name in names)
    return a, b, c, d, e


def pages(store: LeadAdapters, owner: str = "alice", **query: Any) -> list[list[dict[str, Any]]]:
    """Every page of a listing, following nextCursor to the end."""
    out = []
    cursor = None
    while True:
        items, cursor = store.reads.list_leads(owner, LeadQuery(cursor=cursor, **query))
        out.append(items)
        if cursor is None:
            return out
        assert len(out) < 1000, "the cursor does not advance"


def leads(store: LeadAdapters, owner: str = "alice", **query: Any) -> list[dict[str, Any]]:
    return [lead for page in pages(store, owner, limit=500, **query) for lead in page]


def by_email(store: LeadAdapters, owner: str = "alice") -> dict[str | None, dict[str, Any]]:
    found = {lead["email"]: lead for lead in leads(store, owner)}
    assert len(found) == store.reads.count_leads(owner)
    return found


def assert_same(got: Any, expected: Any) -> None:
    """Equal, and with the same JSON types: 1 == True in Python, but not in a document."""
    assert got == expected
    assert json.dumps(got, sort_keys=True) == json.dumps(expected, sort_keys=True)


def without_id(lead: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in lead.items() if k != "leadId"}


def history(store: LeadAdapters, lead: dict[str, Any]) -> list[dict[str, Any]]:
    return store.reads.lead_history(lead["owner"], lead["leadId"])


# --- create, update, audit -------------------------------------------------------------------


def test_a_new_lead_is_stored_with_every_field(store: LeadAdapters) -> None:
    new = draft(
        0, "ada@example.com", "+14155550134", first="Ada", last="Lovelace", title="CTO",
        company="Acme", remarks="met at a fair", opt_in=True, interests=["py", "é"],
        attributes={"Region": "Nord", "score": 3, "tags": ["x", {"y": None}]},
    )  # fmt: skip
    plan = upsert(store, [new], source="api", source_file=None)
    assert counts([plan]) == (1, 0, 0, 0, 0)
    [(outcome, lead_id)] = plan.outcomes.values()
    assert outcome is Outcome.CREATED and lead_id is not None
    lead = store.reads.get_lead("alice", lead_id)
    assert_same(
        lead,
        {
            "leadId": lead_id,
            "owner": "alice",
            "firstName": "Ada",
            "lastName": "Lovelace",
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "phone": "+14155550134",
            "phoneValid": True,
            "title": "CTO",
            "company": "Acme",
            "remarks": "met at a fair",
            "optIn": True,
            "interests": ["py", "é"],
            "source": "api",
            "sourceFile": None,
            "attributes": {"Region": "Nord", "score": 3, "tags": ["x", {"y": None}]},
            "enrichment": {},
            "createdAt": "2026-01-01T00:00:00.000Z",
            "updatedAt": "2026-01-01T00:00:00.000Z",
        },
    )
    assert leads(store) == [lead]
    assert store.reads.count_leads("alice") == 1
    assert store.reads.lead_history("alice", lead_id) == []
    assert store.reads.get_lead("alice", "no-such-id") is None


def test_an_update_keeps_id_and_creation_and_writes_history(store: LeadAdapters) -> None:
    upsert(store, [draft(1, "ada@x.com", "+14155550134", first="Ada", last="L", title="CTO")])
    [before] = leads(store)
    plan = upsert(
        store,
        [draft(4, "ada@x.com", "call me", first="Ada", last="King", title="CTO", opt_in=True)],
        "imp-2",
        batch="b-2",
        source="inbox",
        source_file="inbox.csv",
        now="2026-01-02T00:00:00.000Z",
    )
    assert counts([plan]) == (0, 1, 0, 0, 0)
    assert plan.outcomes[4] == (Outcome.UPDATED, before["leadId"])
    after = store.reads.get_lead("alice", before["leadId"])
    assert after is not None
    assert_same(
        after,
        {
            **before,
            "lastName": "King",
            "name": "Ada King",
            "phone": "call me",
            "phoneValid": False,
            "optIn": True,
            "sourceFile": "inbox.csv",
            "updatedAt": "2026-01-02T00:00:00.000Z",
        },
    )  # source is where the lead came from first: it stays
    assert_same(
        history(store, after),
        [
            {
                "action": "lead_updated",
                "leadId": before["leadId"],
                "email": "ada@x.com",
                "previousSourceFile": "leads.csv",
                "newSourceFile": "inbox.csv",
                "fieldsChanged": ["lastName", "phone", "optIn"],
                "previousValues": {
                    "lastName": "L",
                    "phone": "+14155550134",
                    "phoneValid": True,
                    "optIn": None,
                },
                "batchId": "b-2",
                "importId": "imp-2",
                "timestamp": "2026-01-02T00:00:00.000Z",
            }
        ],
    )


def test_a_row_that_changes_nothing_is_unchanged_unaudited_and_keeps_updated_at(
    store: LeadAdapters,
) -> None:
    upsert(store, [draft(1, "ada@x.com", first="Ada")], source_file="a.csv")
    plan = upsert(store, [draft(1, "ada@x.com", first="Ada")], "imp-2", now="T2")
    assert counts([plan]) == (0, 0, 0, 0, 1)
    assert plan.outcomes[1][0] is Outcome.UNCHANGED
    [lead] = leads(store)
    assert history(store, lead) == []
    assert (lead["updatedAt"], lead["sourceFile"]) == ("2026-01-01T00:00:00.000Z", "a.csv")


def test_a_field_the_file_does_not_have_is_never_cleared(store: LeadAdapters) -> None:
    """Issue 9 4.1: a file without a Phone column keeps the stored phones; a present but
    empty cell still replaces (seed 004)."""
    upsert(store, [draft(1, "ada@x.com", "+14155550134", title="CTO", company="Acme")])
    without_phone = dataclasses.replace(
        draft(1, "ada@x.com", title="CEO", company=""),
        present=frozenset({"email", "title", "company"}),
    )
    plan = upsert(store, [without_phone], "imp-2")
    assert counts([plan]) == (0, 1, 0, 0, 0)
    [lead] = leads(store)
    assert (lead["phone"], lead["phoneValid"]) == ("+14155550134", True)
    assert (lead["title"], lead["company"]) == ("CEO", "")
    [entry] = history(store, lead)
    assert entry["fieldsChanged"] == ["title", "company"]


def test_a_lead_created_and_rewritten_by_one_import_has_no_history(store: LeadAdapters) -> None:
    upsert(store, [draft(1, "ada@x.com", title="first")])
    upsert(store, [draft(2, "ada@x.com", title="second")], batch="b-2")
    [lead] = leads(store)
    assert lead["title"] == "second"
    assert history(store, lead) == []


@pytest.mark.parametrize("policy", list(MergePolicy))
def test_the_name_follows_first_and_last_name(store: LeadAdapters, policy: MergePolicy) -> None:
    """The name is the lead's first and last name, also when fill keeps one of them."""
    upsert(store, [draft(1, "a@x.com", first="John"), draft(2, "b@x.com", last="Doe")])
    upsert(
        store,
        [draft(1, "a@x.com", first="Jane", last="Smith"), draft(2, "b@x.com", first="Bo")],
        "imp-2",
        policy=policy,
    )
    found = by_email(store)
    names = {e: (lead["firstName"], lead["lastName"], lead["name"]) for e, lead in found.items()}
    if policy is REPLACE:
        assert names == {"a@x.com": ("Jane", "Smith", "Jane Smith"), "b@x.com": ("Bo", "", "Bo")}
    else:
        assert names == {
            "a@x.com": ("John", "Smith", "John Smith"),
            "b@x.com": ("Bo", "Doe", "Bo Doe"),
        }
    assert leads(store, q="jane") == ([found["a@x.com"]] if policy is REPLACE else [])


def test_replace_overwrites_even_with_empty_values_and_fill_only_fills(store: LeadAdapters) -> None:
    for row, email in enumerate(["r@x.com", "f@x.com"]):
        old = draft(row, email, first="Ada", title="CTO", opt_in=True, interests=["a"])
        old.attributes = {"p": 1, "q": 1}
        upsert(store, [old])
    for email, policy in (("r@x.com", REPLACE), ("f@x.com", FILL)):
        new = draft(1, email, title="CEO", remarks="new", company="Acme")
        new.attributes = {"q": 2, "r": 2}
        upsert(store, [new], "imp-2", policy=policy)
    found = by_email(store)
    replaced, filled = found["r@x.com"], found["f@x.com"]
    assert (replaced["firstName"], replaced["title"], replaced["remarks"]) == ("", "CEO", "new")
    assert (filled["firstName"], filled["title"], filled["remarks"]) == ("Ada", "CTO", "new")
    assert replaced["company"] == filled["company"] == "Acme"
    # absent optIn/interests keep the stored values under both policies
    assert (replaced["optIn"], replaced["interests"]) == (True, ["a"])
    assert (filled["optIn"], filled["interests"]) == (True, ["a"])
    assert replaced["attributes"] == {"p": 1, "q": 2, "r": 2}
    assert filled["attributes"] == {"p": 1, "q": 1, "r": 2}
    assert history(store, replaced)[0]["fieldsChanged"] == [
        "firstName", "title", "company", "remarks", "attributes",
    ]  # fmt: skip
    assert history(store, filled)[0]["fieldsChanged"] == ["company", "remarks", "attributes"]


# --- keys: email, phone, none; owners --------------------------------------------------------


def test_leads_without_a_key_never_merge(store: LeadAdapters) -> None:
    def same(row: int, phone: str | None = None) -> LeadDraft:
        return draft(row, None, phone, first="Ada", company="Acme")

    plans = [
        upsert(store, [same(1), same(2)]),
        upsert(store, [same(3, "call me"), same(4, "call me")]),
        upsert(store, [same(1)], "imp-2"),
    ]
    assert counts(plans) == (5, 0, 0, 0, 0)
    assert store.reads.count_leads("alice") == 5
    assert all(history(store, lead) == [] for lead in leads(store))


def test_phone_only_leads_dedupe_on_the_e164_phone(store: LeadAdapters) -> None:
    phone = "+14155550134"
    plans = [
        upsert(store, [draft(1, None, phone, first="A"), draft(2, "b@x.com", phone)]),
        upsert(
            store, [draft(3, None, phone, first="C"), draft(4, None, phone, first="D")], "imp-2"
        ),
    ]
    # row 2 has an email: its key is the email, so it is not the phone-only lead
    assert counts(plans) == (2, 1, 1, 0, 0)
    found = by_email(store)
    assert found[None]["firstName"] == "D"
    assert found["b@x.com"]["firstName"] == ""
    [entry] = history(store, found[None])
    assert entry["email"] is None
    assert entry["previousValues"] == {"firstName": "A"}


def test_owners_never_mix(store: LeadAdapters) -> None:
    upsert(store, [draft(1, "ada@x.com", "+14155550134", first="Alice's")], owner="alice")
    plan = upsert(store, [draft(1, "ada@x.com", "+14155550134", first="Bob's")], owner="bob")
    phone_only = [draft(2, None, "+14155550134", first="P")]
    plans = [plan, upsert(store, phone_only, owner="alice"), upsert(store, phone_only, owner="bob")]
    assert counts(plans) == (3, 0, 0, 0, 0)
    alices, bobs = leads(store, "alice"), leads(store, "bob")
    assert [lead["firstName"] for lead in alices] == ["Alice's", "P"]
    assert [lead["firstName"] for lead in bobs] == ["Bob's", "P"]
    assert {lead["owner"] for lead in alices} == {"alice"}
    assert store.reads.count_leads("alice") == store.reads.count_leads("bob") == 2
    assert store.reads.count_leads("carol") == 0
    for lead in bobs:
        assert store.reads.get_lead("alice", lead["leadId"]) is None
        assert store.reads.lead_history("alice", lead["leadId"]) == []
    cursor = store.reads.list_leads("alice", LeadQuery(limit=1))[1]
    assert store.reads.list_leads("carol", LeadQuery(cursor=cursor)) == ([], None)


# --- one file, many batches ------------------------------------------------------------------

FILE = [
    draft(0, "a@x.com", title="a0", attributes={"early": 1}, opt_in=True),
    draft(1, "b@x.com", title="b1"),
    draft(2, "a@x.com", title="a2", remarks="r"),
    draft(3, None, "+14155550134", title="p3"),
    draft(4, None, None, first="Keyless"),
    draft(5, "c@x.com", title="c5"),
    draft(6, None, "+14155550134", title="p6"),
    draft(7, "a@x.com", title="a7", attributes={"late": 2}),
    draft(8, "b@x.com", title="b8", first="B"),
    draft(9, None, "call me", first="Keyless"),
]
KEYLESS = "(keyless)"
EXISTING = [draft(50, "b@x.com", title="old", company="Old Co"), draft(51, "c@x.com", title="c5")]


def split_runs() -> list[list[list[int]]]:
    """The whole file as one batch, and splits of it into shuffled batches in random order."""
    runs = [[list(range(len(FILE)))]]
    rnd = random.Random(7)
    for size in (1, 2, 3, 4):
        rows = list(range(len(FILE)))
        rnd.shuffle(rows)
        batches = [rows[i : i + size] for i in range(0, len(rows), size)]
        for _ in range(2):
            rnd.shuffle(batches)
            runs.append([list(b) for b in batches])
    return runs


def run_file(
    store: LeadAdapters, batches: list[list[int]], mode: ImportMode, policy: MergePolicy
) -> tuple[tuple[int, ...], dict[str, Any]]:
    upsert(store, EXISTING, "imp-0", now="2026-01-01T00:00:00.000Z")
    plans = [
        upsert(store, [FILE[i] for i in rows], "imp-1", mode, policy, batch=f"b-{n}", now="T1")
        for n, rows in enumerate(batches)
    ]
    final: dict[str, Any] = {}
    for lead in leads(store):
        if lead["email"] is None and not lead["phoneValid"]:
            final.setdefault(KEYLESS, []).append(without_id(lead) | {"createdAt": None})
        else:
            final[lead["email"] or lead["phone"]] = without_id(lead)
    final[KEYLESS] = sorted(final.get(KEYLESS, []), key=repr)
    return counts(plans), final


@pytest.mark.parametrize("policy", list(MergePolicy))
@pytest.mark.parametrize("mode", list(ImportMode))
def test_the_last_occurrence_wins_whatever_the_batching_and_order(
    tmp_path: Path, mode: ImportMode, policy: MergePolicy
) -> None:
    results = []
    for kind in ADAPTERS:
        for n, batches in enumerate(split_runs()):
            directory = tmp_path / f"{kind}-{n}"
            results.append(
                ((kind, batches), run_file(open_store(kind, directory), batches, mode, policy))
            )
    (_, expected), *others = results
    for run, result in others:
        assert result == expected, run
        assert_same(result, expected)
    totals, final = expected
    if mode is CU:
        # a: rows 0, 2, 7 (two duplicates); b: existing, rows 1, 8; c: existing and row 5
        # changes nothing in it; phone: 3, 6
        assert totals == (4, 1, 4, 0, 1)
        assert final["a@x.com"]["title"] == "a7"
        assert final["a@x.com"]["attributes"] == {"late": 2}  # nothing left by rows 0 and 2
        assert final["a@x.com"]["optIn"] is None
        assert final["b@x.com"]["title"] == ("b8" if policy is REPLACE else "old")
        assert final["b@x.com"]["company"] == ("" if policy is REPLACE else "Old Co")
        assert final["+14155550134"]["title"] == "p6"
    elif mode is CREATE_ONLY:
        assert totals == (4, 0, 4, 2, 0)  # b and c exist: skipped once each, b's row 1 a duplicate
        assert final["b@x.com"]["title"] == "old"
    else:
        assert totals == (0, 1, 4, 4, 1)  # a, phone and both keyless leads are new: skipped
        assert set(final) == {"b@x.com", "c@x.com", KEYLESS} and final[KEYLESS] == []


def test_a_redelivered_batch_changes_nothing(store: LeadAdapters) -> None:
    batch = [draft(1, "a@x.com", title="1"), draft(2, "b@x.com")]
    upsert(store, batch)
    upsert(store, [draft(3, "a@x.com", title="3")], batch="b-2")
    before = leads(store)
    plan = upsert(store, batch, batch="b-1-again")
    assert counts([plan]) == (0, 0, 1, 0, 0)
    assert plan.outcomes[2][0] is Outcome.REPLAYED
    assert leads(store) == before


@pytest.mark.parametrize(
    ("mode", "existing", "expected"),
    [(UPDATE_ONLY, False, (0, 0, 1, 1, 0)), (CREATE_ONLY, True, (0, 0, 1, 1, 0))],
)
@pytest.mark.parametrize("order", [[[0, 1]], [[0], [1]], [[1], [0]]])
def test_skipping_modes_count_across_batches(
    store: LeadAdapters,
    mode: ImportMode,
    existing: bool,
    expected: tuple[int, ...],
    order: list[list[int]],
) -> None:
    """Two rows of one file with one key: one is a duplicate, one is skipped by the mode."""
    if existing:
        upsert(store, [draft(9, "a@x.com", title="kept")], "imp-0")
    rows = [draft(1, "a@x.com", title="1"), draft(2, "a@x.com", title="2")]
    plans = [upsert(store, [rows[i] for i in batch], "imp-1", mode) for batch in order]
    assert counts(plans) == expected
    assert [lead["title"] for lead in leads(store)] == (["kept"] if existing else [])
    repo = store.repo
    assert repo.find_skips("alice", "imp-1", ["a@x.com", "z@x.com"]) == {"a@x.com": 2}
    assert repo.find_skips("alice", "imp-2", ["a@x.com"]) == {}
    assert repo.find_skips("bob", "imp-1", ["a@x.com"]) == {}


def test_the_skip_ledger_keeps_the_highest_row(store: LeadAdapters) -> None:
    repo = store.repo
    repo.record_skips("alice", "imp-1", {"a@x.com": 5, "b@x.com": 1})
    repo.record_skips("alice", "imp-1", {"a@x.com": 3, "b@x.com": 4})
    repo.record_skips("bob", "imp-1", {"a@x.com": 9})
    assert repo.find_skips("alice", "imp-1", ["a@x.com", "b@x.com"]) == {
        "a@x.com": 5,
        "b@x.com": 4,
    }
    repo.forget_import("imp-1")
    assert repo.find_skips("alice", "imp-1", ["a@x.com", "b@x.com"]) == {}
    assert repo.find_skips("bob", "imp-1", ["a@x.com"]) == {}


def test_find_by_keys_hands_out_stored_values_and_import_bases(store: LeadAdapters) -> None:
    upsert(
        store, [draft(1, "a@x.com", "+14155550134", title="A", remarks="ra", opt_in=False)], "imp-0"
    )
    upsert(store, [draft(1, None, "+442079460958", title="P"), draft(2, "u@x.com")], "imp-0")
    upsert(store, [draft(5, "a@x.com", "call me", title="B5", interests=["i"])], "imp-1")
    upsert(store, [draft(7, "a@x.com", "call me", title="B7", remarks="rb")], "imp-1", batch="b-2")
    upsert(store, [draft(3, "n@x.com", title="N", attributes={"k": [1]})], "imp-1")
    keys = ["a@x.com", "n@x.com", "u@x.com", "+442079460958", "+14155550134", "zz@x.com"]
    found = store.repo.find_by_keys("alice", keys, "imp-1")
    plain = store.repo.find_by_keys("alice", keys)
    assert store.repo.find_by_keys("bob", keys, "imp-1") == {}
    assert set(found) == {"a@x.com", "n@x.com", "u@x.com", "+442079460958"}
    a = dict(found["a@x.com"])
    a_id = a.pop("lead_id")
    base = a.pop("import_base")
    assert_same(a, {
        "owner": "alice", "email": "a@x.com", "phone": "call me", "phone_valid": False,
        "first_name": "", "last_name": "", "name": "", "title": "B7", "company": "",
        "remarks": "rb", "opt_in": False, "interests": None, "attributes": None,
        "source": "upload", "source_file": "leads.csv", "created_at": "2026-01-01T00:00:00.000Z",
        "updated_at": "2026-01-01T00:00:00.000Z", "import_id": "imp-1", "import_row": 7,
        "created_import_id": "imp-0", "version": 3,
    })  # fmt: skip
    # row 7 supersedes row 5 (interests: back to the value before imp-1); the base holds
    # the values before imp-1 touched the lead: each column as before its first change
    assert_same(base, {
        **a, "lead_id": a_id, "phone": "+14155550134", "phone_valid": True, "title": "A",
        "remarks": "ra",
    })  # fmt: skip
    assert found["n@x.com"]["import_base"] is None  # imp-1 created it
    assert found["n@x.com"]["attributes"] == {"k": [1]}
    assert found["+442079460958"].get("import_base") is None  # imp-1 never touched it
    assert "import_base" not in found["u@x.com"]
    assert all("import_base" not in row for row in plain.values())


# --- the pipelines -----------------------------------------------------------------------------


def test_import_records_runs_the_leads_pipeline(store: LeadAdapters) -> None:
    records: list[Any] = [
        {"First Name": "Ada", "Email": "ADA@X.com", "Company": "Acme", "Region": "N"},
        {"name": "Doe, John", "phone": "(415) 555-0134"},
        {"Email": "not-an-email", "First Name": "Bad"},
        {},
        "not a record",
        {"First Name": "Ada B", "Email": "ada@x.com"},
    ]
    options = ImportOptions(owner="alice", pipeline=PipelineName.LEADS, workers=1)
    summary, rejections = import_records(
        store.write_ports(ledgered=False), records, options, "upload.csv"
    )
    assert (summary.received, summary.valid, summary.invalid) == (6, 3, 3)
    assert (summary.created, summary.updated, summary.duplicates) == (2, 0, 1)
    assert [r.row for r in rejections] == [2, 3, 4]
    found = by_email(store)
    assert found["ada@x.com"]["firstName"] == "Ada B"
    assert found["ada@x.com"]["company"] == ""  # the last occurrence wins, empty included
    assert found[None]["name"] == "John Doe"
    assert found[None]["phone"] == "+14155550134" and found[None]["phoneValid"] is True
    errors = store.errors.list("alice")
    assert [e["index"] for e in errors] == [4, 3, 2]  # newest first
    assert errors[2]["record"] == {"Email": "not-an-email", "First Name": "Bad"}
    assert errors[2]["errors"][0]["field"] == "email"
    assert {e["importId"] for e in errors} == {summary.importId}
    assert {e["source"] for e in errors} == {"upload"}
    again, _ = import_records(store.write_ports(ledgered=False), records[5:], options, "again.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    # a JSON record without a key keeps that field: this one has no Company and no Phone
    update = {"Email": "ada@x.com", "First Name": "Ada C", "Company": "Acme"}
    import_records(store.write_ports(ledgered=False), [update], options, "more.json")
    moved, _ = import_records(
        store.write_ports(ledgered=False), [{"Email": "ada@x.com", "Title": "CTO"}], options, None
    )
    assert (moved.updated, moved.unchanged) == (1, 0)
    ada = by_email(store)["ada@x.com"]
    assert (ada["firstName"], ada["company"], ada["title"]) == ("Ada C", "Acme", "CTO")


def test_run_optin_saves_opted_in_leads_and_counts(store: LeadAdapters) -> None:
    body = [
        {"name": "John Doe", "email": "john@x.com", "optIn": True, "interests": ["a"]},
        {"name": "Jo Roe", "email": "jo@x.com", "optIn": False, "interests": ["b"]},
        {"name": "Bad", "email": "nope", "optIn": True, "interests": ["c"]},
        {"name": "Johnny Doe", "email": "JOHN@x.com", "optIn": True, "interests": ["d"], "x": 1},
    ]
    result = run_optin(store.write_ports(ledgered=False), "alice", body)
    assert (result.received, result.valid, result.duplicates) == (4, 3, 1)
    assert (result.saved, result.ignored) == (1, 1)
    assert [i["index"] for i in result.invalid] == [2]
    [lead] = leads(store)
    assert (lead["name"], lead["interests"], lead["attributes"]) == ("Johnny Doe", ["d"], {"x": 1})
    assert (lead["source"], lead["optIn"], lead["sourceFile"]) == ("api", True, None)
    again = run_optin(store.write_ports(ledgered=False), "alice", [{**body[0], "interests": ["z"]}])
    assert (again.saved, again.duplicates) == (1, 0)
    [entry] = history(store, lead)
    assert entry["fieldsChanged"] == ["firstName", "interests"]  # attributes merge: x stays
    assert entry["previousValues"] == {"firstName": "Johnny", "interests": ["d"]}
    updated = store.reads.get_lead("alice", lead["leadId"])
    assert updated is not None
    assert updated == {
        **lead, "firstName": "John", "name": "John Doe", "interests": ["z"],
        "updatedAt": updated["updatedAt"],
    }  # fmt: skip
    [error] = store.errors.list("alice")
    assert (error["source"], error["importId"]) == ("api", result.importId)


def test_the_schema_error_log_pages_and_filters(store: LeadAdapters) -> None:
    for n in range(3):
        rejections = [
            Rejection(r, {"row": r, "é": [n]}, [FieldError("x", f"bad {n}")]) for r in range(2)
        ]
        write(store, ctx(f"imp-{n}", source="inbox"), [], rejections=rejections)
    write(store, ctx("imp-b", "bob"), [], rejections=[Rejection(0, 1, [])])
    errors = store.errors.list("alice")
    assert len(errors) == 6
    ids = [e["id"] for e in errors]
    assert ids == sorted(ids, reverse=True)
    assert errors[0] == {
        "id": ids[0], "source": "inbox", "importId": "imp-2", "index": 1,
        "record": {"row": 1, "é": [2]}, "errors": [{"field": "x", "message": "bad 2"}],
        "createdAt": "2026-01-01T00:00:00.000Z",
    }  # fmt: skip
    assert store.errors.list("alice", limit=2) == errors[:2]
    assert store.errors.list("alice", limit=2, before=ids[1]) == errors[2:4]
    assert store.errors.list("alice", import_id="imp-1") == errors[2:4]
    assert store.errors.list("alice", before=ids[3], import_id="imp-1") == []
    assert [e["record"] for e in store.errors.list("bob")] == [1]
    assert store.errors.list("carol") == []


# --- listing: search, filters, sorts, cursor pages ---------------------------------------------

PEOPLE = [
    # (first, last, email, company, title, phone, source)
    ("Carol", "Baker", "carol@acme.com", "Acme Corp", "CTO", None, "upload"),
    ("Dave", "Adams", "dave@globex.com", "Globex", "", None, "upload"),
    ("Erin", "Clark", "erin@acme.com", "ACME CORP", "", None, "inbox"),
    ("Sam", "Same", "sam.one@initech.com", "Initech", "", None, "upload"),
    ("Sam", "Same", "sam.two@hooli.com", "Globex", "100% sales", None, "inbox"),
    ("Émile", "Zola", "emile@x.fr", "", "head_of", None, "api"),
    ("émile", "zola", "emile2@x.fr", "", "", None, "api"),
    ("Ivy", "", None, "Hooli", "", "+14155550100", "inbox"),
    ("", "", None, "Acme Corporation", "", "call me", "upload"),
    ("Zed", "Quinn", "zed@example.com", "", "", None, "api"),
    ("Bea", "Adams", "bea@example.com", "Acme Corp", "", None, "api"),
]


def seed_people(store: LeadAdapters, owner: str = "alice") -> None:
    for n, (first, last, email, company, title, phone, source) in enumerate(PEOPLE):
        new = draft(n, email, phone, first=first, last=last, company=company, title=title)
        upsert(store, [new], f"imp-{n}", owner=owner, source=source, now=f"T{n % 4}")
    # an update moves updatedAt but not the creation order
    dave = draft(0, "dave@globex.com", first="Dave", last="Adams", company="Globex", title="VP")
    upsert(store, [dave], "imp-x", owner=owner, now="T9")


@pytest.mark.parametrize("limit", [1, 2, 5, 500])
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("sort", SORTS)
def test_cursor_pages_visit_every_lead_once_in_order(
    store: LeadAdapters, sort: str, descending: bool, limit: int
) -> None:
    seed_people(store)
    seed_people(store, "bob")
    created = leads(store)
    assert [lead["email"] for lead in created] == [p[2] for p in PEOPLE]
    field = {"createdAt": None, "lastName": "lastName"}.get(sort, sort)
    expected = sorted(
        created,
        key=lambda lead: ("" if field is None else lead[field] or "", created.index(lead)),
        reverse=descending,
    )
    got = pages(store, sort=sort, descending=descending, limit=limit)
    assert all(0 < len(page) <= limit for page in got)
    assert [lead["leadId"] for page in got for lead in page] == [x["leadId"] for x in expected]


@pytest.mark.parametrize(
    ("query", "emails"),
    [
        ({"q": "acme"}, ["carol@acme.com", "erin@acme.com", None, "bea@example.com"]),
        ({"q": "SAME"}, ["sam.one@initech.com", "sam.two@hooli.com"]),
        ({"q": "zola"}, ["emile@x.fr", "emile2@x.fr"]),
        ({"q": "ÉMILE"}, ["emile@x.fr", "emile2@x.fr"]),  # case and accents folded
        ({"q": "emile zola"}, ["emile@x.fr", "emile2@x.fr"]),
        ({"q": "5550100"}, [None]),
        ({"q": "(415) 555-0100"}, [None]),  # a phone in any format: that number exactly
        ({"q": "+1 415 555 0100"}, [None]),
        ({"q": "(415) 555-0101"}, []),
        ({"q": "call me"}, [None]),  # a phone that is not a number is text
        ({"q": "cto"}, ["carol@acme.com"]),
        ({"q": "%"}, ["sam.two@hooli.com"]),
        ({"q": "_"}, ["emile@x.fr"]),
        ({"q": "\\"}, []),
        ({"q": "nobody"}, []),
        ({"company": "acme corp"}, ["carol@acme.com", "erin@acme.com", "bea@example.com"]),
        ({"company": "Acme"}, []),
        ({"source": "api"}, ["emile@x.fr", "emile2@x.fr", "zed@example.com", "bea@example.com"]),
        ({"q": "a", "company": "GLOBEX", "source": "upload"}, ["dave@globex.com"]),
    ],
)
def test_search_and_filters(store: LeadAdapters, query: dict[str, Any], emails: list[Any]) -> None:
    seed_people(store)
    seed_people(store, "bob")
    assert [lead["email"] for lead in leads(store, **query)] == emails
    assert [lead["email"] for lead in leads(store, "carol", **query)] == []
    paged = pages(store, limit=1, sort="name", descending=True, **query)
    assert sorted(lead["leadId"] for page in paged for lead in page) == sorted(
        lead["leadId"] for lead in leads(store, **query)
    )


def test_every_adapter_lists_the_same_pages(both: list[LeadAdapters]) -> None:
    """Same leads, same order, same page breaks on every store; the cursors themselves are
    opaque (each store encodes its own position) and are only handed back."""
    outputs = []
    for store in both:
        seed_people(store)
        seen = []
        for sort in SORTS:
            for descending in (False, True):
                query = LeadQuery(sort=sort, descending=descending, limit=3)
                while True:
                    items, cursor = store.reads.list_leads("alice", query)
                    seen.append(([without_id(i) for i in items], cursor is None))
                    if cursor is None:
                        break
                    query = LeadQuery(sort=sort, descending=descending, limit=3, cursor=cursor)
        outputs.append(seen)
    for output in outputs[1:]:
        assert_same(output, outputs[0])


@pytest.mark.parametrize("cursor", ["junk!", "W10", "WyJhIiwgLTFd", "WzEsIDJd"])
def test_a_cursor_not_handed_out_is_refused(store: LeadAdapters, cursor: str) -> None:
    with pytest.raises(BadCursor):
        store.reads.list_leads("alice", LeadQuery(cursor=cursor, sort="name"))


# --- conditional writes ------------------------------------------------------------------------


def create(row: int, email: str | None, lead_id: str, phone: str | None = None) -> LeadWrite:
    d = draft(row, email, phone)
    values = {
        "email": d.email, "phone": d.phone, "phone_valid": d.phone_valid, "first_name": "",
        "last_name": "", "name": "", "title": "", "company": "", "remarks": "", "opt_in": None,
        "interests": None, "attributes": None, "source": "api", "source_file": None,
        "created_at": "T9", "updated_at": "T9", "import_id": "imp-9", "import_row": row,
        "created_import_id": "imp-9",
    }  # fmt: skip
    return LeadWrite("create", "alice", lead_id, d.key, values, None, "imp-9", row)


def test_a_create_whose_key_is_taken_is_refused_and_writes_nothing(store: LeadAdapters) -> None:
    upsert(store, [draft(1, "a@x.com"), draft(2, None, "+14155550134")])
    before = leads(store)
    results = store.repo.apply(
        [create(5, "a@x.com", "id-5"), create(6, None, "id-6", "+14155550134")]
    )
    assert results == [False, False]
    assert leads(store) == before
    # applied once, the same write is applied already (True) and changes nothing more
    assert store.repo.apply([create(7, "new@x.com", "id-7")]) == [True]
    assert store.repo.apply([create(7, "new@x.com", "id-7")]) == [True]
    assert store.reads.count_leads("alice") == 3
    # another row's create of that key is refused
    assert store.repo.apply([create(8, "new@x.com", "id-8")]) == [False]
    # the same phone is no key for a lead with an email, or for an invalid phone
    assert store.repo.apply([create(8, "c@x.com", "id-8", "+14155550134")]) == [True]
    assert store.reads.count_leads("alice") == 4


def test_an_update_applies_only_at_the_version_it_was_planned_at(store: LeadAdapters) -> None:
    upsert(store, [draft(1, "a@x.com", title="A")])
    stored = store.repo.find_by_keys("alice", ["a@x.com"])["a@x.com"]
    lead_id, version = stored["lead_id"], stored["version"]

    def update(title: str, row: int, at: int, import_id: str = "imp-7") -> LeadWrite:
        values = {"title": title, "import_id": import_id, "import_row": row}
        return LeadWrite("update", "alice", lead_id, "a@x.com", values, at, import_id, row)

    assert store.repo.apply([update("B", 3, version)]) == [True]
    assert store.repo.apply([update("C", 4, version)]) == [False]  # planned on a stale read
    assert store.repo.apply([update("B", 3, version)]) == [True]  # this very write: applied
    newer = store.repo.find_by_keys("alice", ["a@x.com"])["a@x.com"]
    assert (newer["title"], newer["version"]) == ("B", version + 1)
    # a later row of the same import holds the lead: an earlier row never overwrites it
    assert store.repo.apply([update("D", 2, version + 1)]) == [False]
    assert store.repo.apply([update("E", 2, version + 1, "imp-8")]) == [True]
    assert [lead["title"] for lead in leads(store)] == ["E"]
    wrong_owner = dataclasses.replace(update("F", 9, version + 2, "imp-8"), owner="bob")
    assert store.repo.apply([wrong_owner]) == [False]


def test_writers_in_threads_lose_nothing_with_conditional_writes(store: LeadAdapters) -> None:
    """Outside a session every write stands alone: concurrent writers of one key meet
    rejected conditions, plan again, and lose nothing."""
    run_concurrent_writers(lambda: store, store, session=False)


def test_writers_in_threads_lose_nothing(store: LeadAdapters) -> None:
    run_concurrent_writers(lambda: store, store)


def run_concurrent_writers(
    open_writer: Any,
    reader: LeadAdapters,
    threads: int = 2,
    batches: int = 15,
    session: bool = True,
) -> None:
    """Each thread upserts its own leads and one shared lead, batch after batch."""
    barrier = threading.Barrier(threads)
    plans: list[Written] = []
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            writer = open_writer()
            barrier.wait()
            for b in range(batches):
                drafts = [draft(r, f"t{t}-{b}-{r}@x.com") for r in range(5)]
                drafts.append(draft(9, "shared@x.com", title=f"{t}-{b}"))
                if session:
                    plans.append(upsert(writer, drafts, f"imp-{t}-{b}", batch=f"{t}-{b}"))
                else:
                    plans.append(unsessioned(writer, drafts, f"imp-{t}-{b}"))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    total = threads * batches
    assert counts(plans) == (total * 5 + 1, total - 1, 0, 0, 0)
    assert reader.reads.count_leads("alice") == total * 5 + 1
    shared = by_email(reader)["shared@x.com"]
    assert len(history(reader, shared)) == total - 1


class _NoSession:
    """A repository whose session groups nothing: every write is its own transaction."""

    def __init__(self, repo: Any) -> None:
        self._repo = repo

    def __getattr__(self, name: str) -> Any:
        return getattr(self._repo, name)

    def session(self) -> Any:
        return contextlib.nullcontext()


def unsessioned(store: LeadAdapters, drafts: Sequence[LeadDraft], import_id: str) -> Written:
    alone = dataclasses.replace(store, repo=_NoSession(store.repo))
    return upsert(alone, drafts, import_id)


# --- users -------------------------------------------------------------------------------------


@pytest.fixture(params=ADAPTERS)
def users(request: pytest.FixtureRequest, tmp_path: Path) -> UserStore:
    if request.param == "memory":
        return MemoryUserStore()
    return SqliteUserStore(Database(tmp_path / "t.db"))


def test_users(users: UserStore) -> None:
    assert not users.has_users()
    assert users.password_hash("alice") is None
    users.add_user("alice", "hash-1", "T0")
    users.add_user("bob", "hash-b", "T0")
    assert users.has_users()
    assert users.password_hash("alice") == "hash-1"
    users.add_user("alice", "hash-2", "T1")
    assert (users.password_hash("alice"), users.password_hash("bob")) == ("hash-2", "hash-b")
    assert users.password_hash("Alice") is None


# --- the property: any file, any batching, both adapters ---------------------------------------

EMAILS = ("a@x.com", "b@x.com", "c@y.org")
PHONES = ("+14155550134", "+442079460958")
_text = st.sampled_from(["", "", "A", "b", "É"])
_value = st.one_of(
    st.integers(-2, 2),
    st.sampled_from(["x", "é", ""]),
    st.none(),
    st.lists(st.booleans(), max_size=2),
)


@st.composite
def files(draw: st.DrawFn, max_rows: int = 10) -> list[LeadDraft]:
    """Rows 0..n-1 of one file, with every kind of key and optional opt-in fields."""
    out = []
    for row in range(draw(st.integers(1, max_rows))):
        kind = draw(st.sampled_from(["email", "email", "email+phone", "phone", "bad", "none"]))
        email = draw(st.sampled_from(EMAILS)) if kind.startswith("email") else None
        phone = None
        if kind in ("email+phone", "phone"):
            phone = draw(st.sampled_from(PHONES))
        elif kind == "bad":
            phone = "call me"
        out.append(
            draft(
                row,
                email,
                phone,
                first=draw(_text),
                last=draw(_text),
                title=draw(_text),
                company=draw(_text),
                remarks=draw(_text),
                opt_in=draw(st.sampled_from([None, True, False])),
                interests=draw(st.sampled_from([None, ["a"], ["b", "é"]])),
                attributes=draw(
                    st.dictionaries(st.sampled_from(["p", "q", "É"]), _value, max_size=2)
                ),
            )  # fmt: skip
        )
    return out


@st.composite
def splits(draw: st.DrawFn, size: int) -> list[list[int]]:
    """A partition of range(size) into batches, each shuffled, in any order."""
    count = draw(st.integers(1, max(1, min(size, 4))))
    owner = draw(st.lists(st.integers(0, count - 1), min_size=size, max_size=size))
    batches = [
        draw(st.permutations([i for i in range(size) if owner[i] == b])) for b in range(count)
    ]
    return draw(st.permutations([list(b) for b in batches if b]))


def apply_file(
    store: LeadAdapters,
    existing: list[LeadDraft],
    rows: list[LeadDraft],
    batches: list[list[int]],
    mode: ImportMode,
    policy: MergePolicy,
) -> tuple[tuple[int, ...], Any]:
    for owner in ("alice", "bob"):
        upsert(store, existing, "imp-0", owner=owner, now="T0")
    plans = [
        upsert(store, [rows[i] for i in b], "imp-1", mode, policy, batch=f"b{n}", now="T1")
        for n, b in enumerate(batches)
    ]
    listed = leads(store)
    return counts(plans), (
        [without_id(lead) for lead in listed],
        [[without_id(e) for e in history(store, lead)] for lead in listed],
        [without_id(lead) for lead in leads(store, "bob")],
        store.reads.count_leads("alice"),
        store.errors.list("alice"),
    )


def final_leads(result: tuple[Any, Any]) -> tuple[Any, list[str]]:
    """Counts and the leads, in an order that does not depend on the batching.

    Not updatedAt and sourceFile: they tell about writes, and a row that changed a lead
    and was then undone by a later row of the file (in a later batch) leaves them moved.
    """
    total, (listed, *_) = result
    kept = (
        {k: v for k, v in lead.items() if k not in ("updatedAt", "sourceFile")} for lead in listed
    )
    return total, sorted(repr(lead) for lead in kept)


@given(st.data(), st.sampled_from(list(ImportMode)), st.sampled_from(list(MergePolicy)))
def test_property_adapters_agree_on_any_file_in_any_batching(
    data: st.DataObject, mode: ImportMode, policy: MergePolicy
) -> None:
    rows = data.draw(files(), label="rows")
    batches = data.draw(splits(len(rows)), label="batches")
    keys = sorted({d.key for d in rows if d.key is not None})
    existing_keys = data.draw(st.lists(st.sampled_from(keys), unique=True) if keys else st.just([]))
    last = {d.key: d for d in sorted(rows, key=lambda d: d.row) if d.key is not None}
    same = data.draw(st.sets(st.sampled_from(existing_keys)) if existing_keys else st.just(set()))
    existing = [
        # a lead in `same` holds what the file's last row says already: unchanged
        dataclasses.replace(last[k], row=100 + i) if k in same else
        draft(100 + i, k if "@" in k else None, None if "@" in k else k, title="Old", first="O",
              opt_in=False, attributes={"p": 9, "old": 1})
        for i, k in enumerate(existing_keys)
    ]  # fmt: skip
    with tempfile.TemporaryDirectory() as directory:
        results = [
            apply_file(
                open_store(kind, Path(directory) / kind), existing, rows, batches, mode, policy
            )
            for kind in ADAPTERS
        ]
        one_batch = apply_file(
            open_store("memory", Path(directory) / "one"),
            existing, rows, [list(range(len(rows)))], mode, policy,
        )  # fmt: skip
    memory, *others = results
    for other in others:
        assert_same(memory, other)
    assert final_leads(memory) == final_leads(one_batch)
    bobs = memory[1][2]
    assert [lead["title"] for lead in bobs] == [d.title for d in existing]


# --- undo ------------------------------------------------------------------------------------


def titles(store: LeadAdapters) -> dict[str | None, str]:
    return {email: lead["title"] for email, lead in by_email(store).items()}


def test_undo_never_destroys_later_work_and_lists_it(store: LeadAdapters) -> None:
    """Issue 9 4.4: leads a later import changed keep their values, created or updated."""
    upsert(store, [draft(1, "b@x.com", title="old")], "imp-0")
    first = [("a", "a1"), ("b", "b1"), ("c", "c1"), ("d", "d1")]
    upsert(store, [draft(n, f"{k}@x.com", title=t) for n, (k, t) in enumerate(first)], "imp-1")
    # a later import changes a (created by imp-1) and b (updated by imp-1); c is unchanged
    later = [("a", "a2"), ("b", "b2"), ("c", "c1")]
    upsert(store, [draft(n, f"{k}@x.com", title=t) for n, (k, t) in enumerate(later)], "imp-2")
    ids = {email: lead["leadId"] for email, lead in by_email(store).items()}

    result = store.repo.undo_import("alice", "imp-1", "T9")

    assert (result.deleted, result.restored) == (2, 0)  # c and d
    assert sorted(result.conflicts) == sorted([ids["a@x.com"], ids["b@x.com"]])
    assert titles(store) == {"a@x.com": "a2", "b@x.com": "b2"}
    again = store.repo.undo_import("alice", "imp-1", "T10")  # idempotent
    assert (again.deleted, again.restored, sorted(again.conflicts)) == (
        0,
        0,
        sorted(result.conflicts),
    )


def test_undo_of_an_update_restores_what_the_import_replaced(store: LeadAdapters) -> None:
    upsert(store, [draft(1, "b@x.com", "+14155550134", first="Bo", title="old")], "imp-0")
    upsert(store, [draft(1, "b@x.com", "+14155550134", first="Bob", title="new")], "imp-1")

    result = store.repo.undo_import("alice", "imp-1", "T9")

    assert (result.deleted, result.restored, result.conflicts) == (0, 1, [])
    [lead] = leads(store)
    assert (lead["name"], lead["title"], lead["updatedAt"]) == ("Bo", "old", "T9")
    undone = history(store, lead)[-1]
    assert undone["action"] == "import_undone"
    assert undone["fieldsChanged"] == ["firstName", "title"]
    assert undone["previousValues"] == {"firstName": "Bob", "title": "new"}
    assert undone["restoredValues"] == {"firstName": "Bo", "title": "old", "name": "Bo"}
    assert store.repo.undo_import("alice", "imp-1", "T10").restored == 0  # done once only
    assert len(history(store, lead)) == 2


def test_undoing_a_later_import_first_lets_the_earlier_one_be_undone(store: LeadAdapters) -> None:
    upsert(store, [draft(1, "b@x.com", title="old")], "imp-0")
    upsert(store, [draft(1, "b@x.com", title="b1"), draft(2, "n@x.com")], "imp-1")
    upsert(store, [draft(1, "b@x.com", title="b2"), draft(2, "n@x.com", title="n2")], "imp-2")
    assert len(store.repo.undo_import("alice", "imp-1", "T8").conflicts) == 2

    assert store.repo.undo_import("alice", "imp-2", "T9").restored == 2
    result = store.repo.undo_import("alice", "imp-1", "T10")

    assert (result.deleted, result.restored, result.conflicts) == (1, 1, [])
    assert titles(store) == {"b@x.com": "old"}


def test_undo_touches_one_owner_only(store: LeadAdapters) -> None:
    for owner in ("alice", "bob"):
        upsert(store, [draft(1, "a@x.com", title=owner)], "imp-1", owner=owner)
    upsert(store, [draft(1, "a@x.com", title="later")], "imp-2", owner="bob")
    result = store.repo.undo_import("alice", "imp-1", "T9")
    assert (result.deleted, result.conflicts) == (1, [])
    assert titles(store) == {}
    assert [lead["title"] for lead in leads(store, "bob")] == ["later"]
