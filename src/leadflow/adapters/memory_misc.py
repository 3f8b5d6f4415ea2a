"""The small ports in memory, written from their docstrings (ports.py): OrderStore,
ProviderCache, MappingStore."""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..domain.orders import Order


class MemoryOrderStore:
    def __init__(self) -> None:
        self._orders: list[dict[str, Any]] = []  # API documents, oldest first
        self._keys: set[tuple[str, str, str, str]] = set()
        self._owners: list[str] = []
        self._lock = threading.Lock()

    def save(self, owner: str, source: str, orders: Sequence[Order], now: str) -> int:
        with self._lock:
            new = 0
            for order in orders:
                key = (owner, source, order.order_id, order.item_id)
                if key in self._keys:
                    continue
                self._keys.add(key)
                new += 1
                self._owners.append(owner)
                self._orders.append(
                    {
                        "id": len(self._orders) + 1,
                        "source": source,
                        "orderId": order.order_id,
                        "itemId": order.item_id,
                        "itemDesc": order.item_desc,
                        "qty": order.qty,
                        "contact": {"name": order.contact_name, "email": order.contact_email},
                        "createdAt": now,
                    }
                )
            return new

    def list(self, owner: str, limit: int = 100, before: int | None = None) -> list[dict[str, Any]]:
        with self._lock:
            mine = [
                copy.deepcopy(doc)
                for who, doc in zip(reversed(self._owners), reversed(self._orders), strict=True)
                if who == owner and (before is None or doc["id"] < before)
            ]
        return mine[: max(limit, 0)]


class MemoryProviderCache:
    def __init__(self) -> None:
        self._answers: dict[tuple[str, str], dict[str, Any]] = {}
        self._lock = threading.Lock()

    def get_many(self, provider: str, hashes: Iterable[str]) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {
                digest: copy.deepcopy(self._answers[provider, digest])
                for digest in hashes
                if (provider, digest) in self._answers
            }

    def put_many(self, provider: str, results: Mapping[str, Mapping[str, Any]]) -> None:
        with self._lock:
            for digest, answer in results.items():
                self._answers[provider, digest] = copy.deepcopy(dict(answer))


class MemoryMappingStore:
    def __init__(self) -> None:
        self._mappings: dict[tuple[str, str], dict[str, str]] = {}
        self._lock = threading.Lock()

    def save_mapping(self, owner: str, name: str, mapping: Mapping[str, str], now: str) -> None:
        with self._lock:
            self._mappings[owner, name] = dict(mapping)

    def mapping_names(self, owner: str) -> list[str]:
        with self._lock:
            return sorted(name for who, name in self._mappings if who == owner)

    def get_mapping(self, owner: str, name: str) -> dict[str, str] | None:
        with self._lock:
            found = self._mappings.get((owner, name))
            return None if found is None else dict(found)
