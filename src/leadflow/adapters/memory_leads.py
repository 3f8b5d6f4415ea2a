"""The lead aggregate in memory: LeadRepository and LeadReadModel over shared tables.

Written from the ports' docstrings (ports.LeadRepository, ports.LeadReadModel), not from
the SQLite adapter: each write is checked and applied under one lock, all or nothing, and
`session()` groups nothing (correctness never depends on it). Rows hold Python values
(booleans, lists, dicts); documents are built by the same functions as SQLite's.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ..documents import audit_to_api, decode_cursor, lead_to_api, page_of
from ..domain.undo import UNDONE, AuditEntry, UndoResult, plan_undo, values_before
from ..ports import MAX_WRITES_PER_APPLY, LeadQuery, LeadWrite, RowReceipt
from .lead_filters import SORTS, fold, found_by, passes

Row = dict[str, Any]
# the columns LeadRepository hands out (its docstring)
LEAD_COLUMNS = (
    "lead_id", "owner", "email", "phone", "phone_valid", "first_name", "last_name", "name",
    "title", "company", "remarks", "opt_in", "interests", "attributes", "source",
    "source_file", "created_at", "updated_at", "import_id", "import_row",
    "created_import_id", "version",
)  # fmt: skip


def lead_key(row: Mapping[str, Any]) -> str | None:
    """A stored lead's key: its email, else its phone when valid, else none."""
    if row.get("email") is not None:
        return str(row["email"])
    if row.get("phone_valid") and row.get("phone") is not None:
        return str(row["phone"])
    return None


@dataclass
class MemoryLeadData:
    """The tables the repository writes and the read model reads."""

    leads: dict[str, Row] = field(default_factory=dict)  # lead_id -> row, in seq order
    keys: dict[tuple[str, str], str] = field(default_factory=dict)  # (owner, key) -> id
    audit: dict[str, list[Row]] = field(default_factory=dict)  # lead_id -> oldest first
    receipts: dict[tuple[str, int], RowReceipt] = field(default_factory=dict)
    skips: dict[tuple[str, str, str], int] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    last_seq: int = 0
    last_audit_id: int = 0

    def add_audit(self, owner: str, entry: Mapping[str, Any]) -> None:
        trail = self.audit.setdefault(entry["lead_id"], [])
        if entry.get("import_row") is not None and any(
            e["import_id"] == entry["import_id"]
            and e["import_row"] == entry["import_row"]
            and e["action"] == entry["action"]
            for e in trail
        ):
            return  # keyed by (lead, import, row): written once
        self.last_audit_id += 1
        trail.append({**entry, "id": self.last_audit_id, "owner": owner})


def _document_row(row: Row) -> Row:
    """A row in the shape documents.lead_to_api reads."""
    out = dict(row)
    for column in ("interests", "attributes", "enrichment"):
        value = row.get(column)
        out[column] = None if value is None else json.dumps(value, ensure_ascii=False)
    return out


def _audit_row(entry: Row) -> Row:
    out = dict(entry)
    out["fields_changed"] = json.dumps(list(entry["fields_changed"]))
    out["previous"] = json.dumps(entry["previous"], ensure_ascii=False, default=str)
    if entry.get("restored") is not None:
        out["restored"] = json.dumps(entry["restored"], ensure_ascii=False, default=str)
    return out


class MemoryLeadRepository:
    """ports.LeadRepository in memory."""

    max_writes = MAX_WRITES_PER_APPLY  # as strict as DynamoDB, so chunking is exercised

    def __init__(self, data: MemoryLeadData | None = None) -> None:
        self.data = data or MemoryLeadData()

    def find_by_keys(
        self, owner: str, keys: Iterable[str], import_id: str | None = None
    ) -> dict[str, dict[str, Any]]:
        d = self.data
        found: dict[str, dict[str, Any]] = {}
        with d.lock:
            for key in keys:
                lead_id = d.keys.get((owner, key))
                if lead_id is None:
                    continue
                held = d.leads[lead_id]
                row = json.loads(json.dumps({c: held[c] for c in LEAD_COLUMNS}))  # a deep copy
                if import_id is not None and row["import_id"] == import_id:
                    row["import_base"] = self._base(row, import_id)
                found[key] = row
        return found

    def _base(self, row: Row, import_id: str) -> Row | None:
        """The lead's values before `import_id` first changed it (None: it created it)."""
        return values_before(row, self.data.audit.get(row["lead_id"], []), import_id)

    def receipts(self, import_id: str, rows: Iterable[int]) -> dict[int, RowReceipt]:
        with self.data.lock:
            held = self.data.receipts
            return {row: held[(import_id, row)] for row in rows if (import_id, row) in held}

    def find_skips(self, owner: str, import_id: str, keys: Iterable[str]) -> dict[str, int]:
        with self.data.lock:
            skips = self.data.skips
            return {k: skips[(import_id, owner, k)] for k in keys if (import_id, owner, k) in skips}

    def record_skips(
        self,
        owner: str,
        import_id: str,
        skips: Mapping[str, int],
        receipts: Sequence[RowReceipt] = (),
    ) -> None:
        with self.data.lock:
            ledger = self.data.skips
            for key, row in skips.items():
                held = ledger.get((import_id, owner, key))
                ledger[(import_id, owner, key)] = row if held is None else max(held, row)
            for receipt in receipts:
                self.data.receipts.setdefault((receipt.import_id, receipt.row), receipt)

    def apply(self, writes: Sequence[LeadWrite]) -> list[bool]:
        with self.data.lock:
            return [self._apply_one(write) for write in writes]

    def _apply_one(self, w: LeadWrite) -> bool:
        d = self.data
        if w.receipt is not None and (w.receipt.import_id, w.receipt.row) in d.receipts:
            return True  # this very write was applied already
        current = d.leads.get(w.lead_id)
        if w.kind == "create":
            holder_id = d.keys.get((w.owner, w.key)) if w.key is not None else None
            holder = d.leads.get(holder_id) if holder_id is not None else current
            if holder is not None:
                return self._stamped(holder, w)
            d.last_seq += 1
            row: Row = json.loads(json.dumps(dict(w.values)))  # nothing shared with the caller
            row.update(lead_id=w.lead_id, owner=w.owner)
            row.update(seq=d.last_seq, version=1)
            row.setdefault("enrichment", None)
            d.leads[w.lead_id] = row
            if w.key is not None:
                d.keys[(w.owner, w.key)] = w.lead_id
        else:
            if current is None or current["owner"] != w.owner:
                return w.kind == "delete" and current is None and w.receipt is None
            if current["version"] != w.expected_version:
                return self._stamped(current, w)
            if (
                w.import_id is not None
                and current["import_id"] == w.import_id
                and current["import_row"] is not None
                and w.row is not None
                and current["import_row"] > w.row
            ):
                return False  # a later row of this import holds the lead
            if w.kind == "delete":
                del d.leads[w.lead_id]
                old_key = lead_key(current)
                if old_key is not None:
                    d.keys.pop((w.owner, old_key), None)
            else:
                new = {**current, **json.loads(json.dumps(dict(w.values)))}
                new["version"] = current["version"] + 1
                old_key, new_key = lead_key(current), lead_key(new)
                if new_key != old_key:
                    if new_key is not None and (w.owner, new_key) in d.keys:
                        return False  # the new key is another lead's
                    if old_key is not None:
                        del d.keys[(w.owner, old_key)]
                    if new_key is not None:
                        d.keys[(w.owner, new_key)] = w.lead_id
                d.leads[w.lead_id] = new
        if w.audit is not None:
            a = w.audit
            d.add_audit(
                w.owner,
                {
                    "lead_id": a.lead_id,
                    "action": a.action,
                    "email": a.email,
                    "previous_source_file": a.previous_source_file,
                    "new_source_file": a.new_source_file,
                    "fields_changed": list(a.fields_changed),
                    "previous": dict(a.previous),
                    "restored": None,
                    "batch_id": a.batch_id,
                    "import_id": a.import_id,
                    "import_row": a.row,
                    "timestamp": a.timestamp,
                },
            )
        if w.receipt is not None:
            d.receipts[(w.receipt.import_id, w.receipt.row)] = w.receipt
        return True

    @staticmethod
    def _stamped(row: Row, w: LeadWrite) -> bool:
        """Whether the lead holds this write's (import, row) stamp: applied already."""
        return (
            w.import_id is not None
            and row["import_id"] == w.import_id
            and row["import_row"] == w.row
        )

    @contextmanager
    def session(self) -> Iterator[None]:
        yield  # every write stands alone: nothing to group

    def undo_import(self, owner: str, import_id: str, now: str) -> UndoResult:
        d = self.data
        with d.lock:
            leads: dict[str, dict[str, Any]] = {}
            trails: dict[str, list[AuditEntry]] = {}
            for lead_id, row in d.leads.items():
                if row["owner"] != owner:
                    continue
                entries = d.audit.get(lead_id, [])
                mine = any(
                    e["import_id"] == import_id and e["action"] == "lead_updated" for e in entries
                )
                if row["created_import_id"] != import_id and not mine:
                    continue
                leads[lead_id] = dict(row)
                trails[lead_id] = [
                    AuditEntry(
                        e["id"],
                        e["action"],
                        e["import_id"],
                        e["previous"],
                        e["previous_source_file"],
                    )
                    for e in entries
                ]
            deletes, restores, conflicts = plan_undo(import_id, leads, trails)
            for lead_id in deletes:
                row = d.leads.pop(lead_id)
                key = lead_key(row)
                if key is not None:
                    d.keys.pop((owner, key), None)
            for restore in restores:
                current = d.leads[restore.lead_id]
                new = {**current, **restore.values, "version": current["version"] + 1}
                new.update(source_file=restore.source_file, updated_at=now, import_id=None)
                d.leads[restore.lead_id] = new
                d.add_audit(
                    owner,
                    {
                        "lead_id": restore.lead_id,
                        "action": UNDONE,
                        "email": current["email"],
                        "previous_source_file": current["source_file"],
                        "new_source_file": restore.source_file,
                        "fields_changed": restore.fields,
                        "previous": restore.replaced,
                        "restored": restore.values,
                        "batch_id": "",
                        "import_id": import_id,
                        "import_row": None,
                        "timestamp": now,
                    },
                )
        return UndoResult(len(deletes), len(restores), conflicts)

    def forget_import(self, import_id: str) -> None:
        d = self.data
        with d.lock:
            d.receipts = {k: v for k, v in d.receipts.items() if k[0] != import_id}
            d.skips = {k: v for k, v in d.skips.items() if k[0] != import_id}


def _limited(items: list[Any], limit: int) -> list[Any]:
    return items if limit < 0 else items[:limit]  # a negative limit is no limit


def _matches(row: Row, owner: str, query: LeadQuery) -> bool:
    return row["owner"] == owner and passes(row, query)


class MemoryLeadReadModel:
    """ports.LeadReadModel in memory, over a repository's tables."""

    def __init__(self, data: MemoryLeadData) -> None:
        self.data = data

    def _rows(self, owner: str) -> list[Row]:
        with self.data.lock:
            return [row for row in self.data.leads.values() if row["owner"] == owner]

    def get_lead(self, owner: str, lead_id: str) -> dict[str, Any] | None:
        row = self.data.leads.get(lead_id)
        if row is None or row["owner"] != owner:
            return None
        return lead_to_api(_document_row(row))

    def lead_history(self, owner: str, lead_id: str) -> list[dict[str, Any]]:
        with self.data.lock:
            trail = list(self.data.audit.get(lead_id, []))
        return [audit_to_api(_audit_row(e)) for e in trail if e["owner"] == owner]

    def count_leads(self, owner: str) -> int:
        return len(self._rows(owner))

    def find_leads(
        self,
        owner: str,
        company: str | None = None,
        title: str | None = None,
        since: str | None = None,
        limit: int = 50,
    ) -> tuple[int, list[dict[str, Any]]]:
        found = [row for row in self._rows(owner) if found_by(row, company, title, since)]
        newest = sorted(found, key=lambda row: row["seq"], reverse=True)[:limit]
        return len(found), [lead_to_api(_document_row(row)) for row in newest]

    def top_companies(self, owner: str, limit: int = 10) -> list[tuple[str, int]]:
        counts: dict[str, list[Any]] = {}
        for row in self._rows(owner):
            if row["company"]:
                entry = counts.setdefault(fold(row["company"]), [row["company"], 0])
                entry[1] += 1
        ranked = sorted(counts.values(), key=lambda e: (-e[1], e[0]))[:limit]
        return [(str(name), int(n)) for name, n in ranked]

    def list_leads(self, owner: str, query: LeadQuery) -> tuple[list[dict[str, Any]], str | None]:
        column = SORTS[query.sort]
        rows = [_document_row(row) for row in self._rows(owner) if _matches(row, owner, query)]

        def position(row: Row) -> tuple[str, int]:
            return ("" if column == "seq" else row[column] or "", row["seq"])

        if query.cursor:
            value, seq = decode_cursor(query.cursor)
            after = ("" if column == "seq" else value, seq)
            if query.descending:
                rows = [row for row in rows if position(row) < after]
            else:
                rows = [row for row in rows if position(row) > after]
        rows.sort(key=position, reverse=query.descending)
        return page_of(_limited(rows, query.limit + 1), query.limit, column)
