"""XLSX: openpyxl in read-only mode, first sheet, formula cells read as their values."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .base import RecordStream, UnreadableFile, unique_headers


class XlsxRecords(RecordStream):
    format = "xlsx"

    def __init__(self, path: Path, batch_rows: int) -> None:
        super().__init__(batch_rows)
        self.path = path
        self._done = 0
        self._total: int | None = None

    def progress(self) -> tuple[int, int | None]:
        return self._done, self._total

    def records(self) -> Iterator[dict[str, Any]]:
        import openpyxl  # imported here: it is slow to import and only XLSX needs it
        from openpyxl.utils.exceptions import InvalidFileException

        handle = self.path.open("rb")  # a file object: openpyxl would judge a path by its name
        try:
            # data_only: a formula cell gives the value Excel computed, never "=A1*2"
            book = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
            handle.close()
            raise UnreadableFile(
                f"{self.path.name} is not a readable XLSX workbook: {exc}"
            ) from None
        try:
            sheet = book.worksheets[0]
            if len(book.worksheets) > 1:
                self.warnings.append(
                    f"{self.path.name} has {len(book.worksheets)} sheets; "
                    f"only the first, {sheet.title!r}, was imported"
                )
            self._total = sheet.max_row
            rows = sheet.iter_rows(values_only=True)
            header_cells: tuple[Any, ...] | None = None
            for cells in rows:
                self._done += 1
                if any(c is not None and str(c).strip() for c in cells):
                    header_cells = cells
                    break
            if header_cells is None:
                raise UnreadableFile(f"{self.path.name}: the first sheet is empty")
            while header_cells and header_cells[-1] is None:
                header_cells = header_cells[:-1]
            headers = unique_headers(list(header_cells))
            self.headers = headers
            for cells in rows:
                self._done += 1
                if not any(c is not None and c != "" for c in cells):
                    continue
                record = dict(zip(headers, cells, strict=False))
                for extra in range(len(headers), len(cells)):
                    if cells[extra] is not None:
                        record[f"column_{extra + 1}"] = cells[extra]
                yield record
        finally:
            book.close()
            handle.close()
