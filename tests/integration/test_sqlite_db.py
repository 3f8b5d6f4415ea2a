"""What only the SQLite adapter has: versioned migrations, WAL, and writers in several
threads and connections (each Database object has its own connections and write lock)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from leadflow.adapters import sqlite_db
from leadflow.adapters.sqlite_db import MIGRATIONS, Database, migrate
from leadflow.adapters.sqlite_store import SqliteUserStore


def schema(conn: sqlite3.Connection) -> list[tuple[str, str, str | None]]:
    return conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def test_migrations_set_the_user_version_and_reopening_is_a_no_op(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    db = Database(path)
    assert user_version(db.conn) == len(MIGRATIONS)
    tables = {name for kind, name, _ in schema(db.conn) if kind == "table"}
    assert {"users", "leads", "lead_audit", "import_skips", "schema_errors"} <= tables
    SqliteUserStore(db).add_user("alice", "hash", "T0")
    before = schema(db.conn)

    again = Database(path)
    assert user_version(again.conn) == len(MIGRATIONS)
    assert schema(again.conn) == before
    assert migrate(again.conn) == len(MIGRATIONS)
    assert schema(again.conn) == before
    assert SqliteUserStore(again).password_hash("alice") == "hash"


def test_a_failing_migration_changes_nothing_and_a_new_one_applies_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "t.db"
    Database(path)
    monkeypatch.setattr(
        sqlite_db, "MIGRATIONS", (*MIGRATIONS, "CREATE TABLE extra (x); CREATE TABLE broken (")
    )
    with pytest.raises(sqlite3.OperationalError):
        Database(path)
    conn = sqlite3.connect(path)
    assert user_version(conn) == len(MIGRATIONS)
    assert "extra" not in {name for _, name, _ in schema(conn)}  # rolled back with the rest
    conn.close()

    monkeypatch.setattr(sqlite_db, "MIGRATIONS", (*MIGRATIONS, "CREATE TABLE extra (x)"))
    for _ in range(2):
        db = Database(path)
        assert user_version(db.conn) == len(MIGRATIONS) + 1
        assert "extra" in {name for _, name, _ in schema(db.conn)}


def test_jobs_of_the_old_kind_process_are_renamed_enrichment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rename = next(n for n, script in enumerate(MIGRATIONS) if "'enrichment'" in script)
    path = tmp_path / "t.db"
    monkeypatch.setattr(sqlite_db, "MIGRATIONS", MIGRATIONS[:rename])  # a database from before
    db = Database(path)
    for job_id, kind in (("j1", "process"), ("j2", "upload")):
        db.conn.execute(
            "INSERT INTO jobs (job_id, owner, kind, status, stage, options, created_at, "
            "updated_at) VALUES (?, 'alice', ?, 'completed', 'completed', '{}', 'T0', 'T0')",
            (job_id, kind),
        )
    monkeypatch.setattr(sqlite_db, "MIGRATIONS", MIGRATIONS)
    again = Database(path)
    kinds = dict(again.conn.execute("SELECT job_id, kind FROM jobs").fetchall())
    assert kinds == {"j1": "enrichment", "j2": "upload"}


def test_connections_use_wal_and_wait_for_the_write_lock(tmp_path: Path) -> None:
    db = Database(tmp_path / "t.db")
    settings: list[tuple[str, int]] = []

    def read_settings() -> None:  # another thread: its own connection, same settings
        conn = db.conn
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        settings.append((mode, conn.execute("PRAGMA busy_timeout").fetchone()[0]))

    read_settings()
    thread = threading.Thread(target=read_settings)
    thread.start()
    thread.join()
    assert settings == [("wal", 30000), ("wal", 30000)]
    # a plain connection opened later sees the file in WAL mode too: it is persistent
    conn = sqlite3.connect(tmp_path / "t.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_two_databases_on_one_file_lose_no_increment(tmp_path: Path) -> None:
    """Read-modify-write in transactions from two Database objects in two threads."""
    path = tmp_path / "t.db"
    with Database(path).transaction() as conn:
        conn.execute("CREATE TABLE counter (n INTEGER NOT NULL)")
        conn.execute("INSERT INTO counter VALUES (0)")
    rounds = 200
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def increment(open_db: Callable[[], Database]) -> None:
        try:
            db = open_db()
            barrier.wait()
            for _ in range(rounds):
                with db.transaction() as conn:
                    (n,) = conn.execute("SELECT n FROM counter").fetchone()
                    conn.execute("UPDATE counter SET n = ?", (n + 1,))
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=increment, args=(lambda: Database(path),)) for _ in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert Database(path).conn.execute("SELECT n FROM counter").fetchone()[0] == 2 * rounds


def test_the_search_column_is_filled_for_leads_stored_before_it_existed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "t.db"
    # a database of the release before the search column (later migrations apply after)
    search = next(n for n, script in enumerate(MIGRATIONS) if "leads_search_update" in script)
    monkeypatch.setattr(sqlite_db, "MIGRATIONS", MIGRATIONS[:search])
    conn = Database(path).conn
    monkeypatch.setattr(sqlite_db, "MIGRATIONS", MIGRATIONS)
    conn.execute(
        "INSERT INTO leads (lead_id, owner, name, company, phone, source, created_at, "
        "updated_at) VALUES ('l1', 'alice', 'Jörg MÜLLER', 'Ørsted', '+14155550134', 'api', "
        "'T', 'T')"
    )
    again = Database(path)
    (search,) = again.conn.execute("SELECT search FROM leads").fetchone()
    assert search.split("\n") == ["jorg muller", "orsted", "+14155550134", "14155550134"]
    again.conn.execute("UPDATE leads SET company = 'Straße AG'")  # the trigger follows
    assert "strasse ag" in again.conn.execute("SELECT search FROM leads").fetchone()[0]


def test_the_phone_index_keeps_only_leads_with_a_phone_and_phone_lookups_still_use_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "t.db"
    partial = next(n for n, script in enumerate(MIGRATIONS) if "WHERE phone IS NOT NULL" in script)
    monkeypatch.setattr(sqlite_db, "MIGRATIONS", MIGRATIONS[:partial])  # a database from before
    conn = Database(path).conn
    for lead_id, email, phone in (
        ("l1", "a@x.com", "+14155550134"),
        ("l2", "b@x.com", None),
        ("l3", None, "+14155550135"),
    ):
        conn.execute(
            "INSERT INTO leads (lead_id, owner, email, phone, phone_valid, source, created_at, "
            "updated_at) VALUES (?, 'alice', ?, ?, 1, 'api', 'T', 'T')",
            (lead_id, email, phone),
        )
    monkeypatch.setattr(sqlite_db, "MIGRATIONS", MIGRATIONS)
    conn = Database(path).conn
    partial_indexes = {row[1] for row in conn.execute("PRAGMA index_list(leads)") if row[4]}
    assert "leads_owner_phone" in partial_indexes
    # every query that filters by phone: the read model's search, the lead key lookup
    for sql, index in (
        ("SELECT lead_id FROM leads WHERE owner = ? AND phone = ?", "leads_owner_phone "),
        (
            "SELECT lead_id FROM leads WHERE owner = ? AND phone = ? ORDER BY seq DESC LIMIT 50",
            "leads_owner_phone ",
        ),
        (
            "SELECT lead_id FROM leads WHERE owner = ? AND email IS NULL AND phone_valid = 1 "
            "AND phone IN (?, ?)",
            "leads_owner_phone_key ",
        ),
    ):
        params = ["alice", "+14155550134", "+14155550135"][: sql.count("?")]
        plan = " ".join(row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))
        assert f"USING INDEX {index}" in plan, plan
        assert conn.execute(sql, params).fetchall()
