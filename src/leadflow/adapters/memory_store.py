"""UserStore in memory (the lead aggregate's fakes are in memory_leads and memory_ledger)."""

from __future__ import annotations

import threading


class MemoryUserStore:
    """Users and their password hashes in memory."""

    def __init__(self) -> None:
        self._hashes: dict[str, str] = {}
        self._lock = threading.Lock()

    def add_user(self, username: str, password_hash: str, now: str) -> None:
        with self._lock:
            self._hashes[username] = password_hash  # an existing user gets the new hash

    def has_users(self) -> bool:
        return bool(self._hashes)

    def password_hash(self, username: str) -> str | None:
        return self._hashes.get(username)

    def usernames(self, limit: int = 20) -> list[str]:
        return sorted(self._hashes)[:limit]
