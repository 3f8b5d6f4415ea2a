"""GET /v1/leads/export?format=csv|xlsx: the caller's leads as a spreadsheet.

Cells a spreadsheet would run as formulas are defused; phone numbers and negative
numbers are left intact (domain.spreadsheet_safety). Leads are read a page at a time.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from ...domain.spreadsheet_safety import neutralize
from ...ports import LeadQuery, LeadStore
from ..deps import CurrentUser, ServicesDep

router = APIRouter(prefix="/v1/leads", tags=["leads"])
COLUMNS = (
    "leadId", "firstName", "lastName", "name", "email", "phone", "phoneValid", "title",
    "company", "remarks", "optIn", "interests", "source", "sourceFile", "attributes",
    "createdAt", "updatedAt",
)  # fmt: skip
PAGE = 1000


def _leads(store: LeadStore, owner: str) -> Iterator[dict[str, Any]]:
    cursor = None
    while True:
        items, cursor = store.list_leads(owner, LeadQuery(limit=PAGE, cursor=cursor))
        yield from items
        if cursor is None:
            return


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False) if value else ""
    return neutralize(str(value))


def _csv(store: LeadStore, owner: str) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for n, lead in enumerate(_leads(store, owner), start=1):
        writer.writerow([_cell(lead.get(c)) for c in COLUMNS])
        if n % PAGE == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def _xlsx(store: LeadStore, owner: str) -> Iterator[bytes]:
    from openpyxl import Workbook

    book = Workbook(write_only=True)  # streams rows to disk, not memory
    sheet = book.create_sheet("leads")
    sheet.append(list(COLUMNS))
    for lead in _leads(store, owner):
        sheet.append([_cell(lead.get(c)) for c in COLUMNS])
    with tempfile.TemporaryFile() as out:
        book.save(out)
        out.seek(0)
        while chunk := out.read(1 << 20):
            yield chunk


@router.get("/export", response_class=StreamingResponse)
def export(
    user: CurrentUser,
    services: ServicesDep,
    format: Annotated[str, Query(pattern="^(csv|xlsx)$")] = "csv",  # noqa: A002 - the contract
) -> StreamingResponse:
    """Every lead of the caller, as CSV or XLSX."""
    if format == "xlsx":
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        body = _xlsx(services.leads, user)
    else:
        media, body = "text/csv; charset=utf-8", _csv(services.leads, user)
    headers = {"Content-Disposition": f'attachment; filename="leads.{format}"'}
    return StreamingResponse(body, media_type=media, headers=headers)
