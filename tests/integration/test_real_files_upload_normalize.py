"""The real-world cases 04-11 of ../shared/cases/real-files through POST /v1/uploads.

The same right values as through the CLI (tests/e2e/test_real_files_normalize.py), on
the job path: upload, split into batches, workers, status document.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_server import LiveApi, live_api

from leadflow.bootstrap import worker_ports
from leadflow.jobs.worker import Worker

CASES = Path(__file__).resolve().parents[2].parent / "shared" / "cases" / "real-files"


@pytest.fixture
def api(tmp_path: Path) -> Iterator[LiveApi]:
    with live_api(tmp_path / "data", batch_size=2) as running:
        yield running


def run_upload(api: LiveApi, client: httpx.Client, name: str) -> dict[str, Any]:
    path = CASES / name
    assert path.is_file(), f"missing case file {path} (../shared beside the clone)"
    response = client.post("/v1/uploads", files={"file": (name, path.read_bytes())})
    assert response.status_code == 202, response.text
    upload_id = response.json()["uploadId"]
    worker = Worker(worker_ports(api.services))
    while worker.run_once():
        pass
    status = client.get(f"/v1/status/{upload_id}").json()
    assert status["status"] == "completed", status
    return dict(status["summary"])


def leads(client: httpx.Client) -> list[dict[str, Any]]:
    return list(client.get("/v1/leads").json()["items"])


# file -> {(email, phone, firstName, lastName, title, company) of each lead}
EXPECTED: dict[str, set[tuple[str | None, ...]]] = {
    "04-google-contacts-export.csv": {
        ("jane.roe@example.com", "+14155550105", "Jane", "Roe", "Head of Sales", "Acme Corp"),
        ("sam.poe@example.com", "+14155550106", "Sam", "Poe", "CTO", "Globex"),
    },
    "05-accented-headers.csv": {
        ("amelie.dupont@example.fr", "+33142685300", "Amélie", "Dupont", "", ""),
    },
    "06-float-phone.csv": {
        ("jane.roe@example.com", "+14155550107", "Jane", "Roe", "", ""),
        (None, "+14155550108", "Sam", "Poe", "", ""),
    },
    "07-phone-extensions.csv": {
        (None, "+14155550109;ext=101", "Front", "Desk", "", "Acme Corp"),
        (None, "+14155550109;ext=102", "Billing", "Dept", "", "Acme Corp"),
        ("jane.roe@example.com", "+14155550109;ext=230", "Jane", "Roe", "", "Acme Corp"),
    },
    "08-name-title-suffix.csv": {
        ("jane.roe@example.com", None, "Jane", "Roe", "", ""),
        ("sam.poe@example.com", None, "Sam", "Poe", "", ""),
    },
    "09-invisible-chars-email.csv": {
        ("jane.roe@example.com", None, "Jane", "Roe", "", ""),
        ("amy.doe@example.com", None, "Amy", "Doe", "", ""),
    },
    "10-two-emails-one-cell.csv": {
        ("jane.roe@example.com", None, "Jane", "Roe", "", "Acme Corp"),
    },
    "11-thousands-separator-phone.csv": {
        ("jane.roe@example.com", "+14155550142", "Jane", "Roe", "", ""),
    },
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_case_gives_its_right_values_through_an_upload(api: LiveApi, name: str) -> None:
    with api.client("alice") as client:
        summary = run_upload(api, client, name)
        found = leads(client)
    assert summary["invalid"] == 0
    got = {
        (
            lead["email"],
            lead["phone"],
            lead["firstName"],
            lead["lastName"],
            lead["title"] or "",
            lead["company"] or "",
        )
        for lead in found
    }
    assert got == EXPECTED[name]
    assert all(lead["phoneValid"] in (True, None) for lead in found)


def test_upload_extras_salutation_suffix_other_emails_and_columns(api: LiveApi) -> None:
    with api.client("alice") as client:
        summary = run_upload(api, client, "08-name-title-suffix.csv")
        attributes = {lead["email"]: lead["attributes"] for lead in leads(client)}
        assert attributes["jane.roe@example.com"]["salutation"] == "Dr."
        assert attributes["sam.poe@example.com"]["nameSuffix"] == "III"
        assert summary["columns"] == {"Name": "name", "Email": "email"}
        summary = run_upload(api, client, "10-two-emails-one-cell.csv")
        assert summary["rowWarnings"] == 1
        (lead,) = [lead for lead in leads(client) if lead["company"] == "Acme Corp"]
        assert lead["attributes"]["otherEmails"] == ["jane@example.org"]


def test_the_google_export_uploaded_twice_finds_its_leads_again(api: LiveApi) -> None:
    with api.client("alice") as client:
        first = run_upload(api, client, "04-google-contacts-export.csv")
        second = run_upload(api, client, "04-google-contacts-export.csv")
        # the same rows again find their leads: nothing created, nothing changed
        assert (first["created"], second["created"], second["unchanged"]) == (2, 0, 2)
        assert second["updated"] == 0
        assert len(leads(client)) == 2
