"""The counts SPEC defines for one request or file, whatever its internal batching."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


@dataclass(slots=True)
class BatchCounts:
    """What one batch did; summed into an ImportSummary."""

    received: int = 0
    valid: int = 0
    invalid: int = 0
    duplicates: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0  # leads that existed and that the request or file did not change
    ignored: int = 0


@dataclass(slots=True)
class ImportSummary(BatchCounts):
    """The counts of one request or file, with its id, duration and reader warnings."""

    importId: str = ""  # noqa: N815 - the JSON field name
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def add(self, counts: BatchCounts) -> None:
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + getattr(counts, name))

    def as_dict(self) -> dict[str, Any]:
        data = {"importId": self.importId, **{name: getattr(self, name) for name in _COUNTS}}
        data.update(seconds=round(self.seconds, 3), warnings=list(self.warnings))
        return data


_COUNTS = tuple(f.name for f in fields(BatchCounts))
