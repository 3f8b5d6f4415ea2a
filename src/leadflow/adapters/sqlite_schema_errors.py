"""ports.SchemaErrorLog over SQLite (table schema_errors)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..domain.lead import Rejection
from ..ports import WriteContext
from .sqlite_db import Database, write


class SqliteSchemaErrorLog:
    """Rejected records with every reason; one entry per (import, row)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def append(self, ctx: WriteContext, rejections: Sequence[Rejection]) -> None:
        if not rejections:
            return
        with write(self.db) as conn:
            conn.executemany(
                "INSERT INTO schema_errors (owner, source, import_id, position, record, errors, "
                "created_at) SELECT ?,?,?,?,?,?,? WHERE NOT EXISTS (SELECT 1 FROM schema_errors "
                "WHERE import_id = ? AND position = ?)",
                [
                    (
                        ctx.owner,
                        ctx.source,
                        ctx.import_id,
                        r.row,
                        json.dumps(r.record, ensure_ascii=False, default=str),
                        json.dumps([e.as_dict() for e in r.errors], ensure_ascii=False),
                        ctx.now,
                        ctx.import_id,
                        r.row,
                    )
                    for r in rejections
                ],
            )

    def list(
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
        cursor = self.db.conn.execute(sql + " ORDER BY id DESC LIMIT ?", [*params, limit])
        return [
            {
                "id": entry_id,
                "source": source,
                "importId": entry_import,
                "index": position,
                "record": json.loads(record),
                "errors": json.loads(errors),
                "createdAt": created_at,
            }
            for entry_id, source, entry_import, position, record, errors, created_at in cursor
        ]

    def forget_import(self, import_id: str) -> None:
        with write(self.db) as conn:
            conn.execute("DELETE FROM schema_errors WHERE import_id = ?", (import_id,))
