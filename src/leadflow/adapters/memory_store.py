"""LeadStore and UserStore in memory: the fakes for unit tests, behaving like SQLite.

Both adapters pass one contract suite (tests/integration/test_store_contract.py): same
merge results, same documents, same search, sort and cursors (the SQLite adapter's
encoding, so a cursor of one is a cursor of the other). A unit of work writes to a copy
of the tables and swaps it in on success: an exception inside it leaves nothing behind,
and readers, who take no lock, always see committed data. Copying costs O(leads) per
transaction, which is nothing at the sizes a fake is for.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ..documents import audit_to_api, decode_cursor, lead_to_api, page_of
from ..domain.lead import LeadDraft
from ..domain.search import document, matches, parse_query
from ..domain.undo import AuditEntry, UndoResult, plan_undo
from ..ports import LeadQuery, WriteContext
from .memory_uow import DuplicateLeadKey, MemoryTables, MemoryUnitOfWork, Row
from .memory_uow import _stored_value as _stored

__all__ = ["DuplicateLeadKey", "MemoryLeadStore", "MemoryUnitOfWork", "MemoryUserStore"]

_SORTS = {
    "createdAt": "seq",
    "updatedAt": "updated_at",
    "name": "name",
    "company": "company",
    "email": "email",
    "lastName": "last_name",
}
_SEARCHED = ("name", "email", "company", "title", "phone")  # document()'s order
# SQLite's LIKE and COLLATE NOCASE fold ASCII letters only: 'É' does not match 'é'.
_ASCII_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _fold(text: str) -> str:
    return text.translate(_ASCII_FOLD)


def _limited(items: list[Any], limit: int) -> list[Any]:
    return items if limit < 0 else items[:limit]  # as SQL: a negative LIMIT is no limit


def _matches(row: Row, owner: str, query: LeadQuery) -> bool:
    if row["owner"] != owner:
        return False
    if query.q:
        search = parse_query(query.q, query.region)
        doc = document(*(row[column] for column in _SEARCHED))
        if not matches(search, doc, row["phone"]):
            return False
    if query.company and _fold(row["company"]) != _fold(query.company):
        return False
    for column, flag in (("opt_in", query.opt_in), ("phone_valid", query.phone_valid)):
        if flag is not None and (row[column] is None or bool(row[column]) != flag):
            return False
    return not query.source or row["source"] == query.source


class MemoryLeadStore:
    """Leads, their audit trail and the schema-error log in memory."""

    def __init__(self) -> None:
        self._tables = MemoryTables()
        self._write_lock = threading.Lock()

    def prepare_leads(self, ctx: WriteContext, drafts: Sequence[LeadDraft]) -> None:
        return None  # nothing to prepare: rows are built inside the unit of work

    @contextmanager
    def unit_of_work(self) -> Iterator[MemoryUnitOfWork]:
        with self._write_lock:
            work = self._tables.copy()
            yield MemoryUnitOfWork(work)
            self._tables = work  # reached only when the block raised nothing

    def find_leads(
        self,
        owner: str,
        company: str | None = None,
        title: str | None = None,
        since: str | None = None,
        limit: int = 50,
    ) -> tuple[int, list[dict[str, Any]]]:
        def matches(row: Row) -> bool:
            return (
                row["owner"] == owner
                and (not company or company.lower() in row["company"].lower())
                and (not title or title.lower() in row["title"].lower())
                and (not since or row["created_at"] >= since)
            )

        found = [row for row in self._tables.leads.values() if matches(row)]
        newest = sorted(found, key=lambda row: row["seq"], reverse=True)[:limit]
        return len(found), [lead_to_api(row) for row in newest]

    def top_companies(self, owner: str, limit: int = 10) -> list[tuple[str, int]]:
        counts: dict[str, list[Any]] = {}
        for row in self._tables.leads.values():
            if row["owner"] == owner and row["company"]:
                entry = counts.setdefault(row["company"].lower(), [row["company"], 0])
                entry[1] += 1
        ranked = sorted(counts.values(), key=lambda e: (-e[1], e[0]))[:limit]
        return [(str(name), int(n)) for name, n in ranked]

    def batch_totals(self, job_id: str) -> tuple[int, dict[str, int]]:
        totals: dict[str, int] = {}
        batches = [c for (job, _), (c, _) in self._tables.batches.items() if job == job_id]
        for counts in batches:
            for name, value in counts.items():
                totals[name] = totals.get(name, 0) + value
        return len(batches), totals

    def undo_import(self, owner: str, import_id: str, now: str) -> UndoResult:
        with self._write_lock:  # one unit of work (a fake has no size limit to respect)
            work = self._tables.copy()
            leads: dict[str, dict[str, Any]] = {}
            trails: dict[str, list[AuditEntry]] = {}
            for lead_id, row in work.leads.items():
                if row["owner"] != owner:
                    continue
                entries = [e for e in work.audit.get(lead_id, ()) if e["owner"] == owner]
                mine = any(
                    e["import_id"] == import_id and e["action"] == "lead_updated" for e in entries
                )
                if row["created_import_id"] != import_id and not mine:
                    continue
                lead = dict(row)
                for column in ("interests", "attributes"):
                    if lead[column] is not None:
                        lead[column] = json.loads(lead[column])
                leads[lead_id] = lead
                trails[lead_id] = [
                    AuditEntry(
                        e["id"],
                        e["action"],
                        e["import_id"],
                        json.loads(e["previous"]),
                        e["previous_source_file"],
                    )
                    for e in entries
                ]
            deletes, restores, conflicts = plan_undo(import_id, leads, trails)
            for lead_id in deletes:
                work.remove(work.leads[lead_id])
            for restore in restores:
                current = work.leads[restore.lead_id]
                new = {**current, **{k: _stored(k, v) for k, v in restore.values.items()}}
                new.update(source_file=restore.source_file, updated_at=now, import_id=None)
                work.put(new, current)
                work.last_audit_id += 1
                note = {
                    "id": work.last_audit_id,
                    "owner": owner,
                    "lead_id": restore.lead_id,
                    "action": "import_undone",
                    "email": current["email"],
                    "previous_source_file": current["source_file"],
                    "new_source_file": restore.source_file,
                    "fields_changed": json.dumps(restore.fields),
                    "previous": json.dumps(restore.replaced, ensure_ascii=False, default=str),
                    "restored": json.dumps(restore.values, ensure_ascii=False, default=str),
                    "batch_id": "",
                    "import_id": import_id,
                    "timestamp": now,
                }
                work.audit[restore.lead_id] = (*work.audit.get(restore.lead_id, ()), note)
            self._tables = work
        return UndoResult(len(deletes), len(restores), conflicts)

    def forget_job(self, job_id: str) -> None:
        with self._write_lock:
            work = self._tables.copy()
            work.batches = {k: v for k, v in work.batches.items() if k[0] != job_id}
            work.skips = {k: v for k, v in work.skips.items() if k[0] != job_id}
            self._tables = work

    def batch_outcomes(self, job_id: str) -> Iterator[tuple[int, str, str | None]]:
        for (job, _), (_, outcomes) in sorted(self._tables.batches.items()):
            if job == job_id:
                yield from (tuple(o) for o in outcomes)

    def get_lead(self, owner: str, lead_id: str) -> dict[str, Any] | None:
        row = self._tables.leads.get(lead_id)
        return lead_to_api(row) if row is not None and row["owner"] == owner else None

    def lead_history(self, owner: str, lead_id: str) -> list[dict[str, Any]]:
        return [audit_to_api(r) for r in self._tables.audit.get(lead_id, ()) if r["owner"] == owner]

    def count_leads(self, owner: str) -> int:
        return sum(1 for row in self._tables.leads.values() if row["owner"] == owner)

    def list_leads(self, owner: str, query: LeadQuery) -> tuple[list[dict[str, Any]], str | None]:
        column = _SORTS[query.sort]
        rows = [row for row in self._tables.leads.values() if _matches(row, owner, query)]

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
        rows = _limited(rows, query.limit + 1)
        return page_of(rows, query.limit, column)

    def list_schema_errors(
        self,
        owner: str,
        limit: int = 100,
        before: int | None = None,
        import_id: str | None = None,
    ) -> list[dict[str, Any]]:
        rows = [
            r
            for r in reversed(self._tables.errors)
            if r["owner"] == owner
            and (import_id is None or r["import_id"] == import_id)
            and (before is None or r["id"] < before)
        ]
        return [
            {
                "id": r["id"],
                "source": r["source"],
                "importId": r["import_id"],
                "index": r["position"],
                "record": json.loads(r["record"]),
                "errors": json.loads(r["errors"]),
                "createdAt": r["created_at"],
            }
            for r in _limited(rows, limit)
        ]


class MemoryUserStore:
    """Users and their password hashes in memory."""

    def __init__(self) -> None:
        self._hashes: dict[str, str] = {}
        self._lock = threading.Lock()

    def add_user(self, username: str, password_hash: str, now: str) -> None:
        with self._lock:
            self._hashes[username] = password_hash  # an existing user gets the new hash

    def has_users(self) -> bool:
        return bool(self._hashes)

    def password_hash(self, username: str) -> str | None:
        return self._hashes.get(username)

    def usernames(self, limit: int = 20) -> list[str]:
        return sorted(self._hashes)[:limit]
