"""Duplicate and merge rules (SPEC 'Duplicates'): last occurrence wins, upsert by key.

Everything here is pure: the store hands in the leads that already exist for a batch's
keys and applies the plan this module returns, inside one transaction.

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


@dataclass(slots=True)
class Update:
    """Changes to one stored lead, with what they replace (for the audit trail and undo)."""

    lead_id: str
    draft: LeadDraft
    changes: dict[str, Any]
    previous: dict[str, Any]
    previous_source_file: str | None
    audited: bool


@dataclass(slots=True)
class BatchPlan:
    creates: list[LeadDraft] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)
    outcomes: dict[int, tuple[Outcome, str | None]] = field(default_factory=dict)
    duplicates: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0


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


def merge_changes(
    stored: Mapping[str, Any], draft: LeadDraft, policy: MergePolicy
) -> dict[str, Any]:
    """Column -> new value for every column the draft changes under the policy."""
    changes: dict[str, Any] = {}
    fill = policy is MergePolicy.FILL
    for column in MERGED_COLUMNS:
        new = getattr(draft, column)
        old = stored[column]
        if new == old or (fill and (old or not new)):
            continue
        changes[column] = new
    if "phone" in changes:
        changes["phone_valid"] = draft.phone_valid
    for column in ("opt_in", "interests"):
        new = getattr(draft, column)
        old = stored[column]
        if new is not None and new != old and not (fill and old is not None):
            changes[column] = new
    if draft.attributes:
        old_attrs: dict[str, Any] = stored["attributes"] or {}
        if fill:
            merged = {**draft.attributes, **old_attrs}
        else:
            merged = {**old_attrs, **draft.attributes}
        if merged != old_attrs:
            changes["attributes"] = merged
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
) -> BatchPlan:
    """Decide, for each draft of one batch, whether it creates, updates or is a duplicate.

    `deduped` is last_occurrences(drafts) when the caller has it already.
    """
    plan = BatchPlan()
    survivors, losers = deduped or last_occurrences(drafts)
    for loser in losers:
        plan.outcomes[loser.row] = (Outcome.DUPLICATE, None)
    plan.duplicates = len(losers)
    for draft in survivors:
        key = draft.key
        stored = stored_by_key.get(key) if key is not None else None
        if stored is None:
            if mode is ImportMode.UPDATE_ONLY:
                plan.skipped += 1
                plan.outcomes[draft.row] = (Outcome.SKIPPED, None)
            else:
                plan.creates.append(draft)
                plan.created += 1
                plan.outcomes[draft.row] = (Outcome.CREATED, None)
            continue
        lead_id = stored["lead_id"]
        same_import = stored["import_id"] == import_id
        if same_import and stored["import_row"] == draft.row:
            plan.outcomes[draft.row] = (Outcome.REPLAYED, lead_id)
            continue
        if same_import:
            # Another row of this file holds the key: whichever row is earlier is the
            # duplicate, and the later one's values are what the lead keeps.
            plan.duplicates += 1
            if stored["import_row"] > draft.row:
                plan.outcomes[draft.row] = (Outcome.DUPLICATE, lead_id)
                continue
            outcome = Outcome.DUPLICATE
        elif mode is ImportMode.CREATE_ONLY:
            plan.skipped += 1
            plan.outcomes[draft.row] = (Outcome.SKIPPED, lead_id)
            continue
        else:
            plan.updated += 1
            outcome = Outcome.UPDATED
        changes = merge_changes(stored, draft, policy)
        previous = {column: stored[column] for column in changes}
        created_here = stored["created_import_id"] == import_id
        plan.updates.append(
            Update(lead_id, draft, changes, previous, stored["source_file"], not created_here)
        )
        plan.outcomes[draft.row] = (outcome, lead_id)
    return plan
