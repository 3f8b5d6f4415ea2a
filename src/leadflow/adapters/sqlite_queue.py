"""Queue and DeadLetters over SQLite: one table, `dead_at` marks the dead letters.

Every state change is one short IMMEDIATE transaction, so several worker processes can
share one data directory: a message is leased to exactly one receiver at a time, and a
lease that runs out (a worker killed mid-batch) makes the message visible again. Ids are
the rows' integer keys as text.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..clock import iso
from ..ports import DeadLetter, Message
from .sqlite_db import Database

Clock = Callable[[], float]
EXPIRED = "its lease ran out {count} times (the worker stopped or took too long)"
_LEASED = "id = ? AND receipt = ? AND dead_at IS NULL"


def _insert(
    conn: sqlite3.Connection,
    queue: str,
    owner: str | None,
    body: Mapping[str, Any],
    visible_at: float,
    created_at: str,
    **extra: Any,
) -> str:
    columns = ["queue", "owner", "body", "visible_at", "created_at", *extra]
    cursor = conn.execute(
        f"INSERT INTO queue_messages ({', '.join(columns)}) "
        f"VALUES ({', '.join('?' * len(columns))})",
        [queue, owner, json.dumps(body), visible_at, created_at, *extra.values()],
    )
    return str(cursor.lastrowid)


class SqliteQueue:
    """The Queue port: one named queue in the leadflow database."""

    def __init__(
        self, db: Database, name: str, max_receive_count: int = 3, clock: Clock = time.time
    ) -> None:
        self.db = db
        self.name = name
        self.max_receive_count = max_receive_count
        self.clock = clock

    def send_many(
        self, bodies: Sequence[Mapping[str, Any]], owner: str | None = None, delay: float = 0.0
    ) -> list[str]:
        now = self.clock()
        with self.db.transaction() as conn:
            return [_insert(conn, self.name, owner, body, now + delay, iso(now)) for body in bodies]

    def receive(self, max_messages: int, visibility_timeout: float) -> list[Message]:
        now = self.clock()
        received: list[Message] = []
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT id, owner, body, receive_count, last_error FROM queue_messages "
                "WHERE queue = ? AND dead_at IS NULL AND visible_at <= ? ORDER BY id LIMIT ?",
                (self.name, now, max(max_messages, 0)),
            ).fetchall()
            for message_id, owner, body, count, last_error in rows:
                if count >= self.max_receive_count:
                    # received often enough without an ack: it goes to the DLQ instead
                    error = last_error or EXPIRED.format(count=count)
                    conn.execute(
                        "UPDATE queue_messages SET dead_at = ?, last_error = ?, receipt = NULL "
                        "WHERE id = ?",
                        (iso(now), error, message_id),
                    )
                    continue
                receipt = secrets.token_hex(8)
                conn.execute(
                    "UPDATE queue_messages SET receive_count = receive_count + 1, "
                    "visible_at = ?, receipt = ? WHERE id = ?",
                    (now + visibility_timeout, receipt, message_id),
                )
                received.append(
                    Message(str(message_id), receipt, json.loads(body), count + 1, owner)
                )
        return received

    def delete(self, message: Message) -> bool:
        with self.db.transaction() as conn:
            cursor = conn.execute(
                f"DELETE FROM queue_messages WHERE {_LEASED}", (message.id, message.receipt)
            )
            return cursor.rowcount == 1

    def delete_many(self, messages: Sequence[Message]) -> int:
        with self.db.transaction() as conn:
            cursor = conn.executemany(
                f"DELETE FROM queue_messages WHERE {_LEASED}",
                [(m.id, m.receipt) for m in messages],
            )
            return cursor.rowcount

    def change_visibility(self, message: Message, timeout: float) -> bool:
        with self.db.transaction() as conn:
            cursor = conn.execute(
                f"UPDATE queue_messages SET visible_at = ? WHERE {_LEASED}",
                (self.clock() + timeout, message.id, message.receipt),
            )
            return cursor.rowcount == 1

    def release(self, message: Message, delay: float) -> bool:
        # As on SQS: a copy that carries the tries used before this receive, and the
        # leased message deleted (a receive is never un-counted in place).
        with self.db.transaction() as conn:
            row = conn.execute(
                f"SELECT owner, body, created_at, last_error FROM queue_messages WHERE {_LEASED}",
                (message.id, message.receipt),
            ).fetchone()
            if row is None:
                return False
            owner, body, created_at, last_error = row
            conn.execute("DELETE FROM queue_messages WHERE id = ?", (message.id,))
            _insert(
                conn, self.name, owner, json.loads(body), self.clock() + delay, created_at,
                receive_count=max(message.receive_count - 1, 0), last_error=last_error,
            )  # fmt: skip
            return True

    def fail(self, message: Message, error: str, retry_after: float = 0.0) -> bool:
        now = self.clock()
        with self.db.transaction() as conn:
            params: list[Any]
            if message.receive_count >= self.max_receive_count:
                sql, params = "dead_at = ?", [iso(now)]
            else:
                sql, params = "visible_at = ?", [now + retry_after]
            cursor = conn.execute(
                f"UPDATE queue_messages SET {sql}, last_error = ?, receipt = NULL WHERE {_LEASED}",
                [*params, error, message.id, message.receipt],
            )
            return cursor.rowcount == 1

    def depth(self) -> int:
        row = self.db.conn.execute(
            "SELECT count(*) FROM queue_messages WHERE queue = ? AND dead_at IS NULL",
            (self.name,),
        ).fetchone()
        return int(row[0])


class SqliteDeadLetters:
    """The DeadLetters port: the dead rows of one named queue."""

    def __init__(self, db: Database, name: str, clock: Clock = time.time) -> None:
        self.db = db
        self.name = name
        self.clock = clock

    def add(self, bodies: Sequence[Mapping[str, Any]], owner: str | None, error: str) -> list[str]:
        now = self.clock()
        with self.db.transaction() as conn:
            return [
                _insert(
                    conn, self.name, owner, body, now, iso(now), last_error=error, dead_at=iso(now)
                )
                for body in bodies
            ]

    def _where(self, owner: str | None, ids: Sequence[str] | None) -> tuple[str, list[Any]]:
        sql = "queue = ? AND dead_at IS NOT NULL"
        params: list[Any] = [self.name]
        if owner is not None:
            sql += " AND owner = ?"
            params.append(owner)
        if ids is not None:
            # an id that is not one of our row keys names no dead letter: it is ignored
            wanted = [int(i) for i in ids if str(i).isdigit() and 0 < int(i) < 2**63]
            sql += f" AND id IN ({','.join('?' * len(wanted))})"
            params.extend(wanted)
        return sql, params

    def list(self, owner: str | None = None, limit: int = 100) -> list[DeadLetter]:
        where, params = self._where(owner, None)
        rows = self.db.conn.execute(
            "SELECT id, body, receive_count, last_error, owner, created_at, dead_at "
            f"FROM queue_messages WHERE {where} ORDER BY dead_at DESC, id DESC LIMIT ?",
            [*params, max(limit, 0)],
        ).fetchall()
        return [
            DeadLetter(str(i), json.loads(body), count, error, who, created, dead)
            for i, body, count, error, who, created, dead in rows
        ]

    def depth(self, owner: str | None = None) -> int:
        where, params = self._where(owner, None)
        row = self.db.conn.execute(f"SELECT count(*) FROM queue_messages WHERE {where}", params)
        return int(row.fetchone()[0])

    def redrive(self, owner: str | None = None, ids: Sequence[str] | None = None) -> int:
        if ids is not None and not ids:
            return 0
        where, params = self._where(owner, ids)
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "UPDATE queue_messages SET dead_at = NULL, receive_count = 0, receipt = NULL, "
                f"visible_at = ? WHERE {where}",
                [self.clock(), *params],
            )
            return cursor.rowcount

    def purge(self, owner: str | None = None, ids: Sequence[str] | None = None) -> int:
        if ids is not None and not ids:
            return 0
        where, params = self._where(owner, ids)
        with self.db.transaction() as conn:
            return conn.execute(f"DELETE FROM queue_messages WHERE {where}", params).rowcount
