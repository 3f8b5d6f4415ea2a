"""GET /v1/leads/export?format=csv|xlsx: the caller's leads as a spreadsheet.

Cells a spreadsheet would run as formulas are defused; phone numbers and negative
numbers are left intact (domain.spreadsheet_safety). Control characters that XML (and so
XLSX) cannot hold are removed from every cell, in both formats, and counted: the count is
logged, and the XLSX answer also carries it in `X-Removed-Control-Characters`.

Never a silently truncated file:
- XLSX is written completely (XlsxWriter in constant-memory mode, rows go to a temporary
  file as they come) before the answer starts, so it has a Content-Length, and an error
  while writing is an error envelope, not half a file. Every cell is a string (never a
  formula, link or number); TextRowSheet writes a row's cells at once, as XlsxWriter's
  write_string would one by one (4x faster). Past Excel's last row (1,048,576) the
  export fails (500) rather than leave leads out.
- CSV streams a page of leads at a time. If reading fails half-way, the connection is
  aborted without the final chunk: clients see an incomplete transfer (curl exits 18,
  httpx raises RemoteProtocolError), never a file that merely looks short.
- CSV starts with a UTF-8 byte-order mark so that Excel reads `Müller` as written;
  `bom=false` leaves it out.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import replace
from functools import cache
from typing import IO, Annotated, Any

import xlsxwriter
from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from ...domain.spreadsheet_safety import neutralize, strip_control_characters
from ...ports import LeadQuery, LeadReadModel
from ..deps import CurrentUser, ServicesDep

router = APIRouter(prefix="/v1/leads", tags=["leads"])
log = logging.getLogger("leadflow.export")
COLUMNS = (
    "leadId", "firstName", "lastName", "name", "email", "phone", "phoneValid", "title",
    "company", "remarks", "optIn", "interests", "source", "sourceFile", "attributes",
    "createdAt", "updatedAt",
)  # fmt: skip
PAGE = 1000
CHUNK = 1 << 20
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_MAX_CELL = 32_767  # Excel's limit on a cell's text, in UTF-16 code units
UTF8_BOM = "\ufeff"
# What XlsxWriter's own cell writer would change in a text: XML's & < >, and its _xHHHH_
# escape (control characters, U+FFFE/U+FFFF, and literal "_x0041_" text, which it escapes
# as "_x005F_x0041_" so that it reads back as written).
_NOT_VERBATIM = re.compile("[&<>_\x00-\x08\x0b-\x1f\ufffe\uffff]")
_LITERAL_ESCAPE = re.compile("(_x[0-9a-fA-F]{4}_)")
_XLSX_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff]")


class _Cells:
    """Turns leads into rows of safe cell text, counting removed control characters."""

    def __init__(self) -> None:
        self.removed = 0
        self.rows = 0

    def cell(self, value: Any) -> str:
        if value.__class__ is str:  # most cells: no conversion to make
            text: str = value
        elif value is None:
            return ""
        elif value is True or value is False:
            return "true" if value else "false"
        elif isinstance(value, dict | list):
            text = json.dumps(value, ensure_ascii=False) if value else ""
        else:
            text = str(value)
        if text.isprintable():  # the common case: no control character to look for
            return neutralize(text)
        text, removed = strip_control_characters(text)
        self.removed += removed
        return neutralize(text)

    def rows_of(
        self, store: LeadReadModel, owner: str, query: LeadQuery | None = None
    ) -> Iterator[list[str]]:
        """The rows of every lead `query` matches (default: all), read a page at a time."""
        cell = self.cell
        base = query or LeadQuery()
        cursor = None
        while True:
            items, cursor = store.list_leads(owner, replace(base, limit=PAGE, cursor=cursor))
            for lead in items:
                self.rows += 1
                yield [cell(lead.get(c)) for c in COLUMNS]
            if cursor is None:
                return


def _inline_text(text: str) -> tuple[str, bool]:
    """`text` as XlsxWriter writes an inline string in constant-memory mode: the XML
    text, and whether it needs xml:space="preserve" (leading or trailing whitespace)."""
    text = _LITERAL_ESCAPE.sub(r"_x005F\1", text)
    text = _XLSX_CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", text)
    preserve = text[:1].isspace() or text[-1:].isspace()
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"), preserve


def _excel_length(text: str) -> str:
    """`text` cut to Excel's 32,767 UTF-16 units a cell, never inside a character."""
    if len(text) <= XLSX_MAX_CELL // 2:
        return text
    if len(text.encode("utf-16-le", "surrogatepass")) // 2 <= XLSX_MAX_CELL:
        return text
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > XLSX_MAX_CELL:
            return text[:index]
    return text


@cache
def _cell_starts(count: int) -> tuple[str, ...]:
    """The start of each column's cell element up to its row number: '<c r="B'."""
    return tuple(f'<c r="{xl_col_to_name(col)}' for col in range(count))


class TextRowSheet(Worksheet):  # type: ignore[misc]  # XlsxWriter ships no type hints
    """An XlsxWriter worksheet that writes a whole row of text cells at once.

    Why: `write_string` costs about 5 µs a cell (argument decoding, a table entry, then
    escaping and a text-file write per cell when the row is flushed), which made the
    XLSX export of 50k leads 4x the CSV. `write_text_row` writes the same XML a row at a
    time, byte for byte what `write_string` gives (tests/integration/
    test_export_xlsx_rows.py compares them), and escapes only the rare text that needs
    it. For a workbook in constant_memory mode, rows in increasing order.
    """

    previous_row: int  # XlsxWriter's: the row still open for write_string in constant memory

    def write_text_row(self, row: int, texts: Sequence[str]) -> None:
        """Write `texts` as the string cells of `row` (0-based) from column A; an empty
        text is no cell. Texts over Excel's cell limit are cut as `write_string` cuts them.

        Raises ValueError when the workbook is not in constant_memory mode, or `row` is
        outside the sheet (1,048,576 rows) or already written.
        """
        if not self.constant_memory:
            raise ValueError("write_text_row needs a constant_memory workbook")
        number = row + 1
        starts = _cell_starts(len(texts))
        end = f'{number}" t="inlineStr"><is><t'  # the rest of the cell's start, per row
        xml = [f'<row r="{number}">']
        append = xml.append
        first = last = -1
        for col, text in enumerate(texts):
            if not text:
                continue
            if first < 0:
                first = col
            last = col
            if (
                _NOT_VERBATIM.search(text) is None
                and not text[0].isspace()
                and not text[-1].isspace()
                and len(text) <= XLSX_MAX_CELL // 2
            ):  # the common case: the text is its own XML
                append(f"{starts[col]}{end}>{text}</t></is></c>")
                continue
            text, preserve = _inline_text(_excel_length(text))
            space = ' xml:space="preserve"' if preserve else ""
            append(f"{starts[col]}{end}{space}>{text}</t></is></c>")
        if first < 0:
            return
        if (
            (row == self.previous_row and self.table.get(row))  # cells from write_string
            or self._check_dimensions(row, first)
            or self._check_dimensions(row, last)
        ):
            raise ValueError(f"row {number} is outside the sheet or already written")
        self._write_single_row(row)  # flush a row written cell by cell before this one
        self.previous_row = number  # this row is final: a later write_string skips it
        append("</row>")
        self.fh.write("".join(xml))


def csv_chunks(
    store: LeadReadModel, owner: str, bom: bool = True, query: LeadQuery | None = None
) -> Iterator[bytes]:
    """The CSV export of `owner`'s leads (those `query` matches), a page of rows a chunk."""
    cells = _Cells()
    buffer = io.StringIO()
    buffer.write(UTF8_BOM if bom else "")
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for n, row in enumerate(cells.rows_of(store, owner, query), start=1):
        writer.writerow(row)
        if n % PAGE == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()
    _log_done("csv", owner, cells)


def write_xlsx(
    store: LeadReadModel, owner: str, out: IO[bytes], query: LeadQuery | None = None
) -> _Cells:
    """Write `owner`'s leads (those `query` matches) as an XLSX workbook into `out`;
    memory stays bounded. Returns the counts (rows, removed control characters)."""
    cells = _Cells()
    book = xlsxwriter.Workbook(
        out,
        {
            "constant_memory": True,  # each row goes to a temporary file once written
            # Text rows never go through write(), which alone looks at these; off, so that
            # lead text can never become a number, a formula or a link that way either.
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "tmpdir": tempfile.gettempdir(),
        },
    )
    sheet = book.add_worksheet("leads", worksheet_class=TextRowSheet)
    write_row = sheet.write_text_row
    write_row(0, COLUMNS)
    for r, row in enumerate(cells.rows_of(store, owner, query), start=1):
        write_row(r, row)
    book.set_custom_property("leadflowRemovedControlCharacters", cells.removed)
    book.close()
    return cells


def _file_chunks(handle: IO[bytes]) -> Iterator[bytes]:
    try:
        handle.seek(0)
        while chunk := handle.read(CHUNK):
            yield chunk
    finally:
        handle.close()


def _log_done(fmt: str, owner: str, cells: _Cells) -> None:
    log.info(
        "export written",
        extra={
            "format": fmt,
            "owner": owner,
            "rows": cells.rows,
            "removedControlCharacters": cells.removed,
        },
    )


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                XLSX_MEDIA: {"schema": {"type": "string", "format": "binary"}},
            },
            "description": "The leads as CSV or XLSX.",
        }
    },
)
def export(
    user: CurrentUser,
    services: ServicesDep,
    format: Annotated[str, Query(pattern="^(csv|xlsx)$")] = "csv",  # noqa: A002 - the contract
    bom: Annotated[
        bool, Query(description="CSV only: start with a UTF-8 byte-order mark (for Excel).")
    ] = True,
) -> StreamingResponse:
    """Every lead of the caller, as CSV or XLSX."""
    return export_response(services.lead_reads, user, format, bom)


def export_response(
    store: LeadReadModel, owner: str, fmt: str, bom: bool = True, query: LeadQuery | None = None
) -> StreamingResponse:
    """The export answer of `owner`'s leads (those `query` matches) as "csv" or "xlsx".

    Shared by this route and the web app's "Export CSV"/"Export XLSX": the XLSX is
    written whole before the answer starts (an error is an error answer, never half a
    file); the CSV streams and aborts the connection if reading fails half-way.
    """
    headers = {"Content-Disposition": f'attachment; filename="leads.{fmt}"'}
    if fmt == "xlsx":
        handle = tempfile.TemporaryFile()
        try:
            cells = write_xlsx(store, owner, handle, query)
            size = handle.tell()
        except BaseException:
            handle.close()
            raise
        _log_done("xlsx", owner, cells)
        headers["Content-Length"] = str(size)
        headers["X-Removed-Control-Characters"] = str(cells.removed)
        return StreamingResponse(_file_chunks(handle), media_type=XLSX_MEDIA, headers=headers)
    return StreamingResponse(
        csv_chunks(store, owner, bom, query),
        media_type="text/csv; charset=utf-8",
        headers=headers,
    )
