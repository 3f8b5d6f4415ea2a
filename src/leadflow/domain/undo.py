"""Undoing an import (SPEC 'Importing'): what to delete, what to restore, what to leave.

Pure: the store hands in, for each lead the import created or updated, the lead and its
audit trail, and applies the plan this module returns. Undo never destroys later work:
a lead that another import or an API call changed after this import (an audit entry of
another import, one that was not itself undone on that lead) keeps its values and is
reported as a conflict, whether this import created it or updated it. Undo is
idempotent: a lead this import's undo restored already (its `import_undone` entry) or
deleted already (gone) is left alone, so an undo interrupted half-way can run again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .merge import fields_changed
from .names import join_name

UPDATED = "lead_updated"
UNDONE = "import_undone"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One entry of a lead's audit trail; `previous` holds the columns it replaced."""

    id: int  # ascending in the order the entries were written
    action: str
    import_id: str
    previous: Mapping[str, Any]
    previous_source_file: str | None


@dataclass(slots=True)
class Restore:
    """Give one lead back its values from before the import."""

    lead_id: str
    values: dict[str, Any]  # column -> restored value (with `name` when a part changes)
    replaced: dict[str, Any]  # column -> the value the lead held until the undo
    source_file: str | None
    fields: list[str]  # the restored fields' API names, for the audit entry


@dataclass(slots=True)
class UndoResult:
    """What an undo did: leads deleted, leads restored, and leads left as they are
    because later work changed them (their ids)."""

    deleted: int = 0
    restored: int = 0
    conflicts: list[str] = field(default_factory=list)

    def add(self, other: UndoResult) -> None:
        self.deleted += other.deleted
        self.restored += other.restored
        self.conflicts.extend(other.conflicts)


def _later_work(entries: Sequence[AuditEntry], import_id: str, since: int) -> bool:
    """Whether another import changed the lead after entry `since` (and was not undone)."""
    undone = {e.import_id for e in entries if e.action == UNDONE}
    return any(
        e.action == UPDATED and e.id > since and e.import_id != import_id
        for e in entries
        if e.import_id not in undone
    )


def plan_undo(
    import_id: str,
    leads: Mapping[str, Mapping[str, Any]],
    trails: Mapping[str, Sequence[AuditEntry]],
) -> tuple[list[str], list[Restore], list[str]]:
    """(lead ids to delete, restores, conflicting lead ids) for the leads of one import.

    `leads` holds the current lead rows (lead_id -> columns, with `created_import_id`),
    `trails` each one's audit entries, oldest first (missing: none).
    """
    deletes: list[str] = []
    restores: list[Restore] = []
    conflicts: list[str] = []
    for lead_id, lead in leads.items():
        entries = trails.get(lead_id, ())
        if any(e.action == UNDONE and e.import_id == import_id for e in entries):
            continue  # restored by an earlier run of this undo
        if lead["created_import_id"] == import_id:
            # the import made this lead: any change by another import is later work
            if _later_work(entries, import_id, since=-1):
                conflicts.append(lead_id)
            else:
                deletes.append(lead_id)
            continue
        mine = [e for e in entries if e.action == UPDATED and e.import_id == import_id]
        if not mine:
            continue  # the import left this lead unchanged: nothing to undo
        if _later_work(entries, import_id, since=mine[0].id):
            conflicts.append(lead_id)
            continue
        values: dict[str, Any] = {}
        for entry in reversed(mine):  # newest first: each column ends with its oldest value
            values.update(entry.previous)
        replaced = {column: lead[column] for column in values}
        if "first_name" in values or "last_name" in values:
            values["name"] = join_name(
                values.get("first_name", lead["first_name"]),
                values.get("last_name", lead["last_name"]),
            )
        restores.append(
            Restore(
                lead_id,
                values,
                replaced,
                mine[0].previous_source_file,
                fields_changed(replaced),
            )
        )
    return deletes, restores, conflicts


def values_before(
    row: Mapping[str, Any], trail: Sequence[Mapping[str, Any]], import_id: str
) -> dict[str, Any] | None:
    """A lead's values before `import_id` first changed it, rebuilt from its audit trail
    (entries oldest first, each with `import_id`, `action` and the `previous` values it
    replaced); None when the import created the lead. The merge rules' `import_base`."""
    if row["created_import_id"] == import_id:
        return None
    base = {k: v for k, v in row.items() if k != "import_base"}
    for entry in reversed(trail):  # newest first: each column ends at its oldest value
        if entry["import_id"] == import_id and entry["action"] == UPDATED:
            base.update(entry["previous"])
    return base
