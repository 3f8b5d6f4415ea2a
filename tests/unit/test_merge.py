"""Unit tests for leadflow.domain.merge (SPEC 'Duplicates' and the import modes/policies)."""

from __future__ import annotations

import dataclasses
import itertools
import random
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadflow.domain.lead import LEAD_FIELDS, LeadDraft
from leadflow.domain.merge import (
    MERGED_COLUMNS,
    BatchPlan,
    ImportMode,
    MergePolicy,
    Outcome,
    fields_changed,
    last_occurrences,
    merge_changes,
    plan_batch,
)

IMPORT = "imp-2"
OLD_IMPORT = "imp-1"
CU = ImportMode.CREATE_AND_UPDATE
REPLACE = MergePolicy.REPLACE
FILL = MergePolicy.FILL
MERGED = tuple(MERGED_COLUMNS)  # first_name, last_name, title, company, phone, remarks


def draft(
    row: int,
    email: str | None = None,
    phone: str | None = None,
    phone_valid: bool | None = None,
    first: str = "",
    last: str = "",
    title: str = "",
    company: str = "",
    remarks: str = "",
    opt_in: bool | None = None,
    interests: list[str] | None = None,
    attributes: dict[str, Any] | None = None,
    present: frozenset[str] = LEAD_FIELDS,
) -> LeadDraft:
    if phone is not None and phone_valid is None:
        phone_valid = phone.startswith("+")
    return LeadDraft(
        row=row,
        email=email,
        phone=phone,
        phone_valid=phone_valid,
        first_name=first,
        last_name=last,
        name=" ".join(p for p in (first, last) if p),
        title=title,
        company=company,
        remarks=remarks,
        opt_in=opt_in,
        interests=interests,
        attributes=attributes or {},
        present=present,
    )


def stored(
    lead_id: str = "L1",
    email: str | None = "ada@example.com",
    *,
    import_id: str = OLD_IMPORT,
    import_row: int = 1,
    created_import_id: str | None = None,
    **values: Any,
) -> dict[str, Any]:
    lead: dict[str, Any] = {
        "lead_id": lead_id,
        "email": email,
        "phone": None,
        "phone_valid": None,
        "first_name": "",
        "last_name": "",
        "title": "",
        "company": "",
        "remarks": "",
        "opt_in": None,
        "interests": None,
        "attributes": {},
        "source_file": "old.csv",
        "import_id": import_id,
        "import_row": import_row,
        "created_import_id": created_import_id or import_id,
    }
    assert set(values) <= set(lead), values
    lead.update(values)
    return lead


def outcome(plan: BatchPlan, row: int) -> Outcome:
    return plan.outcomes[row][0]


# --- last_occurrences --------------------------------------------------------------------------


def test_last_occurrence_wins_within_a_batch() -> None:
    drafts = [
        draft(1, "a@x.com", title="first"),
        draft(2, "b@x.com"),
        draft(3, "a@x.com", title="last"),
    ]
    survivors, losers = last_occurrences(drafts)
    assert {(d.row, d.title) for d in survivors} == {(2, ""), (3, "last")}
    assert [d.row for d in losers] == [1]


def test_last_occurrence_is_by_row_not_by_position() -> None:
    drafts = [draft(9, "a@x.com", title="last"), draft(4, "a@x.com", title="early")]
    survivors, losers = last_occurrences(drafts)
    assert [d.row for d in survivors] == [9]
    assert [d.row for d in losers] == [4]


def test_keyless_drafts_all_survive() -> None:
    drafts = [draft(1, first="Ada"), draft(2, first="Ada"), draft(3, phone="abc", first="Ada")]
    survivors, losers = last_occurrences(drafts)
    assert sorted(d.row for d in survivors) == [1, 2, 3]
    assert losers == []


# --- plan_batch: in-batch duplicates -----------------------------------------------------------


def test_plan_counts_in_batch_duplicates_and_creates_the_last() -> None:
    drafts = [draft(1, "a@x.com", title="v1"), draft(2, "a@x.com", title="v2")]
    plan = plan_batch(drafts, {}, IMPORT, CU, REPLACE)
    assert [d.title for d in plan.creates] == ["v2"]
    assert (plan.created, plan.updated, plan.duplicates, plan.skipped) == (1, 0, 1, 0)
    assert plan.outcomes == {1: (Outcome.DUPLICATE, None), 2: (Outcome.CREATED, None)}


def test_no_email_no_phone_leads_never_merge() -> None:
    # the seed mapped them all to 'N/A' and merged every one of them: we do not
    drafts = [
        draft(1, first="Ada", last="Lovelace"),
        draft(2, first="Ada", last="Lovelace"),
        draft(3, phone="not a phone", phone_valid=False, first="Ada"),
        draft(4, phone="not a phone", phone_valid=False, first="Ada"),
    ]
    plan = plan_batch(drafts, {}, IMPORT, CU, REPLACE)
    assert sorted(d.row for d in plan.creates) == [1, 2, 3, 4]
    assert (plan.created, plan.duplicates) == (4, 0)


def test_phone_only_drafts_dedupe_on_e164() -> None:
    drafts = [
        draft(1, phone="+14155550134", title="old"),
        draft(2, phone="+14155550134", title="new"),
        draft(3, phone="+442079460958"),
    ]
    plan = plan_batch(drafts, {}, IMPORT, CU, REPLACE)
    assert sorted((d.row, d.title) for d in plan.creates) == [(2, "new"), (3, "")]
    assert (plan.created, plan.duplicates) == (2, 1)


def test_phone_only_draft_updates_the_lead_stored_under_its_phone() -> None:
    lead = stored("L9", None, phone="+14155550134", phone_valid=True, title="old")
    plan = plan_batch(
        [draft(5, phone="+14155550134", title="new")], {"+14155550134": lead}, IMPORT, CU, REPLACE
    )
    assert plan.creates == []
    assert [(u.lead_id, u.changes) for u in plan.updates] == [("L9", {"title": "new"})]
    assert plan.outcomes[5] == (Outcome.UPDATED, "L9")


def test_email_and_phone_draft_is_keyed_on_email() -> None:
    d1 = draft(1, "a@x.com", phone="+14155550134")
    d2 = draft(2, None, phone="+14155550134")
    plan = plan_batch([d1, d2], {}, IMPORT, CU, REPLACE)
    assert plan.created == 2 and plan.duplicates == 0


# --- plan_batch: against the store -------------------------------------------------------------


def test_upsert_updates_an_existing_lead_and_keeps_its_id() -> None:
    lead = stored(title="Engineer", company="Old Co", source_file="old.csv")
    d = draft(4, "ada@example.com", first="Ada", title="CTO", company="Old Co")
    plan = plan_batch([d], {"ada@example.com": lead}, IMPORT, CU, REPLACE)
    assert plan.creates == []
    assert (plan.created, plan.updated, plan.duplicates) == (0, 1, 0)
    [update] = plan.updates
    assert update.lead_id == "L1"
    assert update.draft is d
    assert update.changes == {"first_name": "Ada", "title": "CTO"}
    assert update.previous == {"first_name": "", "title": "Engineer"}
    assert update.previous_source_file == "old.csv"
    assert update.audited is True
    assert plan.outcomes[4] == (Outcome.UPDATED, "L1")


def test_a_row_that_changes_nothing_is_unchanged_and_only_moves_the_stamp() -> None:
    lead = stored(title="CTO")
    plan = plan_batch(
        [draft(2, "ada@example.com", title="CTO")], {"ada@example.com": lead}, IMPORT, CU, REPLACE
    )
    assert (plan.updated, plan.unchanged) == (0, 1)
    assert plan.outcomes[2] == (Outcome.UNCHANGED, "L1")
    (stamp,) = plan.updates
    assert stamp.unchanged and not stamp.audited and stamp.changes == {}


def test_a_field_the_row_does_not_have_is_kept() -> None:
    """Issue 9 4.1: a file without a Phone (or Title) column never clears the phone."""
    lead = stored(phone="+14155550134", phone_valid=True, title="CTO", company="Old")
    row = draft(2, "ada@example.com", company="", present=frozenset({"email", "company"}))
    plan = plan_batch([row], {"ada@example.com": lead}, IMPORT, CU, REPLACE)
    (update,) = plan.updates
    assert update.changes == {"company": ""}  # present but empty: replaces (seed 004)
    assert plan.updated == 1


def test_a_full_name_column_replaces_both_name_parts_and_a_first_name_one_only_its_own() -> None:
    lead = stored(first_name="Ada", last_name="Lovelace")
    by_name = draft(2, "ada@example.com", first="Ada", present=frozenset({"email", "name"}))
    plan = plan_batch([by_name], {"ada@example.com": lead}, IMPORT, CU, REPLACE)
    assert plan.updates[0].changes == {"last_name": ""}
    by_first = draft(2, "ada@example.com", first="Augusta", present=frozenset({"firstName"}))
    plan = plan_batch([by_first], {"ada@example.com": lead}, IMPORT, CU, REPLACE)
    assert plan.updates[0].changes == {"first_name": "Augusta"}
    assert plan.updates[0].name == "Augusta Lovelace"


def test_a_later_row_that_undoes_an_earlier_rows_change_moves_the_count() -> None:
    """Rows 1 and 2 of one file share an existing lead's key; row 1 changes it, row 2
    (the last occurrence) leaves it as it was: one unchanged, one duplicate, any order."""
    rows = [draft(1, "a@x.com", title="new"), draft(2, "a@x.com", title="Old")]
    for batches in ([[0, 1]], [[0], [1]], [[1], [0]]):
        store = MemStore()
        store.seed(draft(50, "a@x.com", title="Old"))
        assert totals(run_split(store, rows, batches)) == (0, 0, 1, 0, 1), batches
        assert store.by_key["a@x.com"]["title"] == "Old"


def test_create_only_skips_existing_leads() -> None:
    lead = stored()
    drafts = [draft(1, "ada@example.com", title="new"), draft(2, "new@example.com")]
    plan = plan_batch(drafts, {"ada@example.com": lead}, IMPORT, ImportMode.CREATE_ONLY, REPLACE)
    assert [d.row for d in plan.creates] == [2]
    assert plan.updates == []
    assert (plan.created, plan.updated, plan.skipped) == (1, 0, 1)
    assert plan.outcomes[1] == (Outcome.SKIPPED, "L1")


def test_update_only_skips_new_leads() -> None:
    lead = stored()
    drafts = [draft(1, "ada@example.com", title="new"), draft(2, "new@example.com")]
    plan = plan_batch(drafts, {"ada@example.com": lead}, IMPORT, ImportMode.UPDATE_ONLY, REPLACE)
    assert plan.creates == []
    assert [u.lead_id for u in plan.updates] == ["L1"]
    assert (plan.created, plan.updated, plan.skipped) == (0, 1, 1)
    assert plan.outcomes[2] == (Outcome.SKIPPED, None)


def test_update_only_skips_keyless_leads() -> None:
    plan = plan_batch([draft(1, first="Ada")], {}, IMPORT, ImportMode.UPDATE_ONLY, REPLACE)
    assert plan.creates == [] and plan.skipped == 1


def test_replace_policy_empty_replaces_too() -> None:
    lead = stored(
        first_name="Ada",
        last_name="Lovelace",
        title="CTO",
        company="Engines",
        phone="+14155550134",
        phone_valid=True,
        remarks="vip",
    )
    d = draft(2, "ada@example.com", first="Ada")
    plan = plan_batch([d], {"ada@example.com": lead}, IMPORT, CU, REPLACE)
    assert plan.updates[0].changes == {
        "last_name": "",
        "title": "",
        "company": "",
        "phone": None,
        "phone_valid": None,
        "remarks": "",
    }
    assert fields_changed(plan.updates[0].changes) == [
        "lastName",
        "title",
        "company",
        "phone",
        "remarks",
    ]


def test_fill_policy_only_fills_empty_fields() -> None:
    lead = stored(first_name="Ada", title="", company="Engines", remarks="")
    d = draft(2, "ada@example.com", first="Augusta", last="Lovelace", title="CTO", company="")
    plan = plan_batch([d], {"ada@example.com": lead}, IMPORT, CU, FILL)
    assert plan.updates[0].changes == {"last_name": "Lovelace", "title": "CTO"}
    assert plan.updates[0].previous == {"last_name": "", "title": ""}
    # the full name is the one the lead ends with, not the draft's "Augusta Lovelace"
    assert plan.updates[0].name == "Ada Lovelace"


@pytest.mark.parametrize(
    ("stored_names", "drafted", "policy", "name"),
    [
        (("Ada", "L"), ("Ada", "King"), REPLACE, "Ada King"),
        (("Ada", "L"), ("", ""), REPLACE, ""),
        (("", "Doe"), ("Bo", "Smith"), FILL, "Bo Doe"),
        (("Ada", "L"), ("Ada", "L"), REPLACE, None),  # neither part changes
        (("Ada", ""), ("", "King"), REPLACE, "King"),
    ],
)
def test_an_update_carries_the_full_name_the_lead_ends_with(
    stored_names: tuple[str, str], drafted: tuple[str, str], policy: MergePolicy, name: str | None
) -> None:
    lead = stored(first_name=stored_names[0], last_name=stored_names[1])
    d = draft(2, "ada@example.com", first=drafted[0], last=drafted[1])
    [update] = plan_batch([d], {"ada@example.com": lead}, IMPORT, CU, policy).updates
    assert update.name == name


# --- order independence inside one import ------------------------------------------------------


def test_later_row_already_stored_makes_an_earlier_row_a_duplicate() -> None:
    lead = stored(import_id=IMPORT, import_row=10, title="row 10")
    plan = plan_batch(
        [draft(5, "ada@example.com", title="row 5")], {"ada@example.com": lead}, IMPORT, CU, REPLACE
    )
    assert plan.updates == [] and plan.creates == []
    assert (plan.created, plan.updated, plan.duplicates) == (0, 0, 1)
    assert plan.outcomes[5] == (Outcome.DUPLICATE, "L1")


def test_later_row_overwrites_what_an_earlier_row_of_the_import_stored() -> None:
    lead = stored(import_id=IMPORT, import_row=3, created_import_id=IMPORT, title="row 3")
    plan = plan_batch(
        [draft(8, "ada@example.com", title="row 8")], {"ada@example.com": lead}, IMPORT, CU, REPLACE
    )
    assert (plan.created, plan.updated, plan.duplicates) == (0, 0, 1)
    [update] = plan.updates
    assert update.changes == {"title": "row 8"}
    assert update.audited is False  # the lead was created by this very import
    assert plan.outcomes[8] == (Outcome.DUPLICATE, "L1")


def test_same_import_rows_override_even_in_create_only_mode() -> None:
    lead = stored(import_id=IMPORT, import_row=3, created_import_id=IMPORT, title="row 3")
    plan = plan_batch(
        [draft(8, "ada@example.com", title="row 8")],
        {"ada@example.com": lead},
        IMPORT,
        ImportMode.CREATE_ONLY,
        REPLACE,
    )
    assert [u.changes for u in plan.updates] == [{"title": "row 8"}]
    assert plan.skipped == 0 and plan.duplicates == 1


def test_a_row_already_applied_is_replayed() -> None:
    lead = stored(import_id=IMPORT, import_row=5, title="row 5")
    plan = plan_batch(
        [draft(5, "ada@example.com", title="row 5")], {"ada@example.com": lead}, IMPORT, CU, REPLACE
    )
    assert plan.outcomes[5] == (Outcome.REPLAYED, "L1")
    assert plan.updates == [] and plan.creates == []
    assert (plan.created, plan.updated, plan.duplicates, plan.skipped) == (0, 0, 0, 0)


def test_same_row_number_of_another_import_is_an_update() -> None:
    lead = stored(import_id=OLD_IMPORT, import_row=5)
    plan = plan_batch(
        [draft(5, "ada@example.com", title="x")], {"ada@example.com": lead}, IMPORT, CU, REPLACE
    )
    assert plan.outcomes[5] == (Outcome.UPDATED, "L1")


# --- merge_changes / fields_changed ------------------------------------------------------------


def test_merge_changes_phone_brings_its_validity() -> None:
    lead = stored(phone="555", phone_valid=False)
    changes = merge_changes(lead, draft(1, "ada@example.com", phone="+14155550134"), REPLACE)
    assert changes == {"phone": "+14155550134", "phone_valid": True}
    assert fields_changed(changes) == ["phone"]


@pytest.mark.parametrize(
    ("old", "new", "policy", "expected"),
    [
        (None, True, REPLACE, {"opt_in": True}),
        (False, True, REPLACE, {"opt_in": True}),
        (True, None, REPLACE, {}),  # an absent value does not replace
        (True, True, REPLACE, {}),
        (None, False, FILL, {"opt_in": False}),
        (False, True, FILL, {}),
    ],
)
def test_merge_changes_opt_in(
    old: bool | None, new: bool | None, policy: MergePolicy, expected: dict[str, Any]
) -> None:
    changes = merge_changes(stored(opt_in=old), draft(1, "ada@example.com", opt_in=new), policy)
    assert changes == expected


def test_merge_changes_interests() -> None:
    lead = stored(interests=["a"])
    assert merge_changes(lead, draft(1, interests=["b"]), REPLACE) == {"interests": ["b"]}
    assert merge_changes(lead, draft(1, interests=["b"]), FILL) == {}
    assert merge_changes(lead, draft(1, interests=None), REPLACE) == {}
    assert merge_changes(stored(), draft(1, interests=["b"]), FILL) == {"interests": ["b"]}


def test_merge_changes_attributes() -> None:
    lead = stored(attributes={"a": 1, "b": 2})
    d = draft(1, attributes={"b": 3, "c": 4})
    assert merge_changes(lead, d, REPLACE) == {"attributes": {"a": 1, "b": 3, "c": 4}}
    assert merge_changes(lead, d, FILL) == {"attributes": {"a": 1, "b": 2, "c": 4}}
    assert merge_changes(lead, draft(1, attributes={"a": 1}), REPLACE) == {}
    assert merge_changes(stored(attributes=None), draft(1, attributes={"a": 1}), REPLACE) == {
        "attributes": {"a": 1}
    }


def test_fields_changed_lists_exactly_the_changed_fields_in_order() -> None:
    lead = stored(first_name="Ada", title="CTO", opt_in=False, interests=["a"])
    d = draft(
        1,
        "ada@example.com",
        first="Ada",
        last="Lovelace",
        title="CTO",
        company="Engines",
        remarks="hi",
        opt_in=True,
        interests=["a"],
        attributes={"x": 1},
    )
    changes = merge_changes(lead, d, REPLACE)
    assert set(changes) == {"last_name", "company", "remarks", "opt_in", "attributes"}
    assert fields_changed(changes) == ["lastName", "company", "remarks", "optIn", "attributes"]


def test_fields_changed_full_order() -> None:
    changes = dict.fromkeys((*MERGED, "phone_valid", "opt_in", "interests", "attributes"), "x")
    assert fields_changed(changes) == [
        "firstName",
        "lastName",
        "title",
        "company",
        "phone",
        "remarks",
        "optIn",
        "interests",
        "attributes",
    ]
    assert fields_changed({}) == []


# --- an in-memory store to apply plans, as the SQLite store does -------------------------------


class MemStore:
    """One owner's leads: keyed ones by duplicate key, keyless ones in a list."""

    def __init__(self) -> None:
        self.by_key: dict[str, dict[str, Any]] = {}
        self.keyless: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self.audit: dict[tuple[str, str], list[dict[str, Any]]] = {}  # (lead, import) -> previous
        self.skips: dict[str, dict[str, int]] = {}  # import -> key -> row (the skip ledger)

    def _stored_for(self, import_id: str) -> dict[str, dict[str, Any]]:
        """The leads as the store hands them to plan_batch: with `import_base` where due."""
        stored = {}
        for key, lead in self.by_key.items():
            row = dict(lead)
            if lead["import_id"] == import_id:
                if lead["created_import_id"] == import_id:
                    row["import_base"] = None
                else:
                    base = dict(lead)
                    for previous in reversed(self.audit.get((lead["lead_id"], import_id), [])):
                        base.update(previous)
                    row["import_base"] = base
            stored[key] = row
        return stored

    def seed(self, d: LeadDraft, import_id: str = OLD_IMPORT) -> None:
        self._create(d, import_id)

    def _create(self, d: LeadDraft, import_id: str) -> None:
        lead = {
            "lead_id": f"L{next(self._ids)}",
            "email": d.email,
            "phone": d.phone,
            "phone_valid": d.phone_valid,
            "first_name": d.first_name,
            "last_name": d.last_name,
            "title": d.title,
            "company": d.company,
            "remarks": d.remarks,
            "opt_in": d.opt_in,
            "interests": d.interests,
            "attributes": dict(d.attributes),
            "source_file": f"{import_id}.csv",
            "import_id": import_id,
            "import_row": d.row,
            "created_import_id": import_id,
        }
        if d.key is None:
            self.keyless.append(lead)
        else:
            assert d.key not in self.by_key, "a key was created twice"
            self.by_key[d.key] = lead

    def run(
        self,
        drafts: Sequence[LeadDraft],
        import_id: str = IMPORT,
        mode: ImportMode = CU,
        policy: MergePolicy = REPLACE,
    ) -> BatchPlan:
        ledger = self.skips.setdefault(import_id, {})
        plan = plan_batch(
            drafts, self._stored_for(import_id), import_id, mode, policy, skipped_rows=dict(ledger)
        )
        for d in plan.creates:
            self._create(d, import_id)
        by_id = {lead["lead_id"]: lead for lead in self.by_key.values()}
        for update in plan.updates:
            lead = by_id[update.lead_id]
            assert update.previous == {c: lead[c] for c in update.changes}
            if update.unchanged:  # the stamp alone moves
                lead.update(import_id=import_id, import_row=update.draft.row)
                continue
            if update.audited:
                self.audit.setdefault((update.lead_id, import_id), []).append(update.previous)
            lead.update(update.changes)
            lead.update(source_file=f"{import_id}.csv", import_id=import_id)
            lead["import_row"] = update.draft.row
        for key, row in plan.skips.items():
            ledger[key] = max(ledger.get(key, row), row)
        return plan

    def snapshot(self) -> dict[str, dict[str, Any]]:
        # Not the lead id (new each run), nor the file that wrote the lead last: like
        # updatedAt, that is about the write, and a row that changed a lead and was then
        # undone by a later row of the file (in another batch) leaves it behind.
        return {
            k: {c: v for c, v in lead.items() if c not in ("lead_id", "source_file")}
            for k, lead in self.by_key.items()
        }


def totals(plans: Sequence[BatchPlan]) -> tuple[int, int, int, int, int]:
    """(created, updated, duplicates, skipped, unchanged) over the plans."""
    return (
        sum(p.created for p in plans),
        sum(p.updated for p in plans),
        sum(p.duplicates for p in plans),
        sum(p.skipped for p in plans),
        sum(p.unchanged for p in plans),
    )


def run_split(
    store: MemStore,
    drafts: Sequence[LeadDraft],
    batches: Sequence[Sequence[int]],
    mode: ImportMode = CU,
    policy: MergePolicy = REPLACE,
) -> list[BatchPlan]:
    """Apply `drafts` split into batches (lists of indexes), batch by batch in that order."""
    return [store.run([drafts[i] for i in batch], IMPORT, mode, policy) for batch in batches]


# --- strategies --------------------------------------------------------------------------------

EMAILS = ("a@x.com", "b@x.com", "c@y.org", "d@y.org")
PHONES = ("+14155550134", "+442079460958", "+4930123456")
_text = st.sampled_from(["", "", "A", "B", "C"])


@st.composite
def _key_kind(draw: st.DrawFn) -> tuple[str | None, str | None, bool | None]:
    kind = draw(st.sampled_from(["email", "email", "email+phone", "phone", "none", "badphone"]))
    if kind == "email":
        return draw(st.sampled_from(EMAILS)), None, None
    if kind == "email+phone":
        return draw(st.sampled_from(EMAILS)), draw(st.sampled_from(PHONES)), True
    if kind == "phone":
        return None, draw(st.sampled_from(PHONES)), True
    if kind == "badphone":
        return None, "call me", False
    return None, None, None


@st.composite
def _drafts(draw: st.DrawFn, rich: bool = False, max_size: int = 25) -> list[LeadDraft]:
    """Rows 1..n of one file. `rich` adds optIn, interests and attributes."""
    n = draw(st.integers(1, max_size))
    out = []
    for row in range(1, n + 1):
        email, phone, valid = draw(_key_kind())
        out.append(
            LeadDraft(
                row=row,
                email=email,
                phone=phone,
                phone_valid=valid,
                first_name=draw(_text),
                last_name=draw(_text),
                name="",
                title=draw(_text),
                company=draw(_text),
                remarks=draw(_text),
                opt_in=draw(st.sampled_from([None, True, False])) if rich else None,
                interests=draw(st.sampled_from([None, ["a"], ["b"]])) if rich else None,
                attributes=(
                    draw(st.dictionaries(st.sampled_from(["p", "q"]), st.integers(0, 2)))
                    if rich
                    else {}
                ),
            )
        )
    return out


@st.composite
def _split(draw: st.DrawFn, size: int) -> list[list[int]]:
    """Any partition of range(size) into batches, each shuffled, in any order."""
    count = draw(st.integers(1, max(1, min(size, 6))))
    owner = draw(st.lists(st.integers(0, count - 1), min_size=size, max_size=size))
    batches = [[i for i in range(size) if owner[i] == b] for b in range(count)]
    batches = [draw(st.permutations(b)) for b in batches if b]
    return draw(st.permutations(batches))


def _last_by_key(drafts: Sequence[LeadDraft]) -> dict[str, LeadDraft]:
    last: dict[str, LeadDraft] = {}
    for d in drafts:
        if d.key is not None and (d.key not in last or last[d.key].row < d.row):
            last[d.key] = d
    return last


# --- properties --------------------------------------------------------------------------------


@given(
    st.lists(
        st.tuples(_text, _text, st.sampled_from([None, "call me", "12"])), min_size=2, max_size=12
    ),
    st.sampled_from(list(ImportMode)[:2]),
    st.sampled_from(list(MergePolicy)),
)
def test_property_keyless_leads_never_merge(
    rows: list[tuple[str, str, str | None]], mode: ImportMode, policy: MergePolicy
) -> None:
    drafts = [
        draft(i, None, phone, False if phone else None, first=f, last=l_)
        for i, (f, l_, phone) in enumerate(rows)
    ]
    store = MemStore()
    half = len(drafts) // 2
    plans = [store.run(drafts[:half], mode=mode, policy=policy), store.run(drafts[half:])]
    assert totals(plans) == (len(drafts), 0, 0, 0, 0)
    assert len(store.keyless) == len(drafts)
    assert store.by_key == {}
    assert len({lead["lead_id"] for lead in store.keyless}) == len(drafts)


@given(_drafts(), st.randoms(use_true_random=False))
def test_property_last_occurrence_of_each_key_wins(
    drafts: list[LeadDraft], rnd: random.Random
) -> None:
    shuffled = list(drafts)
    rnd.shuffle(shuffled)
    survivors, losers = last_occurrences(shuffled)
    keyless = [d for d in drafts if d.key is None]
    expected = _last_by_key(drafts)
    assert sorted(d.row for d in survivors) == sorted(
        [d.row for d in keyless] + [d.row for d in expected.values()]
    )
    assert sorted(d.row for d in survivors + losers) == [d.row for d in drafts]
    assert all(d.key is not None and expected[d.key].row > d.row for d in losers)
    plan = plan_batch(shuffled, {}, IMPORT, CU, REPLACE)
    assert {d.row for d in plan.creates} == {d.row for d in survivors}
    assert plan.duplicates == len(losers)
    assert set(plan.outcomes) == {d.row for d in drafts}


@given(st.data())
def test_property_batching_and_order_do_not_change_the_result(data: st.DataObject) -> None:
    """SPEC: the last occurrence wins, and counts are per file, whatever the batching/order.

    Default mode and policy; some keys may already exist from an earlier import.
    """
    drafts = data.draw(_drafts(), label="drafts")
    batches = data.draw(_split(len(drafts)), label="batches")
    last = _last_by_key(drafts)
    existing = data.draw(st.sets(st.sampled_from(sorted(last))) if last else st.just(set()))
    # some existing leads hold exactly what the file's last row for them says
    same = data.draw(st.sets(st.sampled_from(sorted(existing))) if existing else st.just(set()))
    store = MemStore()
    for i, key in enumerate(sorted(existing)):
        email = key if "@" in key else None
        phone = None if email else key
        if key in same:
            store.seed(dataclasses.replace(last[key], row=100 + i))
        else:
            store.seed(draft(100 + i, email, phone, first="Old", title="Old", remarks="old"))

    plans = run_split(store, drafts, batches)

    keyless = [d for d in drafts if d.key is None]
    keyed_rows = len(drafts) - len(keyless)
    new_keys = set(last) - existing
    assert totals(plans) == (
        len(new_keys) + len(keyless),
        len(existing) - len(same),
        keyed_rows - len(last),
        0,
        len(same),
    )
    assert set(store.by_key) == set(last)
    for key, winner in last.items():
        lead = store.by_key[key]
        for column in MERGED:
            assert lead[column] == getattr(winner, column), (key, column)
        assert lead["email"] == winner.email
        assert lead["phone_valid"] == winner.phone_valid
        assert lead["import_id"] == IMPORT and lead["import_row"] == winner.row
    assert len(store.keyless) == len(keyless)
    # every row has exactly one outcome
    outcomes = Counter(row for plan in plans for row in plan.outcomes)
    assert sorted(outcomes) == [d.row for d in drafts]
    assert set(outcomes.values()) == {1}


@given(st.data())
def test_property_redelivered_batches_change_nothing(data: st.DataObject) -> None:
    drafts = data.draw(_drafts(), label="drafts")
    batches = data.draw(_split(len(drafts)), label="batches")
    store = MemStore()
    run_split(store, drafts, batches)
    before = store.snapshot()
    keyless_before = len(store.keyless)
    again = data.draw(st.lists(st.sampled_from(batches), min_size=1, max_size=3), label="again")
    for plan in run_split(store, drafts, again):
        assert plan.creates == [d for d in plan.creates if d.key is None]
        assert plan.created == len(plan.creates)
    assert store.snapshot() == before
    assert len(store.keyless) >= keyless_before


@given(_drafts(), _drafts())
def test_property_owners_never_mix(drafts_a: list[LeadDraft], drafts_b: list[LeadDraft]) -> None:
    """Each owner has its own store; one owner's import never touches another's leads."""
    stores = {"alice": MemStore(), "bob": MemStore()}
    stores["bob"].run(drafts_b, import_id="bob-1")
    bob_before = stores["bob"].snapshot()
    plan = stores["alice"].run(drafts_a, import_id="alice-1")
    assert stores["bob"].snapshot() == bob_before
    # the same email in both owners' files creates a lead for each owner
    keys_a = {d.key for d in drafts_a if d.key is not None}
    assert plan.updated == 0
    assert plan.created == len(keys_a) + sum(1 for d in drafts_a if d.key is None)
    assert set(stores["alice"].by_key) == keys_a
    ids_a = {lead["lead_id"] for lead in stores["alice"].by_key.values()}
    assert all(lead["import_id"] == "alice-1" for lead in stores["alice"].by_key.values())
    assert all(lead["import_id"] == "bob-1" for lead in stores["bob"].by_key.values())
    assert len(ids_a) == len(keys_a)


# --- the same file, any batching: everything, in every mode and policy -------------------------


def _final(
    drafts: list[LeadDraft],
    batches: Sequence[Sequence[int]],
    existing: Sequence[LeadDraft],
    mode: ImportMode,
    policy: MergePolicy,
) -> tuple[dict[str, dict[str, Any]], tuple[int, int, int, int]]:
    store = MemStore()
    for d in existing:
        store.seed(d)
    plans = run_split(store, drafts, batches, mode, policy)
    return store.snapshot(), totals(plans)


@given(
    st.data(),
    st.sampled_from(list(ImportMode)),
    st.sampled_from(list(MergePolicy)),
)
def test_property_any_batching_gives_the_single_batch_result(
    data: st.DataObject, mode: ImportMode, policy: MergePolicy
) -> None:
    """SPEC: 'The last occurrence in the file wins even when its batches run in parallel
    or are redelivered out of order' and the counts are per file 'whatever its internal
    batching'. So any split/order must end exactly where one batch of the whole file ends.
    """
    drafts = data.draw(_drafts(rich=True, max_size=12), label="drafts")
    batches = data.draw(_split(len(drafts)), label="batches")
    keys = sorted(_last_by_key(drafts))
    existing_keys = data.draw(st.sets(st.sampled_from(keys)) if keys else st.just(set()))
    last = _last_by_key(drafts)
    same = data.draw(
        st.sets(st.sampled_from(sorted(existing_keys))) if existing_keys else st.just(set())
    )
    existing = [
        dataclasses.replace(last[k], row=100 + i)  # the file will change nothing in it
        if k in same
        else draft(
            100 + i,
            k if "@" in k else None,
            None if "@" in k else k,
            title="Old",
            opt_in=False,
            attributes={"p": 9, "old": 1},
        )
        for i, k in enumerate(sorted(existing_keys))
    ]
    one_batch = _final(drafts, [list(range(len(drafts)))], existing, mode, policy)
    assert _final(drafts, batches, existing, mode, policy) == one_batch


# --- the same, as plain examples (each names one way it can go wrong) --------------------------


def test_fill_policy_last_occurrence_wins_across_batches() -> None:
    """Rows 1 and 2 of one file share a key; with policy fill the file's last row must win
    over its earlier row whatever the batching (as it does when both are in one batch)."""
    rows = [draft(1, "a@x.com", title="row 1"), draft(2, "a@x.com", title="row 2")]
    single = MemStore()
    single.run(rows, policy=FILL)
    assert single.by_key["a@x.com"]["title"] == "row 2"

    forward = MemStore()
    run_split(forward, rows, [[0], [1]], policy=FILL)
    assert forward.by_key["a@x.com"]["title"] == "row 2"


def test_fill_policy_on_existing_lead_last_occurrence_fills_across_batches() -> None:
    rows = [draft(1, "a@x.com", title="row 1"), draft(2, "a@x.com", title="row 2")]
    results = []
    for batches in ([[0, 1]], [[0], [1]], [[1], [0]]):
        store = MemStore()
        store.seed(draft(50, "a@x.com", title=""))
        run_split(store, rows, batches, policy=FILL)
        results.append(store.by_key["a@x.com"]["title"])
    assert results == ["row 2", "row 2", "row 2"]


def test_earlier_duplicate_rows_leave_no_attributes_or_opt_in_behind() -> None:
    """An earlier occurrence is a duplicate: what the lead ends with must not depend on
    whether its batch ran before or after the last occurrence's batch."""
    rows = [
        draft(1, "a@x.com", opt_in=True, interests=["x"], attributes={"early": 1}),
        draft(2, "a@x.com", attributes={"late": 2}),
    ]
    single, forward, backward = MemStore(), MemStore(), MemStore()
    single.run(rows)
    run_split(forward, rows, [[0], [1]])
    run_split(backward, rows, [[1], [0]])
    expected = single.snapshot()["a@x.com"]
    assert expected["attributes"] == {"late": 2} and expected["opt_in"] is None
    assert backward.snapshot()["a@x.com"] == expected
    assert forward.snapshot()["a@x.com"] == expected


@pytest.mark.parametrize(
    ("mode", "seed_existing"),
    [(ImportMode.UPDATE_ONLY, False), (ImportMode.CREATE_ONLY, True)],
)
def test_skipping_modes_count_duplicates_whatever_the_batching(
    mode: ImportMode, seed_existing: bool
) -> None:
    """Two rows of one file with the same key: one is a duplicate (the earlier), the other
    is skipped by the mode, whether they arrive in one batch or in two."""
    rows = [draft(1, "a@x.com", title="row 1"), draft(2, "a@x.com", title="row 2")]
    counts = []
    for batches in ([[0, 1]], [[0], [1]], [[1], [0]]):
        store = MemStore()
        if seed_existing:
            store.seed(draft(50, "a@x.com"))
        counts.append(totals(run_split(store, rows, batches, mode)))
    # (created, updated, duplicates, skipped, unchanged)
    assert counts == [(0, 0, 1, 1, 0)] * 3
