"""Complete orders in SQLite: the same order item from the same source is stored once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..domain.orders import Order
from .sqlite_db import Database


class SqliteOrderStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def save(self, owner: str, source: str, orders: Sequence[Order], now: str) -> int:
        """Store the orders; how many were new (the others were stored already)."""
        with self.db.transaction() as conn:
            before = conn.total_changes
            conn.executemany(
                "INSERT OR IGNORE INTO orders (owner, source, order_id, item_id, item_desc, "
                "qty, contact_name, contact_email, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
                [
                    (owner, source, o.order_id, o.item_id, o.item_desc, o.qty,
                     o.contact_name, o.contact_email, now)
                    for o in orders
                ],
            )  # fmt: skip
            return conn.total_changes - before

    def list(self, owner: str, limit: int = 100, before: int | None = None) -> list[dict[str, Any]]:
        sql = (
            "SELECT id, source, order_id, item_id, item_desc, qty, contact_name, contact_email, "
            "created_at FROM orders WHERE owner = ?"
        )
        params: list[Any] = [owner]
        if before is not None:
            sql += " AND id < ?"
            params.append(before)
        rows = self.db.conn.execute(sql + " ORDER BY id DESC LIMIT ?", [*params, limit])
        return [
            {
                "id": r[0],
                "source": r[1],
                "orderId": r[2],
                "itemId": r[3],
                "itemDesc": r[4],
                "qty": r[5],
                "contact": {"name": r[6], "email": r[7]},
                "createdAt": r[8],
            }
            for r in rows
        ]
