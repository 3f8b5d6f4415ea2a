"""POST /v1/uploads on real-world files: the shared cases, ?headerRow= and ?sheet=
carried through the job to the worker, encodings, non-text files and input limits."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from api_server import LiveApi, assert_envelope, live_api

from leadflow.bootstrap import worker_ports
from leadflow.jobs.worker import Worker
from real_cases import EXPECTED, assert_case_leads, case


@pytest.fixture
def api(tmp_path: Path) -> Iterator[LiveApi]:
    with live_api(tmp_path / "data", batch_size=2) as running:
        yield running


def run_upload(
    api: LiveApi, client: httpx.Client, name: str, data: bytes, **params: Any
) -> dict[str, Any]:
    """Upload, run the worker until the queue is empty; the job's status document."""
    response = client.post("/v1/uploads", files={"file": (name, data)}, params=params)
    assert response.status_code == 202, response.text
    job_id = response.json()["uploadId"]
    worker = Worker(worker_ports(api.services))
    while worker.run_once():
        pass
    status: dict[str, Any] = client.get(f"/v1/status/{job_id}").json()
    return status


def leads_of(client: httpx.Client) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.get("/v1/leads", params={"limit": 100}).json()["items"]
    return items


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shared_case_gives_its_right_values(api: LiveApi, name: str) -> None:
    with api.client("alice") as client:
        status = run_upload(api, client, name, case(name).read_bytes())
        leads = leads_of(client)

    assert status["status"] == "completed", status
    summary = status["summary"]
    assert (summary["received"], summary["valid"], summary["invalid"]) == (2, 2, 0)
    assert_case_leads(name, leads)


def test_header_row_is_carried_to_the_worker(api: LiveApi) -> None:
    data = (
        b"Email,Phone\n"
        b"exported 2024-03-05,by admin\n"
        b"Mail,Tel,Person\n"
        b"jane.roe@example.com,(415) 555-0101,Jane Roe\n"
    )
    with api.client("alice") as client:
        status = run_upload(
            api, client, "report.csv", data, headerRow=3, map=["Mail=email", "Tel=phone"]
        )
        leads = leads_of(client)

    assert status["status"] == "completed", status
    assert [(lead["email"], lead["phone"]) for lead in leads] == [
        ("jane.roe@example.com", "+14155550101")
    ]
    assert any("line 3" in w for w in status["warnings"])


def test_header_row_must_be_positive(api: LiveApi) -> None:
    with api.client("alice") as client:
        response = client.post(
            "/v1/uploads", files={"file": ("a.csv", b"Email\n")}, params={"headerRow": 0}
        )
    assert_envelope(response, 422)


def _workbook() -> bytes:
    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    first.title = "Notes"
    first.append(["Exported from Example CRM"])
    sheet = book.create_sheet("Leads 2024")
    sheet.append(["Email", "Name", "Signed up", "Phone"])
    sheet.append(["a@example.com", "Amy Doe", dt.datetime(2024, 3, 5), 4155550107])
    other = book.create_sheet("Archive")
    other.append(["Email", "Name"])
    other.append(["old@example.com", "Old Lead"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("params", "emails"),
    [
        ({}, ["a@example.com"]),  # the first sheet that has a header row
        ({"sheet": "Archive"}, ["old@example.com"]),
        ({"sheet": "3"}, ["old@example.com"]),
    ],
)
def test_sheet_is_carried_to_the_worker(
    api: LiveApi, params: dict[str, str], emails: list[str]
) -> None:
    with api.client("alice") as client:
        status = run_upload(api, client, "book.xlsx", _workbook(), **params)
        leads = leads_of(client)

    assert status["status"] == "completed", status
    assert [lead["email"] for lead in leads] == emails


def test_a_sheet_that_is_not_there_ends_the_job_as_unreadable(api: LiveApi) -> None:
    with api.client("alice") as client:
        status = run_upload(api, client, "book.xlsx", _workbook(), sheet="Nope")
    assert status["status"] == "error"
    assert status["error"]["code"] == "unreadable_file"
    assert "'Leads 2024'" in status["error"]["message"]


def test_dates_and_whole_numbers_arrive_as_text(api: LiveApi) -> None:
    with api.client("alice") as client:
        run_upload(api, client, "book.xlsx", _workbook())
        (lead,) = leads_of(client)
    assert lead["phone"] == "+14155550107"
    assert lead["attributes"] == {"Signed up": "2024-03-05"}


@pytest.mark.parametrize(
    ("codec", "bom"),
    [
        ("utf-16-le", b""),  # no BOM: told by the NUL pattern
        ("utf-32-le", codecs.BOM_UTF32_LE),
        ("utf-32-be", codecs.BOM_UTF32_BE),
        ("utf-16-be", codecs.BOM_UTF16_BE),
    ],
)
def test_unicode_encodings_without_nul_leads(api: LiveApi, codec: str, bom: bytes) -> None:
    text = "First Name\tLast Name\tEmail\nJosé\tNúñez\tjose.nunez@example.com\n"
    with api.client("alice") as client:
        status = run_upload(api, client, "export.txt", bom + text.encode(codec))
        leads = leads_of(client)
    assert status["summary"]["valid"] == 1, status
    assert [(lead["firstName"], lead["lastName"]) for lead in leads] == [("José", "Núñez")]


def test_a_deeply_nested_record_is_rejected_with_its_reason(api: LiveApi) -> None:
    depth = 100_000
    data = (
        '[{"name": "Jane Roe", "email": "jane.roe@example.com"}, ' + "[" * depth + "]" * depth + "]"
    ).encode()
    with api.client("alice") as client:
        status = run_upload(api, client, "nested.json", data)
        errors = client.get(f"/v1/uploads/{status['uploadId']}/errors.csv").text
        leads = leads_of(client)

    assert status["status"] == "completed", status
    assert (status["summary"]["valid"], status["summary"]["invalid"]) == (1, 1)
    assert [lead["email"] for lead in leads] == ["jane.roe@example.com"]
    (row,) = list(csv.DictReader(io.StringIO(errors)))
    assert "LEADFLOW_MAX_NESTING_DEPTH" in row["reason"]
    assert len(row["raw"]) < 5_000  # the error file keeps a preview, not the whole record


def _replace_in_zip(data: bytes, member: str, old: str, new: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.infolist():
            content = zin.read(item.filename)
            if item.filename == member:
                assert old.encode() in content
                content = content.replace(old.encode(), new.encode())
            zout.writestr(item, content)
    return out.getvalue()


def test_a_huge_xlsx_cell_is_not_a_name(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Name", "Email"])
    sheet.append(["BIG-CELL", "big@example.com"])
    sheet.append(["Sam Poe", "sam.poe@example.com"])
    buffer = io.BytesIO()
    book.save(buffer)
    # openpyxl cuts cells at Excel's 32,767 characters: other writers do not
    data = _replace_in_zip(buffer.getvalue(), "xl/worksheets/sheet1.xml", "BIG-CELL", "A" * 300_000)
    with live_api(tmp_path / "data", max_field_chars=100_000) as api, api.client("alice") as client:
        status = run_upload(api, client, "big.xlsx", data)
        errors = client.get(f"/v1/uploads/{status['uploadId']}/errors.csv").text
        leads = leads_of(client)

    assert [lead["email"] for lead in leads] == ["sam.poe@example.com"]
    assert (status["summary"]["valid"], status["summary"]["invalid"]) == (1, 1)
    assert "LEADFLOW_MAX_FIELD_CHARS" in errors
    assert "big@example.com" in errors


def test_an_api_record_over_a_limit_is_listed_invalid_with_its_reason(api: LiveApi) -> None:
    valid = {"name": "Amy Doe", "email": "amy@example.com", "optIn": True, "interests": ["x"]}
    huge = {**valid, "email": "huge@example.com", "name": "N" * 200_000}
    with api.client("alice") as client:
        response = client.post("/v1/records", json=[huge, valid])
        leads = leads_of(client)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["received"], body["valid"], body["saved"]) == (2, 1, 1)
    (invalid,) = body["invalid"]
    assert invalid["index"] == 0
    assert "LEADFLOW_MAX_FIELD_CHARS" in invalid["errors"][0]["message"]
    assert [lead["email"] for lead in leads] == ["amy@example.com"]
