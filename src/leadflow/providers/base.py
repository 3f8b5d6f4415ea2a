"""What an enrichment provider is: a name and a batch call."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol


class Provider(Protocol):
    """Enriches contacts a batch at a time; one result mapping per contact, in order."""

    name: str

    def enrich_batch(self, contacts: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]: ...


class UnknownProvider(LookupError):
    """No provider is registered under that name."""
