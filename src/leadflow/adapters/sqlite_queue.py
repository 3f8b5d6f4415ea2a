"""Queue over SQLite: leases by visibility timeout, receive counts and a dead-letter queue.

Every state change is one short IMMEDIATE transaction, so several worker processes can
share one data directory: a message is leased to exactly one receiver at a time, and a
lease that runs out (a worker killed mid-batch) makes the message visible again.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..clock import iso
from ..ports import DeadLetter, Message
from .sqlite_db import Database

Clock = Callable[[], float]
EXPIRED = "its lease ran out {count} times (the worker stopped or took too long)"


class SqliteQueue:
    """One named queue (and its DLQ) in the leadflow database."""

    def __init__(
        self, db: Database, name: str, max_receive_count: int = 3, clock: Clock = time.time
    ) -> None:
        self.db = db
        self.name = name
        self.max_receive_count = max_receive_count
        self.clock = clock

    def send_many(self, bodies: Sequence[Mapping[str, Any]], owner: str | None = None) -> list[int]:
        now = self.clock()
        with self.db.transaction() as conn:
            ids = []
            for body in bodies:
                cursor = conn.execute(
                    "INSERT INTO queue_messages (queue, owner, body, visible_at, created_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (self.name, owner, json.dumps(body), now, iso(now)),
                )
                ids.append(int(cursor.lastrowid or 0))
        return ids

    def bury(self, bodies: Sequence[Mapping[str, Any]], owner: str | None, error: str) -> list[int]:
        now = self.clock()
        with self.db.transaction() as conn:
            return [
                int(
                    conn.execute(
                        "INSERT INTO queue_messages (queue, owner, body, visible_at, "
                        "created_at, last_error, dead_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (self.name, owner, json.dumps(body), now, iso(now), error, iso(now)),
                    ).lastrowid
                    or 0
                )
                for body in bodies
            ]

    def receive(self, max_messages: int, visibility_timeout: float) -> list[Message]:
        now = self.clock()
        received: list[Message] = []
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT id, owner, body, receive_count, last_error FROM queue_messages "
                "WHERE queue = ? AND dead_at IS NULL AND visible_at <= ? ORDER BY id LIMIT ?",
                (self.name, now, max_messages),
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
                received.append(Message(message_id, receipt, json.loads(body), count + 1, owner))
        return received

    def _leased(self, conn: Any, message: Message) -> bool:
        row = conn.execute(
            "SELECT 1 FROM queue_messages WHERE id = ? AND receipt = ? AND dead_at IS NULL",
            (message.id, message.receipt),
        ).fetchone()
        return row is not None

    def delete(self, message: Message) -> bool:
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "DELETE FROM queue_messages WHERE id = ? AND receipt = ? AND dead_at IS NULL",
                (message.id, message.receipt),
            )
            return cursor.rowcount == 1

    def delete_many(self, messages: Sequence[Message]) -> int:
        with self.db.transaction() as conn:
            cursor = conn.executemany(
                "DELETE FROM queue_messages WHERE id = ? AND receipt = ? AND dead_at IS NULL",
                [(m.id, m.receipt) for m in messages],
            )
            return cursor.rowcount

    def change_visibility(self, message: Message, timeout: float) -> bool:
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "UPDATE queue_messages SET visible_at = ? "
                "WHERE id = ? AND receipt = ? AND dead_at IS NULL",
                (self.clock() + timeout, message.id, message.receipt),
            )
            return cursor.rowcount == 1

    def release(self, message: Message, delay: float) -> bool:
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "UPDATE queue_messages SET visible_at = ?, receipt = NULL, "
                "receive_count = max(receive_count - 1, 0) "
                "WHERE id = ? AND receipt = ? AND dead_at IS NULL",
                (self.clock() + delay, message.id, message.receipt),
            )
            return cursor.rowcount == 1

    def fail(self, message: Message, error: str, retry_after: float = 0.0) -> bool:
        now = self.clock()
        with self.db.transaction() as conn:
            if not self._leased(conn, message):
                return False
            if message.receive_count >= self.max_receive_count:
                conn.execute(
                    "UPDATE queue_messages SET dead_at = ?, last_error = ?, receipt = NULL "
                    "WHERE id = ?",
                    (iso(now), error, message.id),
                )
            else:
                conn.execute(
                    "UPDATE queue_messages SET visible_at = ?, last_error = ?, receipt = NULL "
                    "WHERE id = ?",
                    (now + retry_after, error, message.id),
                )
            return True

    def depth(self) -> int:
        row = self.db.conn.execute(
            "SELECT count(*) FROM queue_messages WHERE queue = ? AND dead_at IS NULL",
            (self.name,),
        ).fetchone()
        return int(row[0])

    def _owner_filter(self, owner: str | None, ids: Sequence[int] | None) -> tuple[str, list[Any]]:
        sql = "queue = ? AND dead_at IS NOT NULL"
        params: list[Any] = [self.name]
        if owner is not None:
            sql += " AND owner = ?"
            params.append(owner)
        if ids is not None:
            # ids outside SQLite's integer range cannot exist; drop them rather than fail
            wanted = [i for i in ids if 0 < i < 2**63]
            sql += f" AND id IN ({','.join('?' * len(wanted))})"
            params.extend(wanted)
        return sql, params

    def dead_letters(self, owner: str | None = None, limit: int = 100) -> list[DeadLetter]:
        where, params = self._owner_filter(owner, None)
        rows = self.db.conn.execute(
            "SELECT id, body, receive_count, last_error, owner, created_at, dead_at "
            f"FROM queue_messages WHERE {where} ORDER BY dead_at DESC, id DESC LIMIT ?",
            [*params, limit],
        ).fetchall()
        return [
            DeadLetter(i, json.loads(body), count, error, who, created, dead)
            for i, body, count, error, who, created, dead in rows
        ]

    def dlq_depth(self, owner: str | None = None) -> int:
        where, params = self._owner_filter(owner, None)
        row = self.db.conn.execute(f"SELECT count(*) FROM queue_messages WHERE {where}", params)
        return int(row.fetchone()[0])

    def redrive(self, owner: str | None = None, ids: Sequence[int] | None = None) -> int:
        if ids is not None and not ids:
            return 0
        where, params = self._owner_filter(owner, ids)
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "UPDATE queue_messages SET dead_at = NULL, receive_count = 0, receipt = NULL, "
                f"visible_at = ? WHERE {where}",
                [self.clock(), *params],
            )
            return cursor.rowcount

    def purge_dead(self, owner: str | None = None, ids: Sequence[int] | None = None) -> int:
        if ids is not None and not ids:
            return 0
        where, params = self._owner_filter(owner, ids)
        with self.db.transaction() as conn:
            return conn.execute(f"DELETE FROM queue_messages WHERE {where}", params).rowcount
