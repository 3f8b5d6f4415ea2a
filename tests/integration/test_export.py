"""GET /v1/leads/export: CSV and XLSX, formulas defused, phones intact, owner-scoped."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from api_server import LiveApi, assert_envelope, live_api

from leadflow.pipelines.importing import ImportOptions, import_records

ROWS = [
    {"name": "Ann Lee", "email": "ann@acme.io", "company": "=HYPERLINK(\"http://x\")",
     "phone": "+44 20 7946 0958", "Notes": "-12.5"},
    {"name": "Bo Ray", "email": "bo@acme.io", "company": "Acme", "phone": "(415) 555-0134"},
]  # fmt: skip


@pytest.fixture
def api(tmp_path: Path) -> Iterator[LiveApi]:
    with live_api(tmp_path / "data") as running:
        import_records(running.services.leads, ROWS, ImportOptions(owner="alice"), "a.csv")
        yield running


def test_csv_export(api: LiveApi) -> None:
    with api.client("alice") as client:
        response = client.get("/v1/leads/export", params={"format": "csv"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = {r["email"]: r for r in csv.DictReader(io.StringIO(response.text))}
    assert rows["ann@acme.io"]["company"] == '\'=HYPERLINK("http://x")'
    assert rows["ann@acme.io"]["phone"] == "+442079460958"
    assert rows["bo@acme.io"]["phone"] == "+14155550134"
    assert rows["ann@acme.io"]["remarks"] == "-12.5"  # a negative number, not a formula


def test_xlsx_export(api: LiveApi) -> None:
    with api.client("alice") as client:
        response = client.get("/v1/leads/export", params={"format": "xlsx"})
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    header = list(rows[0])
    by_email = {row[header.index("email")]: row for row in rows[1:]}
    ann = by_email["ann@acme.io"]
    assert ann[header.index("company")] == '\'=HYPERLINK("http://x")'
    assert ann[header.index("phone")] == "+442079460958"
    assert len(rows) == 3


def test_export_is_owner_scoped_and_checks_its_format(api: LiveApi) -> None:
    with api.client("bob") as client:
        text = client.get("/v1/leads/export").text
        assert text.strip().count("\n") == 0  # the header only
        assert_envelope(client.get("/v1/leads/export", params={"format": "pdf"}), 422)
    with api.client() as anonymous:
        assert_envelope(anonymous.get("/v1/leads/export"), 401)
