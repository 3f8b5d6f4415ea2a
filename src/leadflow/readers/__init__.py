"""Readers: stream records out of CSV, XLSX, JSON and NDJSON files in batches.

No reader holds a whole file in memory: each yields lists of (index, record) where the
index is the record's 0-based position in the file (the header row not counted). A row
over an input limit comes as an InvalidLine with its reason; a file that is not a
readable file of records raises UnreadableFile.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ..domain.limits import InputLimits
from .base import InvalidLine, ReadOptions, RecordStream, UnreadableFile
from .csv_reader import CsvRecords
from .encoding import signature_reason
from .json_reader import JsonRecords
from .sniff import FileFormat, sniff_format
from .source import ByteSource
from .xlsx_reader import XlsxRecords

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = [
    "FileFormat",
    "InvalidLine",
    "ReadOptions",
    "RecordStream",
    "UnreadableFile",
    "input_limits",
    "open_records",
    "read_options",
    "sniff_format",
]


def input_limits(settings: Settings) -> InputLimits:
    """The input limits the settings configure."""
    return InputLimits(
        max_depth=settings.max_nesting_depth,
        max_field_chars=settings.max_field_chars,
        max_columns=settings.max_columns,
        max_line_bytes=settings.max_line_bytes,
    )


def read_options(
    settings: Settings, header_row: int | None = None, sheet: str | None = None
) -> ReadOptions:
    """How to read a file under these settings, with an entry point's header row and sheet."""
    return ReadOptions(
        header_row=header_row,
        sheet=sheet,
        limits=input_limits(settings),
        calamine_max_bytes=settings.xlsx_calamine_max_bytes,
    )


def job_read_options(settings: Settings, options: dict[str, Any]) -> ReadOptions:
    """The ReadOptions an upload job was started with (see ReadOptions.as_job_options)."""
    header_row = options.get("headerRow")
    sheet = options.get("sheet")
    return read_options(
        settings, int(header_row) if header_row else None, str(sheet) if sheet else None
    )


def open_records(
    source: Path | IO[bytes],
    batch_rows: int = 5000,
    options: ReadOptions | None = None,
    name: str | None = None,
) -> RecordStream:
    """The right reader for the file's content (its name is only a hint).

    `source` is a readable binary stream (the blob store's `open(key)`; it need not be
    seekable, see readers/source.py) or a local path (opened as a stream, pass by pass).
    The caller keeps a stream it passes and closes it after the records are read;
    `close()` the returned reader to drop a spooled copy at once. `name` is how messages
    call the file (an upload's original name; a path's own name by default);
    UnreadableFile when the file is not text, a JSON document or an XLSX workbook.
    """
    data = ByteSource(source, name)
    try:
        head = data.head(8192)
        fmt = sniff_format(head, data.name)
        if fmt is FileFormat.XLSX:
            return XlsxRecords(data, batch_rows, options)
        what = signature_reason(head)
        if what is not None:
            raise UnreadableFile(f"{data.name} is {what}, not a CSV, XLSX, JSON or NDJSON file")
        if fmt in (FileFormat.JSON, FileFormat.NDJSON):
            return JsonRecords(data, batch_rows, fmt, options)
        return CsvRecords(data, batch_rows, options)
    except BaseException:
        data.close()
        raise
