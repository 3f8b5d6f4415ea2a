"""UserStore over SQLite (the lead aggregate's adapters are sqlite_leads,
sqlite_read_model, sqlite_schema_errors and sqlite_ledger)."""

from __future__ import annotations

from .sqlite_db import Database


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
