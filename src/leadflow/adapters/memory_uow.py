"""The in-memory tables and the unit of work that writes them (see memory_store).

Rows are kept as the SQLite adapter stores them (its column names, booleans as 0/1,
interests and attributes as JSON text), so both adapters hand out the same documents.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..domain.lead import LeadDraft, Rejection
from ..domain.merge import Update, fields_changed
from ..ports import DEAD_LETTERED, WriteContext

Row = dict[str, Any]

_STORED_COLUMNS = (
    "lead_id", "email", "phone", "phone_valid", "first_name", "last_name", "title", "company",
    "remarks", "opt_in", "interests", "attributes", "source_file", "import_id", "import_row",
    "created_import_id",
)  # fmt: skip
_JSON_COLUMNS = {"interests", "attributes"}


class DuplicateLeadKey(ValueError):
    """A write would give an owner two leads with one key (SQLite: IntegrityError)."""


def _dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, default=str)


def _stored_value(column: str, value: Any) -> Any:
    """A value as SQLite keeps it: JSON text for JSON columns, 0/1 for booleans."""
    if column in _JSON_COLUMNS:
        return _dumps(value)
    return int(value) if isinstance(value, bool) else value


@dataclass(slots=True)
class MemoryTables:
    """The committed data. Containers are copied per unit of work; rows are replaced,
    never changed in place, so a copy shares rows safely with the original."""

    leads: dict[str, Row] = field(default_factory=dict)  # lead_id -> row, in seq order
    emails: dict[tuple[str, str], str] = field(default_factory=dict)  # (owner, email) -> id
    phones: dict[tuple[str, str], str] = field(default_factory=dict)  # phone-keyed leads
    audit: dict[str, tuple[Row, ...]] = field(default_factory=dict)  # lead_id -> oldest first
    skips: dict[tuple[str, str, str], int] = field(default_factory=dict)
    # the batch ledger: (job, batch) -> (counts, row outcomes)
    batches: dict[tuple[str, int], tuple[dict[str, int], list[Any]]] = field(default_factory=dict)
    errors: list[Row] = field(default_factory=list)  # the schema-error log, by id
    last_seq: int = 0
    last_audit_id: int = 0

    def copy(self) -> MemoryTables:
        return replace(
            self,
            leads=dict(self.leads),
            emails=dict(self.emails),
            phones=dict(self.phones),
            audit=dict(self.audit),
            skips=dict(self.skips),
            batches=dict(self.batches),
            errors=list(self.errors),
        )

    def _index_keys(self, row: Row) -> list[tuple[dict[tuple[str, str], str], tuple[str, str]]]:
        keys = []
        if row["email"] is not None:
            keys.append((self.emails, (row["owner"], row["email"])))
        elif row["phone_valid"] == 1 and row["phone"] is not None:
            keys.append((self.phones, (row["owner"], row["phone"])))
        return keys

    def remove(self, row: Row) -> None:
        for index, key in self._index_keys(row):
            del index[key]
        del self.leads[row["lead_id"]]

    def put(self, row: Row, old: Row | None = None) -> None:
        """Insert `row`, or replace `old` with it, keeping the unique key indexes."""
        if old is not None:
            for index, key in self._index_keys(old):
                del index[key]
        elif row["lead_id"] in self.leads:
            raise DuplicateLeadKey(f"lead id {row['lead_id']} exists")
        new_keys = self._index_keys(row)
        for index, key in new_keys:
            if key in index:
                if old is not None:  # put the old keys back: this write does not happen
                    for old_index, old_key in self._index_keys(old):
                        old_index[old_key] = old["lead_id"]
                raise DuplicateLeadKey(f"owner {key[0]!r} has a lead with key {key[1]!r}")
        for index, key in new_keys:
            index[key] = row["lead_id"]
        self.leads[row["lead_id"]] = row


class MemoryUnitOfWork:
    """One transaction's writes, to a private copy of the tables."""

    def __init__(self, tables: MemoryTables) -> None:
        self.tables = tables

    def find_by_keys(
        self, owner: str, keys: Iterable[str], import_id: str | None = None
    ) -> dict[str, Mapping[str, Any]]:
        t = self.tables
        found: dict[str, Mapping[str, Any]] = {}
        for key in keys:
            index = t.emails if "@" in key else t.phones
            lead_id = index.get((owner, key))
            if lead_id is None:
                continue
            row = {column: t.leads[lead_id][column] for column in _STORED_COLUMNS}
            for column in _JSON_COLUMNS:
                if row[column] is not None:
                    row[column] = json.loads(row[column])
            for column in ("opt_in", "phone_valid"):
                if row[column] is not None:
                    row[column] = bool(row[column])
            found[key] = row
        if import_id is not None:
            self._add_import_bases(import_id, found)
        return found

    def _add_import_bases(self, import_id: str, found: dict[str, Mapping[str, Any]]) -> None:
        """Rebuild, for leads this import already updated, their values before it."""
        for row in found.values():
            if row["import_id"] != import_id:
                continue
            if row["created_import_id"] == import_id:
                row["import_base"] = None  # type: ignore[index]
                continue
            base = dict(row)
            # newest first, so each column ends with its value before its first change
            for entry in reversed(self.tables.audit.get(row["lead_id"], ())):
                if entry["import_id"] == import_id:
                    base.update(json.loads(entry["previous"]))
            row["import_base"] = base  # type: ignore[index]

    def find_skips(self, owner: str, import_id: str, keys: Iterable[str]) -> dict[str, int]:
        skips = self.tables.skips
        return {k: skips[(import_id, owner, k)] for k in keys if (import_id, owner, k) in skips}

    def record_skips(self, owner: str, import_id: str, skips: Mapping[str, int]) -> None:
        ledger = self.tables.skips
        for key, row in skips.items():
            held = ledger.get((import_id, owner, key))
            ledger[(import_id, owner, key)] = row if held is None else max(held, row)

    def insert_leads(
        self,
        ctx: WriteContext,
        drafts: Sequence[LeadDraft],
        lead_ids: Sequence[str],
        prepared: Any = None,
    ) -> None:
        t = self.tables
        for d, lead_id in zip(drafts, lead_ids, strict=True):
            row: Row = {
                "seq": t.last_seq + 1,
                "lead_id": lead_id,
                "owner": ctx.owner,
                "email": d.email,
                "phone": d.phone,
                "phone_valid": _stored_value("phone_valid", d.phone_valid),
                "first_name": d.first_name,
                "last_name": d.last_name,
                "name": d.name,
                "title": d.title,
                "company": d.company,
                "remarks": d.remarks,
                "opt_in": _stored_value("opt_in", d.opt_in),
                "interests": _dumps(d.interests),
                "source": ctx.source,
                "source_file": ctx.source_file,
                "attributes": _dumps(d.attributes) if d.attributes else None,
                "enrichment": None,
                "created_at": ctx.now,
                "updated_at": ctx.now,
                "import_id": ctx.import_id,
                "import_row": d.row,
                "created_import_id": ctx.import_id,
            }
            t.put(row)
            t.last_seq += 1

    def apply_updates(self, ctx: WriteContext, updates: Sequence[Update]) -> None:
        t = self.tables
        # In the order SQLite applies them: grouped by the set of columns they change.
        groups: dict[tuple[str, ...], list[tuple[Update, dict[str, Any]]]] = {}
        for update in updates:
            if update.unchanged:  # only the (import, row) stamp moves
                old = t.leads.get(update.lead_id)
                if old is not None and old["owner"] == ctx.owner:
                    t.put({**old, "import_id": ctx.import_id, "import_row": update.draft.row}, old)
                continue
            changes = dict(update.changes)
            if "first_name" in changes or "last_name" in changes:
                changes["name"] = update.name
            groups.setdefault(tuple(changes), []).append((update, changes))
        for group in groups.values():
            for update, changes in group:
                old = t.leads.get(update.lead_id)
                if old is None or old["owner"] != ctx.owner:
                    continue
                new = {**old, **{c: _stored_value(c, v) for c, v in changes.items()}}
                new.update(
                    source_file=ctx.source_file,
                    updated_at=ctx.now,
                    import_id=ctx.import_id,
                    import_row=update.draft.row,
                )
                t.put(new, old)
        for update in updates:
            if update.audited:
                t.last_audit_id += 1
                entry: Row = {
                    "id": t.last_audit_id,
                    "owner": ctx.owner,
                    "lead_id": update.lead_id,
                    "action": "lead_updated",
                    "email": update.draft.email,
                    "previous_source_file": update.previous_source_file,
                    "new_source_file": ctx.source_file,
                    "fields_changed": json.dumps(fields_changed(update.changes)),
                    "previous": json.dumps(update.previous, ensure_ascii=False, default=str),
                    "batch_id": ctx.batch_id,
                    "import_id": ctx.import_id,
                    "timestamp": ctx.now,
                }
                t.audit[update.lead_id] = (*t.audit.get(update.lead_id, ()), entry)

    def claim_batch(self, job_id: str, batch_no: int) -> bool:
        held = self.tables.batches.get((job_id, batch_no))
        if held is not None and not held[0].get(DEAD_LETTERED):
            return False  # applied already; a dead-lettered batch is redriven instead
        self.tables.batches[(job_id, batch_no)] = ({}, [])
        return True

    def mark_dead(self, job_id: str, batch_no: int) -> bool:
        if (job_id, batch_no) in self.tables.batches:
            return False
        self.tables.batches[(job_id, batch_no)] = ({DEAD_LETTERED: 1}, [])
        return True

    def finish_batch(
        self,
        job_id: str,
        batch_no: int,
        counts: Mapping[str, int],
        outcomes: Sequence[tuple[int, str, str | None]] = (),
    ) -> None:
        self.tables.batches[(job_id, batch_no)] = (dict(counts), list(outcomes))

    def log_rejections(self, ctx: WriteContext, rejections: Sequence[Rejection]) -> None:
        for r in rejections:
            self.tables.errors.append(
                {
                    "id": len(self.tables.errors) + 1,
                    "owner": ctx.owner,
                    "source": ctx.source,
                    "import_id": ctx.import_id,
                    "position": r.row,
                    "record": json.dumps(r.record, ensure_ascii=False, default=str),
                    "errors": json.dumps([e.as_dict() for e in r.errors], ensure_ascii=False),
                    "created_at": ctx.now,
                }
            )
