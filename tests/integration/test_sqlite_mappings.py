"""SQLite's MappingStore specifics (the port's contract: tests/contract/test_mapping_store.py)."""

from __future__ import annotations

from pathlib import Path

from leadflow.adapters.sqlite_db import Database
from leadflow.adapters.sqlite_mappings import SqliteMappingStore


def test_sqlite_keeps_them_across_opens(tmp_path: Path) -> None:
    SqliteMappingStore(Database(tmp_path / "m.db")).save_mapping("a", "n", {"X": "name"}, "t")
    assert SqliteMappingStore(Database(tmp_path / "m.db")).get_mapping("a", "n") == {"X": "name"}
