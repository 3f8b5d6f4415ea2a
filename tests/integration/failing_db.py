"""A SQLite connection that can be made to fail like an unwritable disk.

Injected at the adapter boundary (`Database.factory`): while `UNWRITABLE` is set, every
COMMIT fails with SQLite's own "disk I/O error" and every write outside a transaction
with "attempt to write a readonly database"; reads and rollbacks still work. The
Database adapter drops a connection that failed so, and opens a fresh one (of this class).
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

from leadflow.bootstrap import Services

UNWRITABLE = threading.Event()
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class FailingConnection(sqlite3.Connection):
    def _check(self, sql: str) -> None:
        if not UNWRITABLE.is_set():
            return
        verb = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
        if verb == "COMMIT":
            raise sqlite3.OperationalError("disk I/O error")
        if verb in _WRITES and not self.in_transaction:
            raise sqlite3.OperationalError("attempt to write a readonly database")

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        self._check(sql)
        return super().execute(sql, *args)

    def executemany(self, sql: str, *args: Any) -> sqlite3.Cursor:
        self._check(sql)
        return super().executemany(sql, *args)


def inject(services: Services) -> None:
    """Make every connection opened from now on a FailingConnection (healthy until
    UNWRITABLE is set). Call before starting the threads that use the store."""
    UNWRITABLE.clear()
    services.outbox.db.factory = FailingConnection
    services.outbox.db.discard()  # this thread's connection too
