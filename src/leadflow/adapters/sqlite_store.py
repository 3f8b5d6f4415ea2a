"""LeadStore and UserStore over one SQLite file."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from ..documents import audit_to_api, decode_cursor, lead_to_api, page_of
from ..domain.lead import LeadDraft, Rejection
from ..domain.merge import Update, fields_changed
from ..domain.search import document as search_document
from ..domain.search import parse_query
from ..domain.undo import AuditEntry, UndoResult, plan_undo
from ..ports import DEAD_LETTERED, LeadQuery, WriteContext
from .sqlite_db import Database

_STORED_COLUMNS = (
    "lead_id, email, phone, phone_valid, first_name, last_name, title, company, "
    "remarks, opt_in, interests, attributes, source_file, import_id, import_row, "
    "created_import_id"
)
_API_COLUMNS = (
    "seq, lead_id, owner, email, phone, phone_valid, first_name, last_name, name, title, "
    "company, remarks, opt_in, interests, source, source_file, attributes, enrichment, "
    "created_at, updated_at"
)
_SORTS = {
    "createdAt": "seq",
    "updatedAt": "updated_at",
    "name": "name",
    "company": "company",
    "email": "email",
    "lastName": "last_name",
}
_JSON_COLUMNS = {"interests", "attributes"}
_KEYS_PER_QUERY = 500  # below SQLite's bound-variable limit


def _dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, default=str)


class SqliteUnitOfWork:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def find_by_keys(
        self, owner: str, keys: Iterable[str], import_id: str | None = None
    ) -> dict[str, Mapping[str, Any]]:
        # A key is an email (it has an @) or, for leads without one, an E.164 phone.
        emails: list[str] = []
        phones: list[str] = []
        for key in keys:
            (emails if "@" in key else phones).append(key)
        found: dict[str, Mapping[str, Any]] = {}
        for wanted, condition, key_column in (
            (emails, "email IN ({})", "email"),
            (phones, "email IS NULL AND phone_valid = 1 AND phone IN ({})", "phone"),
        ):
            for start in range(0, len(wanted), _KEYS_PER_QUERY):
                chunk = wanted[start : start + _KEYS_PER_QUERY]
                where = condition.format(",".join("?" * len(chunk)))
                cursor = self.conn.execute(
                    f"SELECT {_STORED_COLUMNS} FROM leads WHERE owner = ? AND {where}",
                    [owner, *chunk],
                )
                names = [d[0] for d in cursor.description]
                for values in cursor:
                    row = dict(zip(names, values, strict=True))
                    for column in _JSON_COLUMNS:
                        if row[column] is not None:
                            row[column] = json.loads(row[column])
                    for flag in ("opt_in", "phone_valid"):  # 0/1 in SQLite
                        if row[flag] is not None:
                            row[flag] = bool(row[flag])
                    found[row[key_column]] = row
        if import_id is not None:
            self._add_import_bases(import_id, found)
        return found

    def _add_import_bases(self, import_id: str, found: dict[str, Mapping[str, Any]]) -> None:
        """Rebuild, for leads this import already updated, their values before it."""
        touched = [
            row
            for row in found.values()
            if row["import_id"] == import_id and row["created_import_id"] != import_id
        ]
        for row in found.values():
            if row["import_id"] == import_id and row["created_import_id"] == import_id:
                row["import_base"] = None  # type: ignore[index]
        for start in range(0, len(touched), _KEYS_PER_QUERY):
            chunk = {row["lead_id"]: row for row in touched[start : start + _KEYS_PER_QUERY]}
            marks = ",".join("?" * len(chunk))
            base = {lead_id: dict(row) for lead_id, row in chunk.items()}
            # newest first, so each column ends with its value before its first change
            for lead_id, previous in self.conn.execute(
                f"SELECT lead_id, previous FROM lead_audit WHERE import_id = ? "
                f"AND lead_id IN ({marks}) ORDER BY id DESC",
                [import_id, *chunk],
            ):
                base[lead_id].update(json.loads(previous))
            for lead_id, row in chunk.items():
                row["import_base"] = base[lead_id]  # type: ignore[index]

    def find_skips(self, owner: str, import_id: str, keys: Iterable[str]) -> dict[str, int]:
        wanted = list(keys)
        found: dict[str, int] = {}
        for start in range(0, len(wanted), _KEYS_PER_QUERY):
            chunk = wanted[start : start + _KEYS_PER_QUERY]
            marks = ",".join("?" * len(chunk))
            found.update(
                self.conn.execute(
                    f"SELECT key, row FROM import_skips WHERE import_id = ? AND owner = ? "
                    f"AND key IN ({marks})",
                    [import_id, owner, *chunk],
                ).fetchall()
            )
        return found

    def record_skips(self, owner: str, import_id: str, skips: Mapping[str, int]) -> None:
        self.conn.executemany(
            "INSERT INTO import_skips (import_id, owner, key, row) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (import_id, owner, key) DO UPDATE SET row = max(row, excluded.row)",
            [(import_id, owner, key, row) for key, row in skips.items()],
        )

    def insert_leads(
        self,
        ctx: WriteContext,
        drafts: Sequence[LeadDraft],
        lead_ids: Sequence[str],
        prepared: dict[int, list[Any]] | None = None,
    ) -> None:
        rows = prepared if prepared is not None else prepare_rows(ctx, drafts)
        values = []
        for d, lead_id in zip(drafts, lead_ids, strict=True):
            row = rows[d.row]
            row[0] = lead_id  # the slot prepare_rows left for it: no second tuple per row
            values.append(row)
        # every insert brings the lead's folded search text (migration 13): no trigger
        self.conn.executemany(
            "INSERT INTO leads (lead_id, owner, email, phone, phone_valid, "
            "first_name, last_name, name, title, company, remarks, opt_in, interests, source, "
            "source_file, attributes, created_at, updated_at, import_id, import_row, "
            "created_import_id, search) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            values,
        )

    def apply_updates(self, ctx: WriteContext, updates: Sequence[Update]) -> None:
        # Updates that change the same columns share one executemany.
        by_columns: dict[tuple[str, ...], list[list[Any]]] = {}
        audits = []
        stamps = []
        for update in updates:
            if update.unchanged:  # only the (import, row) stamp moves
                stamps.append((ctx.import_id, update.draft.row, update.lead_id, ctx.owner))
                continue
            changes = dict(update.changes)
            if "first_name" in changes or "last_name" in changes:
                changes["name"] = update.name
            columns = tuple(changes)
            values = [_dumps(v) if k in _JSON_COLUMNS else v for k, v in changes.items()]
            values += [ctx.source_file, ctx.now, ctx.import_id, update.draft.row]
            by_columns.setdefault(columns, []).append([*values, update.lead_id, ctx.owner])
            if update.audited:
                audits.append(
                    (
                        ctx.owner,
                        update.lead_id,
                        "lead_updated",
                        update.draft.email,
                        update.previous_source_file,
                        ctx.source_file,
                        json.dumps(fields_changed(update.changes)),
                        json.dumps(update.previous, ensure_ascii=False, default=str),
                        ctx.batch_id,
                        ctx.import_id,
                        ctx.now,
                    )
                )
        for columns, rows in by_columns.items():
            assignments = "".join(f"{column} = ?, " for column in columns)
            self.conn.executemany(
                f"UPDATE leads SET {assignments}source_file = ?, updated_at = ?, import_id = ?, "
                "import_row = ? WHERE lead_id = ? AND owner = ?",
                rows,
            )
        if stamps:
            self.conn.executemany(
                "UPDATE leads SET import_id = ?, import_row = ? WHERE lead_id = ? AND owner = ?",
                stamps,
            )
        if audits:
            self.conn.executemany(
                "INSERT INTO lead_audit (owner, lead_id, action, email, previous_source_file, "
                "new_source_file, fields_changed, previous, batch_id, import_id, timestamp) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                audits,
            )

    def claim_batch(self, job_id: str, batch_no: int) -> bool:
        cursor = self.conn.execute(
            "INSERT OR IGNORE INTO job_batches (job_id, batch_no) VALUES (?, ?)",
            (job_id, batch_no),
        )
        if cursor.rowcount == 1:
            return True
        # In the ledger already: applied (a redelivery), or dead-lettered and now redriven,
        # which takes the place of its dead entry (counted out of the job's totals).
        row = self.conn.execute(
            "SELECT counts FROM job_batches WHERE job_id = ? AND batch_no = ?",
            (job_id, batch_no),
        ).fetchone()
        dead = json.loads(row[0] or "{}") if row is not None else {}
        if not dead.get(DEAD_LETTERED):
            return False
        self.conn.execute(
            "UPDATE job_batches SET counts = NULL, outcomes = NULL "
            "WHERE job_id = ? AND batch_no = ?",
            (job_id, batch_no),
        )
        self._add_to_job(job_id, {name: -value for name, value in dead.items()}, -1)
        return True

    def mark_dead(self, job_id: str, batch_no: int) -> bool:
        cursor = self.conn.execute(
            "INSERT OR IGNORE INTO job_batches (job_id, batch_no) VALUES (?, ?)",
            (job_id, batch_no),
        )
        if cursor.rowcount == 1:
            self.finish_batch(job_id, batch_no, {DEAD_LETTERED: 1})
        return cursor.rowcount == 1

    def finish_batch(
        self,
        job_id: str,
        batch_no: int,
        counts: Mapping[str, int],
        outcomes: Sequence[tuple[int, str, str | None]] = (),
    ) -> None:
        self.conn.execute(
            "UPDATE job_batches SET counts = ?, outcomes = ? WHERE job_id = ? AND batch_no = ?",
            (json.dumps(dict(counts)), json.dumps(list(outcomes)), job_id, batch_no),
        )
        # The job's running totals move in the same transaction as the batch: a status
        # read is one row, however many batches the job has, and still counts each once.
        self._add_to_job(job_id, counts, 1)

    def _add_to_job(self, job_id: str, counts: Mapping[str, int], batches: int) -> None:
        row = self.conn.execute("SELECT totals FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        if row is not None:
            totals = json.loads(row[0] or "{}")
            for name, value in counts.items():
                totals[name] = totals.get(name, 0) + value
            self.conn.execute(
                "UPDATE jobs SET done_batches = done_batches + ?, totals = ? WHERE job_id = ?",
                (batches, json.dumps(totals), job_id),
            )

    def log_rejections(self, ctx: WriteContext, rejections: Sequence[Rejection]) -> None:
        if not rejections:
            return
        self.conn.executemany(
            "INSERT INTO schema_errors (owner, source, import_id, position, record, errors, "
            "created_at) VALUES (?,?,?,?,?,?,?)",
            [
                (
                    ctx.owner,
                    ctx.source,
                    ctx.import_id,
                    r.row,
                    json.dumps(r.record, ensure_ascii=False, default=str),
                    json.dumps([e.as_dict() for e in r.errors], ensure_ascii=False),
                    ctx.now,
                )
                for r in rejections
            ],
        )


def _undo_chunk(
    conn: sqlite3.Connection, owner: str, import_id: str, lead_ids: Sequence[str], now: str
) -> UndoResult:
    """Undo one import on some of its leads, inside the caller's transaction."""
    marks = ",".join("?" * len(lead_ids))
    cursor = conn.execute(
        f"SELECT {_STORED_COLUMNS}, owner FROM leads WHERE owner = ? AND lead_id IN ({marks})",
        [owner, *lead_ids],
    )
    names = [d[0] for d in cursor.description]
    leads = {row[0]: dict(zip(names, row, strict=True)) for row in cursor}
    for lead in leads.values():
        for column in _JSON_COLUMNS:
            if lead[column] is not None:
                lead[column] = json.loads(lead[column])
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
        stored = {k: _dumps(v) if k in _JSON_COLUMNS else v for k, v in restore.values.items()}
        stored.update(source_file=restore.source_file, updated_at=now, import_id=None)
        assignments = ", ".join(f"{column} = ?" for column in stored)
        conn.execute(
            f"UPDATE leads SET {assignments} WHERE lead_id = ? AND owner = ?",
            [*stored.values(), restore.lead_id, owner],
        )
        lead = leads[restore.lead_id]
        audits.append(
            (
                owner,
                restore.lead_id,
                "import_undone",
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


def prepare_rows(ctx: WriteContext, drafts: Sequence[LeadDraft]) -> dict[int, list[Any]]:
    """Each draft's INSERT values by row, the lead id's slot (the first) still None."""
    owner, source, source_file = ctx.owner, ctx.source, ctx.source_file
    now, import_id = ctx.now, ctx.import_id
    rows: dict[int, list[Any]] = {}
    for d in drafts:
        interests, attributes = d.interests, d.attributes
        rows[d.row] = [
            None,
            owner,
            d.email,
            d.phone,
            d.phone_valid,
            d.first_name,
            d.last_name,
            d.name,
            d.title,
            d.company,
            d.remarks,
            d.opt_in,
            None if interests is None else _dumps(interests),
            source,
            source_file,
            _dumps(attributes) if attributes else None,
            now,
            now,
            import_id,
            d.row,
            import_id,
            search_document(d.name, d.email, d.company, d.title, d.phone),
        ]
    return rows


class SqliteLeadStore:
    """Leads, their audit trail and the schema-error log in SQLite."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def prepare_leads(self, ctx: WriteContext, drafts: Sequence[LeadDraft]) -> dict[int, list[Any]]:
        return prepare_rows(ctx, drafts)

    @contextmanager
    def unit_of_work(self) -> Iterator[SqliteUnitOfWork]:
        with self.db.transaction() as conn:
            yield SqliteUnitOfWork(conn)

    def _select(self, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        cursor = self.db.conn.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, values, strict=True)) for values in cursor]

    def batch_totals(self, job_id: str) -> tuple[int, dict[str, int]]:
        job = self.db.conn.execute(
            "SELECT done_batches, totals FROM jobs WHERE job_id = ?", (job_id,)
        ).fetchone()
        if job is not None:
            return int(job[0]), json.loads(job[1] or "{}")
        totals: dict[str, int] = {}
        batches = 0
        for (counts,) in self.db.conn.execute(
            "SELECT counts FROM job_batches WHERE job_id = ?", (job_id,)
        ):
            batches += 1
            for name, value in json.loads(counts or "{}").items():
                totals[name] = totals.get(name, 0) + value
        return batches, totals

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
        for start in range(0, len(lead_ids), _KEYS_PER_QUERY):
            chunk = lead_ids[start : start + _KEYS_PER_QUERY]
            with self.db.transaction() as conn:
                result.add(_undo_chunk(conn, owner, import_id, chunk, now))
        return result

    def forget_job(self, job_id: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM job_batches WHERE job_id = ?", (job_id,))
            conn.execute("DELETE FROM import_skips WHERE import_id = ?", (job_id,))

    def batch_outcomes(self, job_id: str) -> Iterator[tuple[int, str, str | None]]:
        for (outcomes,) in self.db.conn.execute(
            "SELECT outcomes FROM job_batches WHERE job_id = ? ORDER BY batch_no", (job_id,)
        ):
            yield from (tuple(entry) for entry in json.loads(outcomes or "[]"))

    def get_lead(self, owner: str, lead_id: str) -> dict[str, Any] | None:
        rows = self._select(
            f"SELECT {_API_COLUMNS} FROM leads WHERE owner = ? AND lead_id = ?", (owner, lead_id)
        )
        return lead_to_api(rows[0]) if rows else None

    def lead_history(self, owner: str, lead_id: str) -> list[dict[str, Any]]:
        rows = self._select(
            "SELECT action, lead_id, email, previous_source_file, new_source_file, "
            "fields_changed, previous, restored, batch_id, import_id, timestamp FROM lead_audit "
            "WHERE owner = ? AND lead_id = ? ORDER BY id",
            (owner, lead_id),
        )
        return [audit_to_api(r) for r in rows]

    def find_leads(
        self,
        owner: str,
        company: str | None = None,
        title: str | None = None,
        since: str | None = None,
        limit: int = 50,
    ) -> tuple[int, list[dict[str, Any]]]:
        """(how many match, the newest `limit` of them): company and title match as
        case-blind substrings, `since` is an ISO time the lead was created at or after."""
        where, params = ["owner = ?"], [owner]
        for column, value in (("company", company), ("title", title)):
            if value:
                where.append(f"{column} LIKE ? ESCAPE '\\'")
                params.append("%" + _like(value) + "%")
        if since:
            where.append("created_at >= ?")
            params.append(since)
        clause = " AND ".join(where)
        count = self.db.conn.execute(f"SELECT count(*) FROM leads WHERE {clause}", params)
        total = int(count.fetchone()[0])
        rows = self._select(
            f"SELECT {_API_COLUMNS} FROM leads WHERE {clause} ORDER BY seq DESC LIMIT ?",
            [*params, limit],
        )
        return total, [lead_to_api(r) for r in rows]

    def top_companies(self, owner: str, limit: int = 10) -> list[tuple[str, int]]:
        """Companies by number of leads, most first (leads without a company left out)."""
        rows = self.db.conn.execute(
            "SELECT company, count(*) AS n FROM leads WHERE owner = ? AND company != '' "
            "GROUP BY company COLLATE NOCASE ORDER BY n DESC, company LIMIT ?",
            (owner, limit),
        )
        return [(str(company), int(n)) for company, n in rows]

    def count_leads(self, owner: str) -> int:
        row = self.db.conn.execute("SELECT count(*) FROM leads WHERE owner = ?", (owner,))
        return int(row.fetchone()[0])

    def list_leads(self, owner: str, query: LeadQuery) -> tuple[list[dict[str, Any]], str | None]:
        column = _SORTS[query.sort]
        where = ["owner = ?"]
        params: list[Any] = [owner]
        if query.q:  # folded text inside the folded search column, or the exact phone
            search = parse_query(query.q, query.region)
            if search.phone is not None:
                where.append("phone = ?")
                params.append(search.phone)
            else:
                where.append("search LIKE ? ESCAPE '\\'")
                params.append("%" + _like(search.text) + "%")
                if column == "seq":
                    # A text search reads rows either way: newest first by rowid stops at
                    # the page's end, where the owner index would sort every match first
                    # (1M leads: 0.1 ms instead of 1.5 s for a common name).
                    where[0] = "+owner = ?"
        if query.company:
            where.append("company = ? COLLATE NOCASE")
            params.append(query.company)
        if query.source:
            where.append("source = ?")
            params.append(query.source)
        for flag_column, flag in (("opt_in", query.opt_in), ("phone_valid", query.phone_valid)):
            if flag is not None:
                where.append(f"{flag_column} = ?")  # unknown (NULL) is neither yes nor no
                params.append(int(flag))
        op, order = (">", "ASC") if not query.descending else ("<", "DESC")
        if query.cursor:
            value, seq = decode_cursor(query.cursor)
            if column == "seq":
                where.append(f"seq {op} ?")
                params.append(seq)
            else:
                value_of = f"COALESCE({column}, '')"
                where.append(f"({value_of} {op} ? OR ({value_of} = ? AND seq {op} ?))")
                params += [value, value, seq]
        sort_expr = "seq" if column == "seq" else f"COALESCE({column}, '')"
        order_by = f"{sort_expr} {order}" + ("" if column == "seq" else f", seq {order}")
        rows = self._select(
            f"SELECT {_API_COLUMNS} FROM leads WHERE {' AND '.join(where)} "
            f"ORDER BY {order_by} LIMIT ?",
            [*params, query.limit + 1],
        )
        return page_of(rows, query.limit, column)

    def list_schema_errors(
        self,
        owner: str,
        limit: int = 100,
        before: int | None = None,
        import_id: str | None = None,
    ) -> list[dict[str, Any]]:
        sql = (
            "SELECT id, source, import_id, position, record, errors, created_at "
            "FROM schema_errors WHERE owner = ?"
        )
        params: list[Any] = [owner]
        if import_id is not None:
            sql += " AND import_id = ?"
            params.append(import_id)
        if before is not None:
            sql += " AND id < ?"
            params.append(before)
        rows = self._select(sql + " ORDER BY id DESC LIMIT ?", [*params, limit])
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
            for r in rows
        ]


class SqliteUserStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add_user(self, username: str, password_hash: str, now: str) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO users (username, password_hash, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT(username) DO UPDATE SET password_hash = excluded.password_hash",
                (username, password_hash, now),
            )

    def has_users(self) -> bool:
        return self.db.conn.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None

    def password_hash(self, username: str) -> str | None:
        row = self.db.conn.execute(
            "SELECT password_hash FROM users WHERE username = ?", (username,)
        ).fetchone()
        return None if row is None else str(row[0])

    def usernames(self, limit: int = 20) -> list[str]:
        rows = self.db.conn.execute(
            "SELECT username FROM users ORDER BY username LIMIT ?", (limit,)
        ).fetchall()
        return [str(name) for (name,) in rows]


def _like(text: str) -> str:
    """Text for a LIKE pattern, its wildcards escaped."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
