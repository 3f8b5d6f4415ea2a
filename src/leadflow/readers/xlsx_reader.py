"""XLSX: every cell as text, the sheet and header row found, the input limits per row.

Two engines, one result. python-calamine (Rust) reads a sheet about ten times faster
than openpyxl but holds the whole sheet in memory (about 1.6 bytes per byte of sheet
XML: 740 MB for a 1,048,576-row sheet), so it reads workbooks whose sheets and shared
strings are at most LEADFLOW_XLSX_CALAMINE_MAX_BYTES uncompressed; larger ones stream
through openpyxl's read-only mode in bounded memory. Neither trusts the sheet's stored
dimension (WPS and some writers store `A1`, and openpyxl read-only then reads one cell).

Cells become text as a person reads them: dates as ISO 8601 (`2024-03-05`,
`2024-03-05T10:30:00`), whole numbers without a trailing `.0` (a phone typed as
4155550107 stays those ten digits), booleans as TRUE/FALSE.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack
from itertools import chain
from typing import Any, Protocol

from ..domain.limits import columns_over, preview, row_limit_reason
from .base import InvalidLine, ReadOptions, RecordStream, UnreadableFile, unique_headers
from .header_row import SCAN_ROWS, find_header, header_score, is_blank, skipped_warning
from .source import ByteSource

Row = tuple[int, list[str]]  # 1-based row number as the spreadsheet shows it, cells


def cell_text(value: Any) -> str:
    """A cell's value as text: ISO dates, whole numbers without `.0`, TRUE/FALSE."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))  # exact: a float holds every integer up to 2**53
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


class _Book(Protocol):
    names: list[str]

    def rows(self, name: str) -> Iterator[Row]: ...

    def close(self) -> None: ...


class _CalamineBook:
    def __init__(self, source: ByteSource) -> None:
        from python_calamine import CalamineWorkbook, SheetTypeEnum

        if source.path is not None:
            self._book = CalamineWorkbook.from_path(str(source.path))
        else:  # calamine holds the sheet in memory anyway (see the module docstring)
            with source.open() as raw:
                self._book = CalamineWorkbook.from_filelike(raw)
        self.names = [
            m.name for m in self._book.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet
        ]
        self._loaded: tuple[str, Any] | None = None

    def rows(self, name: str) -> Iterator[Row]:
        # the sheet the default-sheet search just loaded is read again at once: keep it
        if self._loaded is None or self._loaded[0] != name:
            self._loaded = (name, self._book.get_sheet_by_name(name))
        sheet = self._loaded[1]
        # iter_rows starts at the sheet's first row but its first used column: pad back
        start = sheet.start
        pad = [""] * start[1] if start is not None else []
        for number, cells in enumerate(sheet.iter_rows(), start=1):
            yield number, [*pad, *map(cell_text, cells)] if pad else list(map(cell_text, cells))

    def close(self) -> None:
        self._loaded = None
        self._book.close()


class _OpenpyxlBook:
    def __init__(self, source: ByteSource) -> None:
        import openpyxl  # imported here: it is slow to import and only XLSX needs it

        self._handle = ExitStack()
        # a file object, even for a path: openpyxl judges a path by its name
        raw = self._handle.enter_context(source.open())
        try:
            # data_only: a formula cell gives the value Excel computed, never "=A1*2"
            self._book = openpyxl.load_workbook(raw, read_only=True, data_only=True)
        except BaseException:
            self._handle.close()
            raise
        self.names = [sheet.title for sheet in self._book.worksheets]

    def rows(self, name: str) -> Iterator[Row]:
        sheet = self._book[name]
        sheet.reset_dimensions()  # the stored dimension may say A1: read what is there
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(map(cell_text, cells))

    def close(self) -> None:
        self._book.close()
        self._handle.close()


def _content_bytes(archive: zipfile.ZipFile) -> int:
    """Uncompressed bytes of the sheets and shared strings (what calamine holds)."""
    return sum(
        info.file_size
        for info in archive.infolist()
        if info.filename.startswith("xl/worksheets/") or info.filename == "xl/sharedStrings.xml"
    )


class XlsxRecords(RecordStream):
    format = "xlsx"
    text_only = True

    def __init__(
        self, source: ByteSource, batch_rows: int, options: ReadOptions | None = None
    ) -> None:
        super().__init__(batch_rows, source.name)
        self.source = source
        self.options = options or ReadOptions()
        try:
            with source.open() as raw, zipfile.ZipFile(raw) as archive:
                if "xl/workbook.xml" not in archive.namelist():
                    raise UnreadableFile(
                        f"{self.name} is a zip archive, not an XLSX workbook "
                        "(it has no xl/workbook.xml)"
                    )
                self.content_bytes = _content_bytes(archive)
        except (zipfile.BadZipFile, OSError) as exc:
            raise UnreadableFile(f"{self.name} is not a readable XLSX workbook: {exc}") from None
        self.engine = (
            "calamine" if self.content_bytes <= self.options.calamine_max_bytes else "openpyxl"
        )
        self.sheet_name: str | None = None
        self._done = 0

    def progress(self) -> tuple[int, int | None]:
        return self._done, None

    def _open(self) -> _Book:
        try:
            return (
                _CalamineBook(self.source)
                if self.engine == "calamine"
                else _OpenpyxlBook(self.source)
            )
        except UnreadableFile:
            raise
        except Exception as exc:  # each engine has its own zoo of errors for a bad file
            raise UnreadableFile(f"{self.name} is not a readable XLSX workbook: {exc}") from None

    def _choose_sheet(self, book: _Book) -> str:
        names = book.names
        if not names:
            raise UnreadableFile(f"{self.name} has no worksheet")
        wanted = self.options.sheet
        if wanted is not None:
            for name in names:
                if name == wanted or name.casefold() == wanted.strip().casefold():
                    return name
            if wanted.strip().isdigit() and 1 <= int(wanted) <= len(names):
                return names[int(wanted) - 1]
            raise UnreadableFile(
                f"{self.name} has no sheet {wanted!r}; its sheets are "
                + ", ".join(f"{i} {n!r}" for i, n in enumerate(names, start=1))
            )
        if len(names) == 1:
            return names[0]
        first_filled: str | None = None
        for name in names:
            head = [cells for _, cells in _take(book.rows(name), SCAN_ROWS)]
            found = find_header(head)
            if found is None:
                continue
            if header_score(head[found]) > 0:
                return name
            first_filled = first_filled or name
        return first_filled or names[0]

    def records(self) -> Iterator[dict[str, str] | InvalidLine]:
        book = self._open()
        try:
            sheet = self._choose_sheet(book)
            self.sheet_name = sheet
            if len(book.names) > 1:
                self.warnings.append(
                    # Said for the CLI, the API and the web page alike: no flag syntax,
                    # and no "imported" (a preview reads the sheet too).
                    f"{self.name} has {len(book.names)} sheets; sheet {sheet!r} was read "
                    "(choose another sheet to read a different one)"
                )
            rows = book.rows(sheet)
            head = _take(rows, SCAN_ROWS)
            rest = chain(head, rows)  # one iterator: the header search stops where data starts
            headers = self._header(head, rest)
            if headers is None:
                return
            yield from self._records(rest, headers)
        except UnreadableFile:
            raise
        except Exception as exc:  # a broken sheet part shows only while reading it
            raise UnreadableFile(f"{self.name}: cannot read sheet: {exc}") from None
        finally:
            book.close()

    def _header(self, head: list[Row], rows: Iterator[Row]) -> list[str] | None:
        """Read `rows` up to and including the header row; its names (None: no header)."""
        wanted = self.options.header_row
        if wanted is None:
            found = find_header([cells for _, cells in head])
            wanted = head[found][0] if found is not None else 1
        skipped: list[tuple[int, str]] = []
        for number, cells in rows:
            self._done = number
            if number < wanted or is_blank(cells):
                if not is_blank(cells):
                    skipped.append((number, ", ".join(c for c in cells if c)))
                continue
            while cells and not cells[-1].strip():
                cells.pop()
            if len(cells) > self.options.limits.max_columns:
                raise UnreadableFile(
                    f"{self.name}: " + columns_over(len(cells), self.options.limits)
                )
            if skipped:
                self.warnings.append(skipped_warning(self.name, skipped, number))
            self.headers = unique_headers(list(cells))
            return self.headers
        return None

    def _records(
        self, rows: Iterator[Row], headers: list[str]
    ) -> Iterator[dict[str, str] | InvalidLine]:
        limits = self.options.limits
        max_chars, max_columns = limits.max_field_chars, limits.max_columns
        width = len(headers)
        for number, cells in rows:
            self._done = number
            if len(cells) > width:
                while len(cells) > width and not cells[-1]:
                    cells.pop()
            if not any(cells) or is_blank(cells):
                continue
            if len(cells) > max_columns or max(map(len, cells)) > max_chars:
                reason = row_limit_reason(cells, limits)
                if reason is not None:
                    text = ", ".join(c[:200] for c in cells)
                    yield InvalidLine(preview(f"row {number}: {text}"), reason)
                    continue
            if len(cells) < width:
                cells.extend([""] * (width - len(cells)))
            record = dict(zip(headers, cells, strict=False))
            for extra in range(width, len(cells)):
                record[f"column_{extra + 1}"] = cells[extra]
            yield record


def _take(rows: Iterator[Row], count: int) -> list[Row]:
    taken: list[Row] = []
    for row in rows:
        taken.append(row)
        if len(taken) >= count:
            break
    return taken
