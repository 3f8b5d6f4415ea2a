"""The counts SPEC defines for one request or file, whatever its internal batching."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from ..domain.headers import map_headers


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
    rowWarnings: int = 0  # noqa: N815 - rows imported with a warning (see README)


@dataclass(slots=True)
class ImportSummary(BatchCounts):
    """The counts of one request or file, with its id, duration and reader warnings."""

    importId: str = ""  # noqa: N815 - the JSON field name
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    # header -> the field it filled, or None when its values went to `attributes`
    columns: dict[str, str | None] | None = None

    def add(self, counts: BatchCounts) -> None:
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + getattr(counts, name))

    def as_dict(self) -> dict[str, Any]:
        data = {"importId": self.importId, **{name: getattr(self, name) for name in _COUNTS}}
        data.update(seconds=round(self.seconds, 3), warnings=list(self.warnings))
        if self.columns is not None:
            data["columns"] = dict(self.columns)
        return data


_COUNTS = tuple(f.name for f in fields(BatchCounts))


def column_report(
    headers: Sequence[str], explicit: Mapping[str, str] | None = None
) -> dict[str, str | None]:
    """How an import maps a file's columns: header -> field, or None (kept in attributes).

    Name parts map to 'salutation' / 'nameSuffix' (stored as attributes of those names).
    """
    return map_headers(headers, explicit)


def row_warnings_message(count: int) -> str:
    """The summary's one line about rows that were imported with a warning."""
    rows = "1 row was" if count == 1 else f"{count:,} rows were"
    return (
        f"{rows} imported with a warning (several addresses in one email cell: the first "
        "valid one is the email, the others are in attributes.otherEmails)"
    )
