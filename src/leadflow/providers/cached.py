"""Identical inputs are served from the cache: only the contacts never seen go out."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from .base import Provider


class ProviderCache(Protocol):
    def get_many(self, provider: str, hashes: Sequence[str]) -> dict[str, dict[str, Any]]: ...

    def put_many(self, provider: str, results: Mapping[str, Mapping[str, Any]]) -> None: ...


def input_hash(contact: Mapping[str, Any]) -> str:
    canonical = json.dumps(contact, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class CachedProvider:
    def __init__(self, provider: Provider, cache: ProviderCache) -> None:
        self.provider = provider
        self.cache = cache
        self.name = provider.name

    def enrich_batch(self, contacts: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        hashes = [input_hash(c) for c in contacts]
        known = self.cache.get_many(self.name, hashes)
        missing = [i for i, digest in enumerate(hashes) if digest not in known]
        if missing:
            fresh = self.provider.enrich_batch([contacts[i] for i in missing])
            answers = {hashes[i]: result for i, result in zip(missing, fresh, strict=True)}
            self.cache.put_many(self.name, answers)
            known.update(answers)
        return [dict(known[digest]) for digest in hashes]
