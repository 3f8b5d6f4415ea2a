"""Remote providers' answers kept in SQLite, by provider and a hash of the input."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from ..clock import utc_now
from .sqlite_db import Database

_PER_QUERY = 500


class SqliteProviderCache:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get_many(self, provider: str, hashes: Iterable[str]) -> dict[str, dict[str, Any]]:
        wanted = list(dict.fromkeys(hashes))
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(wanted), _PER_QUERY):
            chunk = wanted[start : start + _PER_QUERY]
            rows = self.db.conn.execute(
                "SELECT input_hash, result FROM provider_cache WHERE provider = ? "
                f"AND input_hash IN ({','.join('?' * len(chunk))})",
                [provider, *chunk],
            )
            found.update((digest, json.loads(result)) for digest, result in rows)
        return found

    def put_many(self, provider: str, results: Mapping[str, Mapping[str, Any]]) -> None:
        if not results:
            return
        now = utc_now("seconds")
        with self.db.transaction() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO provider_cache (provider, input_hash, result, created_at) "
                "VALUES (?, ?, ?, ?)",
                [(provider, digest, json.dumps(dict(r)), now) for digest, r in results.items()],
            )
