"""GET /v1/leads/export?format=csv|xlsx: the caller's leads as a spreadsheet.

Cells a spreadsheet would run as formulas are defused; phone numbers and negative
numbers are left intact (domain.spreadsheet_safety). Control characters that XML (and so
XLSX) cannot hold are removed from every cell, in both formats, and counted: the count is
logged, and the XLSX answer also carries it in `X-Removed-Control-Characters`.

Never a silently truncated file:
- XLSX is written completely (XlsxWriter in constant-memory mode, rows go to a temporary
  file as they come) before the answer starts, so it has a Content-Length, and an error
  while writing is an error envelope, not half a file.
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
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from typing import IO, Annotated, Any

import xlsxwriter
from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from ...domain.spreadsheet_safety import neutralize, strip_control_characters
from ...ports import LeadQuery, LeadStore
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
XLSX_MAX_CELL = 32_767  # Excel's limit on characters in a cell
UTF8_BOM = "\ufeff"


class _Cells:
    """Turns leads into rows of safe cell text, counting removed control characters."""

    def __init__(self) -> None:
        self.removed = 0
        self.rows = 0

    def cell(self, value: Any) -> str:
        if value is None:
            return ""
        if value is True or value is False:
            return "true" if value else "false"
        if isinstance(value, dict | list):
            text = json.dumps(value, ensure_ascii=False) if value else ""
        else:
            text = str(value)
        if text.isprintable():  # the common case: no control character to look for
            return neutralize(text)
        text, removed = strip_control_characters(text)
        self.removed += removed
        return neutralize(text)

    def rows_of(
        self, store: LeadStore, owner: str, query: LeadQuery | None = None
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


def csv_chunks(
    store: LeadStore, owner: str, bom: bool = True, query: LeadQuery | None = None
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
    store: LeadStore, owner: str, out: IO[bytes], query: LeadQuery | None = None
) -> _Cells:
    """Write `owner`'s leads (those `query` matches) as an XLSX workbook into `out`;
    memory stays bounded. Returns the counts (rows, removed control characters)."""
    cells = _Cells()
    book = xlsxwriter.Workbook(
        out,
        {
            "constant_memory": True,  # each row goes to a temporary file once written
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "tmpdir": tempfile.gettempdir(),
        },
    )
    sheet = book.add_worksheet("leads")
    write_string = sheet.write_string
    for col, name in enumerate(COLUMNS):
        write_string(0, col, name)
    for r, row in enumerate(cells.rows_of(store, owner, query), start=1):
        for col, text in enumerate(row):
            if text:  # an empty string would only be a blank cell
                write_string(r, col, text[:XLSX_MAX_CELL])
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
            "content": {"text/csv": {"schema": {"type": "string"}}, XLSX_MEDIA: {}},
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
    return export_response(services.leads, user, format, bom)


def export_response(
    store: LeadStore, owner: str, fmt: str, bom: bool = True, query: LeadQuery | None = None
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
