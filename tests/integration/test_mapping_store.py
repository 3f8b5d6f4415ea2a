"""The MappingStore contract, for every adapter (memory and SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from leadflow.adapters.sqlite_db import Database
from leadflow.adapters.sqlite_mappings import MemoryMappingStore, SqliteMappingStore
from leadflow.ports import MappingStore


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MappingStore]:
    if request.param == "memory":
        yield MemoryMappingStore()
    else:
        yield SqliteMappingStore(Database(tmp_path / "m.db"))


def test_saved_by_name_per_owner(store: MappingStore) -> None:
    store.save_mapping("alice", "HubSpot", {"E-mail": "email", "ID": "-"}, "t1")
    store.save_mapping("alice", "Acme", {"Org": "company"}, "t1")
    store.save_mapping("bob", "Bob's", {"Mail": "email"}, "t1")
    assert store.mapping_names("alice") == ["Acme", "HubSpot"]
    assert store.get_mapping("alice", "HubSpot") == {"E-mail": "email", "ID": "-"}
    assert store.get_mapping("alice", "Bob's") is None  # another owner's
    assert store.get_mapping("bob", "HubSpot") is None


def test_saving_again_replaces(store: MappingStore) -> None:
    store.save_mapping("alice", "HubSpot", {"E-mail": "email"}, "t1")
    store.save_mapping("alice", "HubSpot", {"Email Address": "email"}, "t2")
    assert store.mapping_names("alice") == ["HubSpot"]
    assert store.get_mapping("alice", "HubSpot") == {"Email Address": "email"}


def test_sqlite_keeps_them_across_opens(tmp_path: Path) -> None:
    SqliteMappingStore(Database(tmp_path / "m.db")).save_mapping("a", "n", {"X": "name"}, "t")
    assert SqliteMappingStore(Database(tmp_path / "m.db")).get_mapping("a", "n") == {"X": "name"}
