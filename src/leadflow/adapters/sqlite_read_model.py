"""ports.LeadReadModel over SQLite: the leads queries, as API documents."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..documents import audit_to_api, decode_cursor, lead_to_api, page_of
from ..domain.search import parse_query
from ..ports import LeadQuery
from .sqlite_db import Database

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


class SqliteLeadReadModel:
    """Leads and their history for the API, the web app, exports and the chatbot."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _select(self, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        cursor = self.db.conn.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, values, strict=True)) for values in cursor]

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


def _like(text: str) -> str:
    """Text for a LIKE pattern, its wildcards escaped."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
