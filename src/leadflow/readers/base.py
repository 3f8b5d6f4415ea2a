"""What every reader offers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..domain.limits import InputLimits
from .source import ByteSource

Batch = list[tuple[int, Any]]


class UnreadableFile(ValueError):
    """The file cannot be read as any supported format; the message says why."""


class InvalidLine:
    """A row or line that is not a record (not JSON, over a limit): kept, with its text
    and why, so it reaches the error file."""

    def __init__(self, text: str, error: str) -> None:
        self.text = text
        self.error = error


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How to read a file: which header row and sheet, and the input limits.

    `header_row` is 1-based (the line of a text file as an editor numbers it, the row of
    a sheet as the spreadsheet shows it); None finds it. `sheet` is a sheet's name or its
    1-based position; None takes the first sheet that has a header row.
    """

    header_row: int | None = None
    sheet: str | None = None
    limits: InputLimits = field(default_factory=InputLimits)
    calamine_max_bytes: int = 64 * 1024 * 1024  # XLSX files up to this use python-calamine

    def as_job_options(self) -> dict[str, Any]:
        """What an upload job keeps so that its worker reads the file the same way."""
        return {"headerRow": self.header_row, "sheet": self.sheet}


class RecordStream:
    """Batches of (index, record), plus what a progress bar and a summary need."""

    format: str = ""
    encoding: str | None = None
    text_only: bool = False  # every record is a dict of strings keyed by `headers`
    source: ByteSource  # the file's bytes (set by each reader)

    def __init__(self, batch_rows: int, name: str = "the file") -> None:
        self.batch_rows = batch_rows
        self.name = name
        self.warnings: list[str] = []
        self.headers: list[str] | None = None
        self.rows_read = 0  # records handed out so far

    def close(self) -> None:
        """Drop what the reader holds (a spooled copy of a stream); idempotent."""
        source = getattr(self, "source", None)  # a stream made without a file has none
        if source is not None:
            source.close()

    def __enter__(self) -> RecordStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def estimated_rows(self) -> int | None:
        """Records in the whole file, extrapolated from what has been read so far."""
        done, total = self.progress()
        if total is None or not done or not self.rows_read:
            return None
        return max(self.rows_read, round(self.rows_read * total / done))

    def batches(self) -> Iterator[Batch]:
        """Lists of up to `batch_rows` (index, record) pairs, in file order.

        A file without a single record adds a "no records" warning once read through.
        """
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
        if self.rows_read == 0:
            what = "only a header row" if self.headers else "nothing"
            # true before an import (a preview) and after it: nothing to import
            self.warnings.append(f"{self.name} has no records ({what}): there is nothing to import")

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


def row_text(cells: list[str], delimiter: str = ",") -> str:
    """A row's cells joined back into one line (for the error file)."""
    return delimiter.join(cells)
