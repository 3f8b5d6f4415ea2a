"""ports.LeadRepository over SQLite: conditional lead writes with receipts and audit.

Each `apply` call checks every write's condition and writes the ones that hold inside
one transaction (BEGIN IMMEDIATE: nobody writes in between), so a write and its receipt
and audit entry commit together. Inside `session()` all calls share one transaction: no
condition can fail there, and a bulk import pays for one commit.
"""

from __future__ import annotations

import json
import operator
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from ..domain.search import document as search_document
from ..domain.undo import UNDONE, AuditEntry, UndoResult, plan_undo
from ..ports import LeadWrite, RowReceipt
from .sqlite_db import Database, session, write

STORED_COLUMNS = (
    "lead_id", "owner", "email", "phone", "phone_valid", "first_name", "last_name", "name",
    "title", "company", "remarks", "opt_in", "interests", "attributes", "source",
    "source_file", "created_at", "updated_at", "import_id", "import_row",
    "created_import_id", "version",
)  # fmt: skip
_SELECT = ", ".join(STORED_COLUMNS)
_JSON_COLUMNS = frozenset(("interests", "attributes"))
_BOOL_COLUMNS = ("opt_in", "phone_valid")
_SEARCHED = frozenset(("name", "email", "company", "title", "phone"))
_INSERTED = tuple(c for c in STORED_COLUMNS if c != "version")
_INSERT = (
    f"INSERT INTO leads ({', '.join(_INSERTED)}, version, search) "
    f"VALUES ({', '.join('?' * (len(_INSERTED) + 2))})"
)
KEYS_PER_QUERY = 500  # below SQLite's bound-variable limit


def dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, default=str)


def stored_value(column: str, value: Any) -> Any:
    """A value as the leads table keeps it: JSON text, 0/1 for booleans."""
    if column in _JSON_COLUMNS:
        return dumps(value) if value or column == "interests" else None
    return int(value) if isinstance(value, bool) else value


def lead_of(names: Sequence[str], values: Sequence[Any]) -> dict[str, Any]:
    """A stored row as the port hands it out (JSON parsed, booleans as bool)."""
    row = dict(zip(names, values, strict=True))
    for column in _JSON_COLUMNS:
        if row.get(column) is not None:
            row[column] = json.loads(row[column])
    for flag in _BOOL_COLUMNS:
        if row.get(flag) is not None:
            row[flag] = bool(row[flag])
    return row


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), KEYS_PER_QUERY):
        yield items[start : start + KEYS_PER_QUERY]


def select_by_keys(conn: sqlite3.Connection, owner: str, keys: Iterable[str]) -> dict[str, Any]:
    """Stored leads of these keys (an email has an @; else a valid E.164 phone)."""
    emails: list[str] = []
    phones: list[str] = []
    for key in keys:
        (emails if "@" in key else phones).append(key)
    found: dict[str, dict[str, Any]] = {}
    for wanted, condition, key_column in (
        (emails, "email IN ({})", "email"),
        (phones, "email IS NULL AND phone_valid = 1 AND phone IN ({})", "phone"),
    ):
        for chunk in _chunks(wanted):
            where = condition.format(",".join("?" * len(chunk)))
            cursor = conn.execute(
                f"SELECT {_SELECT} FROM leads WHERE owner = ? AND {where}", [owner, *chunk]
            )
            names = [d[0] for d in cursor.description]
            for values in cursor:
                row = lead_of(names, values)
                found[row[key_column]] = row
    return found


class SqliteLeadRepository:
    """ports.LeadRepository over one SQLite file."""

    # One statement per group of rows, well within SQLite's limits; fewer calls, faster.
    max_writes = 1000

    def __init__(self, db: Database) -> None:
        self.db = db

    def session(self) -> AbstractContextManager[None]:
        return session(self.db)

    def find_by_keys(
        self, owner: str, keys: Iterable[str], import_id: str | None = None
    ) -> dict[str, dict[str, Any]]:
        conn = self.db.conn
        found = select_by_keys(conn, owner, keys)
        if import_id is not None:
            self._add_import_bases(conn, import_id, found)
        return found

    @staticmethod
    def _add_import_bases(
        conn: sqlite3.Connection, import_id: str, found: dict[str, dict[str, Any]]
    ) -> None:
        """For leads this import wrote: their values before it (from the audit trail)."""
        touched: dict[str, dict[str, Any]] = {}
        for row in found.values():
            if row["import_id"] != import_id:
                continue
            if row["created_import_id"] == import_id:
                row["import_base"] = None
            else:
                row["import_base"] = dict(row)
                touched[row["lead_id"]] = row["import_base"]
        ids = list(touched)
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            # newest first, so each column ends with its value before the import's first
            for lead_id, previous in conn.execute(
                f"SELECT lead_id, previous FROM lead_audit WHERE import_id = ? "
                f"AND action = 'lead_updated' AND lead_id IN ({marks}) ORDER BY id DESC",
                [import_id, *chunk],
            ):
                touched[lead_id].update(json.loads(previous))

    def receipts(self, import_id: str, rows: Iterable[int]) -> dict[int, RowReceipt]:
        wanted = list(rows)
        found: dict[int, RowReceipt] = {}
        for chunk in _chunks(wanted):
            marks = ",".join("?" * len(chunk))
            for row, outcome, lead_id, counts in self.db.conn.execute(
                "SELECT row, outcome, lead_id, counts FROM import_receipts "
                f"WHERE import_id = ? AND row IN ({marks})",
                [import_id, *chunk],
            ):
                found[row] = RowReceipt(import_id, row, outcome, lead_id, json.loads(counts))
        return found

    def find_skips(self, owner: str, import_id: str, keys: Iterable[str]) -> dict[str, int]:
        wanted = list(keys)
        found: dict[str, int] = {}
        for chunk in _chunks(wanted):
            marks = ",".join("?" * len(chunk))
            found.update(
                self.db.conn.execute(
                    f"SELECT key, row FROM import_skips WHERE import_id = ? AND owner = ? "
                    f"AND key IN ({marks})",
                    [import_id, owner, *chunk],
                ).fetchall()
            )
        return found

    def record_skips(
        self,
        owner: str,
        import_id: str,
        skips: Mapping[str, int],
        receipts: Sequence[RowReceipt] = (),
    ) -> None:
        with write(self.db) as conn:
            conn.executemany(
                "INSERT INTO import_skips (import_id, owner, key, row) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (import_id, owner, key) DO UPDATE SET row = max(row, excluded.row)",
                [(import_id, owner, key, row) for key, row in skips.items()],
            )
            _insert_receipts(conn, receipts)

    def apply(self, writes: Sequence[LeadWrite]) -> list[bool]:
        if not writes:
            return []
        with write(self.db) as conn:
            return _Applier(conn, writes).run()

    def undo_import(self, owner: str, import_id: str, now: str) -> UndoResult:
        # The import's leads, then a short transaction per chunk that reads each lead and
        # its trail and writes the plan: a write between chunks is seen by the next one.
        conn = self.db.conn
        lead_ids = [
            row[0]
            for row in conn.execute(
                "SELECT lead_id FROM leads WHERE owner = ? AND created_import_id = ? "
                "UNION SELECT lead_id FROM lead_audit WHERE owner = ? AND import_id = ? "
                "AND action = 'lead_updated'",
                (owner, import_id, owner, import_id),
            )
        ]
        result = UndoResult()
        for chunk in _chunks(lead_ids):
            with write(self.db) as conn:
                result.add(_undo_chunk(conn, owner, import_id, chunk, now))
        return result

    def forget_import(self, import_id: str) -> None:
        with write(self.db) as conn:
            conn.execute("DELETE FROM import_receipts WHERE import_id = ?", (import_id,))
            conn.execute("DELETE FROM import_skips WHERE import_id = ?", (import_id,))


def _insert_receipts(conn: sqlite3.Connection, receipts: Iterable[RowReceipt]) -> None:
    conn.executemany(
        "INSERT OR IGNORE INTO import_receipts (import_id, row, outcome, lead_id, counts) "
        "VALUES (?, ?, ?, ?, ?)",
        [(r.import_id, r.row, r.outcome, r.lead_id, json.dumps(dict(r.counts))) for r in receipts],
    )


_CREATE_VALUES = operator.itemgetter(
    "email", "phone", "phone_valid", "first_name", "last_name", "name", "title", "company",
    "remarks", "opt_in", "interests", "attributes", "source", "source_file", "created_at",
    "updated_at", "import_id", "import_row", "created_import_id",
)  # fmt: skip


def _insert_row(w: LeadWrite) -> tuple[Any, ...]:
    """A create's INSERT values (_INSERT's order): booleans as 0/1, JSON as text."""
    (
        email, phone, phone_valid, first_name, last_name, name, title, company, remarks,
        opt_in, interests, attributes, *rest,
    ) = _CREATE_VALUES(w.values)  # fmt: skip
    return (
        w.lead_id, w.owner, email, phone,
        None if phone_valid is None else int(phone_valid),
        first_name, last_name, name, title, company, remarks,
        None if opt_in is None else int(opt_in),
        None if interests is None else dumps(interests),
        dumps(attributes) if attributes else None,
        *rest, 1, search_document(name, email, company, title, phone),
    )  # fmt: skip


# An update, stamp or delete applies only at the version it was planned at, and never over
# a later row of the same import (the trailing parameters: version, import, import, row).
_CONDITION = (
    "lead_id = ? AND owner = ? AND version = ? "
    "AND (? IS NULL OR import_id IS NOT ? OR import_row IS NULL OR import_row <= ?)"
)


class _Applier:
    """One apply call, inside the caller's transaction. Creates go in as INSERT OR IGNORE
    (the unique key indexes are their condition), updates as UPDATE ... WHERE condition,
    many rows per statement; when a statement applied fewer rows than it had, it is rolled
    back to its savepoint and run row by row to learn which writes failed."""

    def __init__(self, conn: sqlite3.Connection, writes: Sequence[LeadWrite]) -> None:
        self.conn = conn
        self.writes = writes
        self.fresh: set[int] = set()  # the writes this call applied (not applied before)

    def run(self) -> list[bool]:
        writes = self.writes
        results: list[bool | None] = [None] * len(writes)
        done = self._receipted()
        creates: list[int] = []
        groups: dict[tuple[str, ...], list[int]] = {}
        for i, w in enumerate(writes):
            if w.receipt is not None and (w.receipt.import_id, w.receipt.row) in done:
                results[i] = True  # this very write was applied already
            elif w.kind == "create":
                creates.append(i)
            else:
                groups.setdefault(("",) if w.kind == "delete" else tuple(w.values), []).append(i)
        if creates:
            self._run(_INSERT.replace("INSERT", "INSERT OR IGNORE", 1), creates, results, True)
        for columns, members in groups.items():
            if columns == ("",):
                sql = f"DELETE FROM leads WHERE {_CONDITION}"
            else:
                assignments = "".join(f"{column} = ?, " for column in columns)
                sql = f"UPDATE leads SET {assignments}version = version + 1 WHERE {_CONDITION}"
            self._run(sql, members, results, False)
        self._audit_and_receipts([writes[i] for i in sorted(self.fresh)])
        return [bool(ok) for ok in results]

    def _params(self, w: LeadWrite, create: bool) -> Sequence[Any]:
        if create:
            return _insert_row(w)
        condition = (w.lead_id, w.owner, w.expected_version, w.import_id, w.import_id, w.row)
        if w.kind == "delete":
            return condition
        return (*(stored_value(c, v) for c, v in w.values.items()), *condition)

    def _run(self, sql: str, members: list[int], results: list[bool | None], create: bool) -> None:
        conn, writes = self.conn, self.writes
        params = [self._params(writes[i], create) for i in members]
        conn.execute("SAVEPOINT lead_writes")
        # rowcount sums the rows each statement changed itself; total_changes would also
        # count the search trigger's writes and send every such group row by row
        if conn.executemany(sql, params).rowcount == len(members):
            conn.execute("RELEASE lead_writes")
            for i in members:
                results[i] = True
            self.fresh.update(members)
            return
        conn.execute("ROLLBACK TO lead_writes")
        conn.execute("RELEASE lead_writes")
        for i, row in zip(members, params, strict=True):
            if conn.execute(sql, row).rowcount == 1:
                results[i] = True
                self.fresh.add(i)
            else:  # the condition failed; unless this very write was applied already
                results[i] = self._stamped(writes[i])

    def _stamped(self, w: LeadWrite) -> bool:
        """Whether the lead of `w` (by id, else by key) holds its (import, row) stamp."""
        if w.import_id is None:
            return False
        held = self.conn.execute(
            "SELECT import_id, import_row FROM leads WHERE lead_id = ?", (w.lead_id,)
        ).fetchone()
        if held is None and w.kind == "create" and w.key is not None:
            row = select_by_keys(self.conn, w.owner, [w.key]).get(w.key)
            held = None if row is None else (row["import_id"], row["import_row"])
        return held is not None and tuple(held) == (w.import_id, w.row)

    def _audit_and_receipts(self, applied: Sequence[LeadWrite]) -> None:
        audits = [
            (
                w.owner, a.lead_id, a.action, a.email, a.previous_source_file,
                a.new_source_file, json.dumps(list(a.fields_changed)),
                json.dumps(dict(a.previous), ensure_ascii=False, default=str),
                a.batch_id, a.import_id or "", a.row, a.timestamp,
            )
            for w in applied
            if (a := w.audit) is not None
        ]  # fmt: skip
        if audits:
            self.conn.executemany(
                "INSERT INTO lead_audit (owner, lead_id, action, email, previous_source_file, "
                "new_source_file, fields_changed, previous, batch_id, import_id, import_row, "
                "timestamp) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                audits,
            )
        receipts = [w.receipt for w in applied if w.receipt is not None]
        if receipts:
            _insert_receipts(self.conn, receipts)

    def _receipted(self) -> set[tuple[str, int]]:
        by_import: dict[str, list[int]] = {}
        for w in self.writes:
            if w.receipt is not None:
                by_import.setdefault(w.receipt.import_id, []).append(w.receipt.row)
        done: set[tuple[str, int]] = set()
        for import_id, rows in by_import.items():
            marks = ",".join("?" * len(rows))
            for (row,) in self.conn.execute(
                f"SELECT row FROM import_receipts WHERE import_id = ? AND row IN ({marks})",
                [import_id, *rows],
            ):
                done.add((import_id, row))
        return done


_SEARCH_ORDER = ("name", "email", "company", "title", "phone")  # search_document's order


def _stamped(row: Mapping[str, Any], w: LeadWrite) -> bool:
    """Whether the lead holds this write's (import, row) stamp: applied already."""
    return (
        w.import_id is not None and row["import_id"] == w.import_id and row["import_row"] == w.row
    )


def _undo_chunk(
    conn: sqlite3.Connection, owner: str, import_id: str, lead_ids: Sequence[str], now: str
) -> UndoResult:
    """Undo one import on some of its leads, inside the caller's transaction."""
    marks = ",".join("?" * len(lead_ids))
    cursor = conn.execute(
        f"SELECT {_SELECT} FROM leads WHERE owner = ? AND lead_id IN ({marks})",
        [owner, *lead_ids],
    )
    names = [d[0] for d in cursor.description]
    leads = {row[0]: lead_of(names, row) for row in cursor}
    trails: dict[str, list[AuditEntry]] = {}
    for entry_id, lead_id, action, entry_import, previous, previous_file in conn.execute(
        "SELECT id, lead_id, action, import_id, previous, previous_source_file FROM lead_audit "
        f"WHERE owner = ? AND lead_id IN ({marks}) ORDER BY id",
        [owner, *lead_ids],
    ):
        entry = AuditEntry(entry_id, action, entry_import, json.loads(previous), previous_file)
        trails.setdefault(lead_id, []).append(entry)
    deletes, restores, conflicts = plan_undo(import_id, leads, trails)
    conn.executemany(
        "DELETE FROM leads WHERE lead_id = ? AND owner = ?", [(i, owner) for i in deletes]
    )
    audits = []
    for restore in restores:
        stored = {k: stored_value(k, v) for k, v in restore.values.items()}
        stored.update(source_file=restore.source_file, updated_at=now, import_id=None)
        assignments = ", ".join(f"{column} = ?" for column in stored)
        conn.execute(
            f"UPDATE leads SET {assignments}, version = version + 1 "
            "WHERE lead_id = ? AND owner = ?",
            [*stored.values(), restore.lead_id, owner],
        )
        lead = leads[restore.lead_id]
        audits.append(
            (
                owner,
                restore.lead_id,
                UNDONE,
                lead["email"],
                lead["source_file"],
                restore.source_file,
                json.dumps(restore.fields),
                json.dumps(restore.replaced, ensure_ascii=False, default=str),
                json.dumps(restore.values, ensure_ascii=False, default=str),
                "",
                import_id,
                now,
            )
        )
    conn.executemany(
        "INSERT INTO lead_audit (owner, lead_id, action, email, previous_source_file, "
        "new_source_file, fields_changed, previous, restored, batch_id, import_id, timestamp) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        audits,
    )
    return UndoResult(len(deletes), len(restores), conflicts)
