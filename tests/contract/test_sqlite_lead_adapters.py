"""SQLite-only behaviour of the lead aggregate's adapters: sessions are transactions, and
several Database objects (processes) on one file share its write lock."""

from __future__ import annotations

from pathlib import Path

import pytest
from lead_adapter_sets import LeadAdapters, sqlite_set
from test_lead_aggregate import draft, leads, run_concurrent_writers, upsert

from leadflow.domain.lead import FieldError, Rejection
from leadflow.ports import WriteContext


class Boom(Exception):
    pass


def test_sqlite_two_databases_on_one_file_lose_no_lead_written_from_three_threads(
    tmp_path: Path,
) -> None:
    reader = sqlite_set(tmp_path)
    run_concurrent_writers(lambda: sqlite_set(tmp_path), reader, threads=3, batches=20)


def test_sqlite_an_exception_inside_a_session_leaves_nothing(tmp_path: Path) -> None:
    store: LeadAdapters = sqlite_set(tmp_path)
    upsert(store, [draft(1, "a@x.com", title="A")])
    before = leads(store)
    context = WriteContext("alice", "imp-2", "b-9", "upload", None, "T9")
    with pytest.raises(Boom), store.repo.session():
        upsert(store, [draft(1, "a@x.com", title="changed"), draft(2, "n@x.com")], "imp-2")
        store.errors.append(context, [Rejection(0, {}, [FieldError("x", "y")])])
        store.repo.record_skips("alice", "imp-2", {"b@x.com": 9})
        store.ledger.record("imp-2", 0, {"received": 2})
        assert len(leads(store)) == 2  # inside the session its writes are seen
        raise Boom
    assert leads(store) == before
    assert store.errors.list("alice") == []
    assert store.repo.find_skips("alice", "imp-2", ["b@x.com"]) == {}
    assert store.ledger.totals("imp-2") == (0, {})
    upsert(store, [draft(2, "n@x.com")], "imp-2")  # nothing of it lingers
    assert len(leads(store)) == 2


def test_sqlite_sessions_nest_and_commit_once(tmp_path: Path) -> None:
    store = sqlite_set(tmp_path)
    with store.repo.session(), store.repo.session():
        upsert(store, [draft(1, "a@x.com")])
        assert store.ledger.record("imp-1", 0, {"received": 1})
    assert store.ledger.totals("imp-1") == (1, {"received": 1})
    assert len(leads(store)) == 1
