"""Readers: stream records out of CSV, XLSX, JSON and NDJSON files in batches.

No reader holds a whole file in memory: each yields lists of (index, record) where the
index is the record's 0-based position in the file (the header row not counted).
"""

from __future__ import annotations

from pathlib import Path

from .base import RecordStream, UnreadableFile
from .csv_reader import CsvRecords
from .json_reader import JsonRecords
from .sniff import FileFormat, sniff_format
from .xlsx_reader import XlsxRecords

__all__ = ["RecordStream", "UnreadableFile", "FileFormat", "open_records", "sniff_format"]


def open_records(path: Path, batch_rows: int = 5000) -> RecordStream:
    """The right reader for the file's content (its name is only a hint)."""
    with path.open("rb") as probe:
        head = probe.read(8192)
    fmt = sniff_format(head, path.name)
    stream: RecordStream
    if fmt is FileFormat.XLSX:
        stream = XlsxRecords(path, batch_rows)
    elif fmt in (FileFormat.JSON, FileFormat.NDJSON):
        stream = JsonRecords(path, batch_rows, fmt)
    else:
        stream = CsvRecords(path, batch_rows)
    return stream
