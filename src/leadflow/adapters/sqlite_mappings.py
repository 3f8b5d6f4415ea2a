"""Saved column mappings in SQLite: one small table, created next to its adapter."""

from __future__ import annotations

import json
from collections.abc import Mapping

from .sqlite_db import Database

# Kept out of the numbered migrations on purpose: the table stands alone and
# CREATE ... IF NOT EXISTS is idempotent on every start.
_DDL = """
CREATE TABLE IF NOT EXISTS saved_mappings (
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    mapping TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (owner, name)
) WITHOUT ROWID
"""


class SqliteMappingStore:
    """The MappingStore port in SQLite."""

    def __init__(self, db: Database) -> None:
        self.db = db
        with db.transaction() as conn:
            conn.execute(_DDL)

    def save_mapping(self, owner: str, name: str, mapping: Mapping[str, str], now: str) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO saved_mappings (owner, name, mapping, updated_at) VALUES (?,?,?,?) "
                "ON CONFLICT(owner, name) DO UPDATE SET mapping = excluded.mapping, "
                "updated_at = excluded.updated_at",
                (owner, name, json.dumps(dict(mapping)), now),
            )

    def mapping_names(self, owner: str) -> list[str]:
        rows = self.db.conn.execute(
            "SELECT name FROM saved_mappings WHERE owner = ? ORDER BY name", (owner,)
        )
        return [str(row[0]) for row in rows]

    def get_mapping(self, owner: str, name: str) -> dict[str, str] | None:
        row = self.db.conn.execute(
            "SELECT mapping FROM saved_mappings WHERE owner = ? AND name = ?", (owner, name)
        ).fetchone()
        if row is None:
            return None
        stored = json.loads(row[0])
        return {str(k): str(v) for k, v in stored.items()}
