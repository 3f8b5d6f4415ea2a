"""The generic HTTP provider: POST a batch of contacts as JSON, map the answer back.

Request: {"contacts": [...]}. Answer: {"results": [...]} (or a bare list), either one
result per contact in the same order, or results that carry a `key` field naming the
contact's `LEADFLOW_HTTP_PROVIDER_KEY` value (default: email).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .client import ProviderClient, ProviderError


class HttpProvider:
    name = "http"
    cacheable = True  # a remote call: identical inputs are answered from the cache

    def __init__(self, url: str, client: ProviderClient, key_field: str = "email") -> None:
        self.url = url
        self.client = client
        self.key_field = key_field

    def enrich_batch(self, contacts: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        answer = self.client.post_json(self.url, {"contacts": list(contacts)})
        results = answer.get("results") if isinstance(answer, dict) else answer
        if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
            raise ProviderError("the provider's answer is not a list of result objects")
        if results and all("key" in r for r in results):
            by_key = {str(r["key"]): {k: v for k, v in r.items() if k != "key"} for r in results}
            return [dict(by_key.get(str(c.get(self.key_field)), {})) for c in contacts]
        if len(results) != len(contacts):
            raise ProviderError(
                f"the provider answered {len(results)} results for {len(contacts)} contacts"
            )
        return [dict(r) for r in results]
