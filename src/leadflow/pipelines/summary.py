"""The counts SPEC defines for one request or file, whatever its internal batching."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..domain.merge import BatchPlan


@dataclass(slots=True)
class BatchCounts:
    """What one batch did; summed into an ImportSummary."""

    received: int = 0
    valid: int = 0
    invalid: int = 0
    duplicates: int = 0
    created: int = 0
    updated: int = 0
    ignored: int = 0

    def add_plan(self, plan: BatchPlan) -> None:
        self.duplicates += plan.duplicates
        self.created += plan.created
        self.updated += plan.updated
        self.ignored += plan.skipped


@dataclass(slots=True)
class ImportSummary:
    importId: str  # noqa: N815 - the JSON field name
    received: int = 0
    valid: int = 0
    invalid: int = 0
    duplicates: int = 0
    created: int = 0
    updated: int = 0
    ignored: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def add(self, counts: BatchCounts) -> None:
        self.received += counts.received
        self.valid += counts.valid
        self.invalid += counts.invalid
        self.duplicates += counts.duplicates
        self.created += counts.created
        self.updated += counts.updated
        self.ignored += counts.ignored

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        return data
