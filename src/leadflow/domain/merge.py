"""Duplicate and merge rules (SPEC 'Duplicates'): last occurrence wins, upsert by key.

Everything here is pure: the pipeline hands in the leads that already exist for a
batch's keys and writes the plan this module returns, one conditional write per lead
(ports.LeadRepository). Each row's count deltas are part of the plan (`row_counts`): they
go into the row's receipt, so that a replayed row counts as it did the first time.

Order independence: a stored lead remembers the import and the row that last wrote it.
A row of the same import only overwrites a lead written by an *earlier* row, so the last
occurrence in the file wins whatever order its batches run in, and each key of a file
counts once as created or updated and every other occurrence as a duplicate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .lead import LeadDraft
from .names import join_name


class ImportMode(StrEnum):
    CREATE_AND_UPDATE = "create-and-update"
    CREATE_ONLY = "create-only"
    UPDATE_ONLY = "update-only"


class MergePolicy(StrEnum):
    REPLACE = "replace"  # the seed's rule: new values replace old ones, empty included
    FILL = "fill"  # only fill fields that are empty in the stored lead


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"  # the lead existed and the row changes nothing in it
    DUPLICATE = "duplicate"
    SKIPPED = "skipped"  # the mode forbade it (create-only met an existing lead ...)
    REPLAYED = "replayed"  # this very row was applied already (a redelivered batch)


# column -> the name reported in fieldsChanged
MERGED_COLUMNS = {
    "first_name": "firstName",
    "last_name": "lastName",
    "title": "title",
    "company": "company",
    "phone": "phone",
    "remarks": "remarks",
}
# column -> the record fields that carry it: a row without any of them keeps the column
_SOURCES = {
    "first_name": frozenset(("firstName", "name")),
    "last_name": frozenset(("lastName", "name")),
    "title": frozenset(("title",)),
    "company": frozenset(("company",)),
    "phone": frozenset(("phone",)),
    "remarks": frozenset(("remarks",)),
}
_absent_cache: dict[frozenset[str], tuple[str, ...]] = {}


def absent_columns(present: frozenset[str]) -> tuple[str, ...]:
    """The merged columns a record with these lead fields does not have (kept as stored)."""
    absent = _absent_cache.get(present)
    if absent is None:
        absent = tuple(c for c, sources in _SOURCES.items() if not present & sources)
        if len(_absent_cache) < 256:  # a handful of distinct column sets per process
            _absent_cache[present] = absent
    return absent


@dataclass(slots=True)
class Update:
    """Changes to one stored lead, with what they replace (for the audit trail and undo)."""

    lead_id: str
    draft: LeadDraft
    changes: dict[str, Any]
    previous: dict[str, Any]
    previous_source_file: str | None
    audited: bool
    # The full name once first and last name are merged (None: neither changes). Not the
    # draft's name: with policy fill the lead may keep one part and take the other.
    name: str | None = None
    # True: the row changes nothing; only the lead's (import, row) stamp moves, so the
    # last occurrence still wins in any order; no audit entry, updatedAt stays.
    unchanged: bool = False
    # the stored lead's version the plan was made from (its write's condition)
    version: int | None = None


@dataclass(slots=True)
class BatchPlan:
    creates: list[LeadDraft] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)
    outcomes: dict[int, tuple[Outcome, str | None]] = field(default_factory=dict)
    skips: dict[str, int] = field(default_factory=dict)  # key -> row, for the skip ledger
    # row -> its deltas to the batch counts (summary names: created, updated, unchanged,
    # duplicates, ignored); their sum over the rows is the plan's counts
    row_counts: dict[int, dict[str, int]] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)  # the sum, by summary name

    def count(self, row: int, name: str, step: int = 1) -> None:
        """Add `step` to count `name`, on behalf of `row`."""
        totals = self.totals
        totals[name] = totals.get(name, 0) + step
        deltas = self.row_counts.get(row)
        if deltas is None:
            self.row_counts[row] = {name: step}
        else:
            deltas[name] = deltas.get(name, 0) + step

    @property
    def duplicates(self) -> int:
        return self.totals.get("duplicates", 0)

    @property
    def created(self) -> int:
        return self.totals.get("created", 0)

    @property
    def updated(self) -> int:
        return self.totals.get("updated", 0)

    @property
    def unchanged(self) -> int:
        return self.totals.get("unchanged", 0)

    @property
    def skipped(self) -> int:
        return self.totals.get("ignored", 0)

    def skip(self, draft: LeadDraft, lead_id: str | None) -> None:
        """The mode forbids this row; remember its key so other batches count it right."""
        self.count(draft.row, "ignored")
        self.outcomes[draft.row] = (Outcome.SKIPPED, lead_id)
        if draft.key is not None:
            self.skips[draft.key] = draft.row


def last_occurrences(drafts: Sequence[LeadDraft]) -> tuple[list[LeadDraft], list[LeadDraft]]:
    """(the survivors, the earlier occurrences) of each key; keyless leads all survive."""
    winners: dict[str, LeadDraft] = {}
    keyless: list[LeadDraft] = []
    losers: list[LeadDraft] = []
    for draft in drafts:
        key = draft.key
        if key is None:
            keyless.append(draft)
            continue
        held = winners.get(key)
        if held is None or held.row < draft.row:
            winners[key] = draft
            if held is not None:
                losers.append(held)
        else:
            losers.append(draft)
    return keyless + list(winners.values()), losers


def target_values(
    base: Mapping[str, Any] | None, draft: LeadDraft, policy: MergePolicy
) -> dict[str, Any]:
    """What a lead holds once `draft` is merged into `base` (None: a lead made from it)."""
    values: dict[str, Any] = {column: getattr(draft, column) for column in MERGED_COLUMNS}
    values["phone_valid"] = draft.phone_valid
    values["opt_in"] = draft.opt_in
    values["interests"] = draft.interests
    values["attributes"] = dict(draft.attributes)
    if base is None:
        return values
    for column in absent_columns(draft.present):
        values[column] = base[column]  # a field the record does not have is kept
    if policy is MergePolicy.FILL:
        for column in MERGED_COLUMNS:
            old = base[column]
            if old or not values[column]:
                values[column] = old  # fill: only empty fields take the new value
    fill = policy is MergePolicy.FILL
    if values["phone"] == base["phone"]:
        values["phone_valid"] = base["phone_valid"]
    for column in ("opt_in", "interests"):
        old = base[column]
        if values[column] is None or (fill and old is not None):
            values[column] = old  # absent in the row: the stored value stays
    old_attributes: dict[str, Any] = base["attributes"] or {}
    if fill:
        values["attributes"] = {**values["attributes"], **old_attributes}
    else:
        values["attributes"] = {**old_attributes, **values["attributes"]}
    return values


def merge_changes(
    stored: Mapping[str, Any],
    draft: LeadDraft,
    policy: MergePolicy,
    base: Mapping[str, Any] | None = None,
    from_scratch: bool = False,
) -> dict[str, Any]:
    """Column -> new value for every column of `stored` that merging `draft` changes.

    The merge is into `base` (default: `stored` itself); `from_scratch` means the lead
    should hold the draft's values alone, as when this import created it.
    """
    if from_scratch:
        target = target_values(None, draft, policy)
    else:
        target = target_values(stored if base is None else base, draft, policy)
    changes: dict[str, Any] = {}
    for column, value in target.items():
        old = stored[column]
        if column == "attributes":
            old = old or {}
        if value != old:
            changes[column] = value
    return changes


def fields_changed(changes: Mapping[str, Any]) -> list[str]:
    """The audit's fieldsChanged: lead field names, in a stable order."""
    names = [MERGED_COLUMNS[c] for c in MERGED_COLUMNS if c in changes]
    names += [
        {"opt_in": "optIn"}.get(c, c) for c in ("opt_in", "interests", "attributes") if c in changes
    ]
    return names


def plan_batch(
    drafts: Sequence[LeadDraft],
    stored_by_key: Mapping[str, Mapping[str, Any]],
    import_id: str,
    mode: ImportMode,
    policy: MergePolicy,
    deduped: tuple[list[LeadDraft], list[LeadDraft]] | None = None,
    skipped_rows: Mapping[str, int] | None = None,
) -> BatchPlan:
    """Decide, for each draft of one batch, whether it creates, updates or is a duplicate.

    `stored_by_key` holds the stored leads of the batch's keys. A lead last written by
    this import carries `import_base`: its values before the import touched it, or None
    when the import created it. `skipped_rows` holds, per key, the row of this import that
    the mode made skip it (create-only and update-only). `deduped` is
    last_occurrences(drafts) when the caller has it already.
    """
    plan = BatchPlan()
    survivors, losers = deduped or last_occurrences(drafts)
    for loser in losers:
        plan.outcomes[loser.row] = (Outcome.DUPLICATE, None)
        plan.count(loser.row, "duplicates")
    skipped_rows = skipped_rows or {}
    for draft in survivors:
        key = draft.key
        stored = stored_by_key.get(key) if key is not None else None
        lead_id = stored["lead_id"] if stored is not None else None
        if key is not None and (skipped_at := skipped_rows.get(key)) is not None:
            # Another row of this file with this key was skipped: the mode decides the
            # same for this one, and one of the two is a duplicate.
            if skipped_at == draft.row:
                plan.outcomes[draft.row] = (Outcome.REPLAYED, lead_id)
                continue
            plan.count(draft.row, "duplicates")
            if skipped_at < draft.row:
                plan.skips[key] = draft.row
                plan.outcomes[draft.row] = (Outcome.SKIPPED, lead_id)
            else:
                plan.outcomes[draft.row] = (Outcome.DUPLICATE, lead_id)
            continue
        if stored is None:
            if mode is ImportMode.UPDATE_ONLY:
                plan.skip(draft, None)
            else:
                plan.creates.append(draft)
                plan.count(draft.row, "created")
                plan.outcomes[draft.row] = (Outcome.CREATED, None)
            continue
        same_import = stored["import_id"] == import_id
        if same_import and stored["import_row"] == draft.row:
            plan.outcomes[draft.row] = (Outcome.REPLAYED, lead_id)
            continue
        created_here = stored["created_import_id"] == import_id
        if same_import:
            # Another row of this file holds the key: whichever row is earlier is the
            # duplicate, and the lead holds what the later row makes of the lead as it
            # was before this import (or the later row alone, if the import created it).
            plan.count(draft.row, "duplicates")
            if stored["import_row"] > draft.row:
                plan.outcomes[draft.row] = (Outcome.DUPLICATE, lead_id)
                continue
            outcome = Outcome.DUPLICATE
            base = stored.get("import_base")
            changes = merge_changes(stored, draft, policy, base, from_scratch=created_here)
            if not created_here and base is not None:
                # the file's last row so far tells what the import did to the lead
                changed = _recount(plan, stored, base, draft, policy)
                outcome = Outcome.UPDATED if changed else Outcome.UNCHANGED
        elif mode is ImportMode.CREATE_ONLY:
            plan.skip(draft, lead_id)
            continue
        else:
            changes = merge_changes(stored, draft, policy)
            if changes:
                plan.count(draft.row, "updated")
                outcome = Outcome.UPDATED
            else:
                plan.count(draft.row, "unchanged")
                outcome = Outcome.UNCHANGED
        if not changes:
            # Nothing to write but the stamp: the row still holds the key for this file.
            stamp = Update(stored["lead_id"], draft, {}, {}, stored["source_file"], False)
            stamp.unchanged = True
            stamp.version = stored.get("version")
            plan.updates.append(stamp)
            plan.outcomes[draft.row] = (outcome, lead_id)
            continue
        previous = {column: stored[column] for column in changes}
        name = None
        if "first_name" in changes or "last_name" in changes:
            name = join_name(
                changes.get("first_name", stored["first_name"]),
                changes.get("last_name", stored["last_name"]),
            )
        plan.updates.append(
            Update(
                stored["lead_id"],
                draft,
                changes,
                previous,
                stored["source_file"],
                not created_here,
                name,
                version=stored.get("version"),
            )
        )
        plan.outcomes[draft.row] = (outcome, lead_id)
    return plan


def _differs(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two leads differ in a merged value (attributes None and {} are alike)."""
    for column in (*MERGED_COLUMNS, "phone_valid", "opt_in", "interests"):
        if a[column] != b[column]:
            return True
    return (a["attributes"] or {}) != (b["attributes"] or {})


def _recount(
    plan: BatchPlan,
    stored: Mapping[str, Any],
    base: Mapping[str, Any],
    draft: LeadDraft,
    policy: MergePolicy,
) -> bool:
    """A later row replaces an earlier row's effect on a lead that existed before the
    import: the key counted `updated` or `unchanged` by what the earlier row made of the
    lead; move it to what the later row makes of it, so that the file's counts do not
    depend on which of its rows ran first (a batch's counts may go below zero). Whether
    the lead now differs from before the import."""
    was_changed = _differs(stored, base)
    now_changed = _differs(target_values(base, draft, policy), base)
    if was_changed != now_changed:
        step = 1 if now_changed else -1
        plan.count(draft.row, "updated", step)
        plan.count(draft.row, "unchanged", -step)
    return now_changed
