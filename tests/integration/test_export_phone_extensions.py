"""Exports show a phone's extension (issue 8): E.164 plus ';ext=', in CSV and XLSX."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from api_server import LiveApi, live_api

from leadflow.pipelines.importing import ImportOptions, import_records

ROWS = [
    {"name": "Front Desk", "company": "Acme", "phone": "(415) 555-0109 x101"},
    {"name": "Billing Dept", "company": "Acme", "phone": "(415) 555-0109 ext. 102"},
]


@pytest.fixture
def api(tmp_path: Path) -> Iterator[LiveApi]:
    with live_api(tmp_path / "data") as running:
        import_records(
            running.services.write_ports(ledgered=False),
            ROWS,
            ImportOptions(owner="alice"),
            "a.csv",
        )
        yield running


def test_csv_and_xlsx_exports_show_the_extension(api: LiveApi) -> None:
    with api.client("alice") as client:
        text = client.get("/v1/leads/export", params={"format": "csv"}).text
        book_bytes = client.get("/v1/leads/export", params={"format": "xlsx"}).content
    phones = {row["name"]: row["phone"] for row in csv.DictReader(io.StringIO(text))}
    assert phones == {"Front Desk": "+14155550109;ext=101", "Billing Dept": "+14155550109;ext=102"}
    book = openpyxl.load_workbook(io.BytesIO(book_bytes), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    header = list(rows[0])
    cells = {row[header.index("name")]: row[header.index("phone")] for row in rows[1:]}
    assert cells == phones
