"""What every reader offers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

Batch = list[tuple[int, Any]]


class UnreadableFile(ValueError):
    """The file cannot be read as any supported format; the message says why."""


class RecordStream:
    """Batches of (index, record), plus what a progress bar and a summary need."""

    format: str = ""
    encoding: str | None = None

    def __init__(self, batch_rows: int) -> None:
        self.batch_rows = batch_rows
        self.warnings: list[str] = []
        self.headers: list[str] | None = None
        self.rows_read = 0  # records handed out so far

    def estimated_rows(self) -> int | None:
        """Records in the whole file, extrapolated from what has been read so far."""
        done, total = self.progress()
        if total is None or not done or not self.rows_read:
            return None
        return max(self.rows_read, round(self.rows_read * total / done))

    def batches(self) -> Iterator[Batch]:
        """Lists of up to `batch_rows` (index, record) pairs, in file order."""
        batch: Batch = []
        for index, record in enumerate(self.records()):
            batch.append((index, record))
            if len(batch) >= self.batch_rows:
                self.rows_read += len(batch)
                yield batch
                batch = []
        if batch:
            self.rows_read += len(batch)
            yield batch

    def records(self) -> Iterator[Any]:
        """The file's records, one at a time."""
        raise NotImplementedError

    def progress(self) -> tuple[int, int | None]:
        """(work done, total work) in the reader's own unit (bytes or rows)."""
        return 0, None


def unique_headers(cells: list[Any]) -> list[str]:
    """Header cells as names: blanks become column_N, repeats get _2, _3 ..."""
    seen: dict[str, int] = {}
    names: list[str] = []
    for position, cell in enumerate(cells, start=1):
        name = "" if cell is None else str(cell).strip()
        if not name:
            name = f"column_{position}"
        count = seen.get(name, 0) + 1
        seen[name] = count
        names.append(name if count == 1 else f"{name}_{count}")
    return names
