"""The leads page's export: the current filter's leads as CSV or XLSX, a page at a time.

Cells a spreadsheet would run as formulas are defused by the same rule as the API's
export (domain.spreadsheet_safety); leads are read in pages, never all at once.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from ..domain.spreadsheet_safety import neutralize
from ..ports import LeadQuery, LeadStore

COLUMNS = (
    "leadId", "firstName", "lastName", "name", "email", "phone", "phoneValid", "title",
    "company", "remarks", "optIn", "interests", "source", "sourceFile", "attributes",
    "createdAt", "updatedAt",
)  # fmt: skip
PAGE = 1000


def matching_leads(store: LeadStore, owner: str, query: LeadQuery) -> Iterator[dict[str, Any]]:
    """Every lead the query matches, in its order, read a page at a time."""
    cursor = None
    while True:
        items, cursor = store.list_leads(owner, replace(query, limit=PAGE, cursor=cursor))
        yield from items
        if cursor is None:
            return


def cell(value: Any) -> str:
    """A lead value as safe spreadsheet text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False) if value else ""
    return neutralize(str(value))


def csv_bytes(store: LeadStore, owner: str, query: LeadQuery) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for n, lead in enumerate(matching_leads(store, owner, query), start=1):
        writer.writerow([cell(lead.get(c)) for c in COLUMNS])
        if n % PAGE == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def xlsx_bytes(store: LeadStore, owner: str, query: LeadQuery) -> Iterator[bytes]:
    from openpyxl import Workbook

    book = Workbook(write_only=True)  # rows go to disk as they come, not to memory
    sheet = book.create_sheet("leads")
    sheet.append(list(COLUMNS))
    for lead in matching_leads(store, owner, query):
        sheet.append([cell(lead.get(c)) for c in COLUMNS])
    with tempfile.TemporaryFile() as out:
        book.save(out)
        out.seek(0)
        while chunk := out.read(1 << 20):
            yield chunk
