"""Uploads as jobs: the API takes the file, workers split and run it, the status follows."""

from __future__ import annotations

import csv
import io
import json
import time
import zipfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_server import LiveApi, assert_envelope, live_api

from leadflow.bootstrap import worker_ports
from leadflow.jobs.sweeper import job_blob_keys, job_blob_prefixes, sweep_expired
from leadflow.jobs.uploads import safe_file_name
from leadflow.jobs.worker import Worker
from leadflow.ports import LeadQuery

CSV = (
    "First Name;Last Name;E-mail;Phone;Company\n"
    "John;Doe; John.Doe@Example.com ;(415) 555-0134;Acme\n"
    "Bad;Mail;not-an-email;;Acme\n"
    ";;;415.555.0199;\n"
    "John;Doe;john.doe@example.com;415-555-0134;Acme Inc\n"
    "Ann;Lee;ann@lee.io;;Lee Ltd\n"
)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[LiveApi]:
    with live_api(tmp_path / "data", batch_size=2) as running:
        yield running


def upload(
    client: httpx.Client, content: str | bytes, name: str = "leads.csv", **params: Any
) -> str:
    data = content.encode() if isinstance(content, str) else content
    response = client.post("/v1/uploads", files={"file": (name, data)}, params=params)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "uploaded"
    return str(body["uploadId"])


def _zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def drain(api: LiveApi) -> int:
    """Run a worker until the queue is empty; how many messages it took."""
    worker = Worker(worker_ports(api.services))
    total = 0
    while handled := worker.run_once():
        total += handled
    return total


def test_an_upload_runs_to_completed_with_the_import_counts(api: LiveApi) -> None:
    with api.client("alice") as client:
        job_id = upload(client, CSV)
        first = client.get(f"/v1/status/{job_id}").json()
        assert first["status"] == "uploaded" and first["stage"] == "file_upload"
        assert first["metadata"]["fileName"] == "leads.csv"
        assert first["metadata"]["fileSize"] == len(CSV.encode())
        assert drain(api) == 1 + 3  # the split, then 5 rows in batches of 2
        status = client.get(f"/v1/status/{job_id}").json()
        leads = client.get("/v1/leads").json()["items"]
    assert status["status"] == "completed" and status["stage"] == "completed"
    assert status["progress"] == {
        "totalBatches": 3,
        "completedBatches": 3,
        "totalLeads": 5,
        "processedLeads": 5,
        "percentage": 100.0,
    }
    assert status["summary"] == {
        "received": 5,
        "valid": 4,
        "invalid": 1,
        "duplicates": 1,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "ignored": 0,
        "rowWarnings": 0,
        "columns": {
            "First Name": "firstName",
            "Last Name": "lastName",
            "E-mail": "email",
            "Phone": "phone",
            "Company": "company",
        },
    }
    assert status["ttl"] > time.time() + 23 * 3600
    assert status["error"] is None
    john = next(lead for lead in leads if lead["email"] == "john.doe@example.com")
    assert john["company"] == "Acme Inc"  # the last occurrence, across batches
    assert john["source"] == "upload" and john["sourceFile"] == "leads.csv"


def test_a_redelivered_batch_counts_once(api: LiveApi) -> None:
    with api.client("alice") as client:
        job_id = upload(client, CSV)
        worker = Worker(worker_ports(api.services))
        worker.run_once(1)  # the split
        batch = api.services.queue.receive(1, 30)[0]
        worker.handle(batch)
        worker.handle(batch)  # delivered again: a worker died after the commit
        api.services.queue.delete(batch)
        drain(api)
        status = client.get(f"/v1/status/{job_id}").json()
    assert status["status"] == "completed"
    assert status["progress"]["processedLeads"] == 5
    assert status["summary"]["created"] == 3


def test_cancel_skips_the_batches_not_started(api: LiveApi) -> None:
    with api.client("alice") as client:
        job_id = upload(client, CSV)
        worker = Worker(worker_ports(api.services))
        worker.run_once(1)  # split: 3 batches queued
        worker.run_once(1)  # one batch runs
        response = client.post(f"/v1/status/{job_id}/cancel")
        assert response.status_code == 200 and response.json()["status"] == "cancelled"
        drain(api)
        status = client.get(f"/v1/status/{job_id}").json()
        again = client.post(f"/v1/status/{job_id}/cancel")
        leads = client.get("/v1/leads").json()["items"]
    assert status["status"] == "cancelled" and status["stage"] == "cancelled"
    assert status["progress"]["completedBatches"] == 1
    assert len(leads) == 1  # only the batch that ran before the cancel
    assert_envelope(again, 409, "conflict")
    assert api.services.queue.depth() == 0  # the skipped batches were acknowledged


def test_status_is_private_and_404_for_unknown_jobs(api: LiveApi) -> None:
    with api.client("alice") as alice:
        job_id = upload(alice, CSV)
    with api.client("bob") as bob:
        assert_envelope(bob.get(f"/v1/status/{job_id}"), 404, "not_found")
        assert_envelope(bob.post(f"/v1/status/{job_id}/cancel"), 404, "not_found")
        assert_envelope(bob.get("/v1/status/nope"), 404, "not_found")
    with api.client() as anonymous:
        assert_envelope(anonymous.post("/v1/uploads", files={"file": ("a.csv", b"x")}), 401)


def test_json_and_xlsx_uploads_and_a_misnamed_file(api: LiveApi, tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Email Address", "Full Name", "Phone"])
    sheet.append(["xl@example.com", "Xena Lopez", 4155550134])
    path = tmp_path / "book.xlsx"
    book.save(path)
    records = [{"email": "js@example.com", "name": "Jay Son"}, {"email": "bad"}]
    with api.client("alice") as client:
        upload(client, path.read_bytes(), name="actually-a-workbook.csv")
        upload(client, json.dumps(records), name="leads.json")
        drain(api)
        emails = {lead["email"]: lead for lead in client.get("/v1/leads").json()["items"]}
        errors = client.get("/v1/errors").json()["items"]
    assert emails["xl@example.com"]["lastName"] == "Lopez"
    assert emails["xl@example.com"]["phone"] == "+14155550134"
    assert "js@example.com" in emails
    assert [e["record"] for e in errors] == [{"email": "bad"}]


def test_an_upload_over_the_limit_is_413(tmp_path: Path) -> None:
    with live_api(tmp_path / "data", max_upload_bytes=2048) as api, api.client("alice") as c:
        response = c.post("/v1/uploads", files={"file": ("big.csv", b"a,b\n" + b"1,2\n" * 2000)})
        assert_envelope(response, 413, "payload_too_large")


def test_bad_upload_options_are_422(api: LiveApi) -> None:
    with api.client("alice") as client:
        bad_map = client.post(
            "/v1/uploads", files={"file": ("a.csv", b"x")}, params={"map": "nonsense"}
        )
        assert_envelope(bad_map, 422, "invalid_mapping")
        alias = client.post(
            "/v1/uploads", files={"file": ("a.csv", b"x")}, params={"map": "Nom=fullname"}
        )
        assert_envelope(alias, 422, "invalid_mapping")
        assert "firstName" in alias.json()["error"]["message"]
        bad_mode = client.post(
            "/v1/uploads", files={"file": ("a.csv", b"x")}, params={"mode": "sometimes"}
        )
        assert_envelope(bad_mode, 422)
        assert_envelope(client.post("/v1/uploads"), 422)


def test_a_mapped_column_the_file_lacks_ends_the_job_before_any_write(api: LiveApi) -> None:
    with api.client("alice") as client:
        job_id = upload(client, "Mail,Name\nm@x.io,Ann\n", map="Nom=name")
        drain(api)
        status = client.get(f"/v1/status/{job_id}").json()
        leads = client.get("/v1/leads").json()["items"]
    assert status["status"] == "error"
    assert status["error"]["code"] == "invalid_mapping"
    assert "'Mail', 'Name'" in status["error"]["message"]
    assert leads == []


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("Q3 leads (final).csv", "Q3_leads_final_.csv"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\book.xlsx", "book.xlsx"),
        ("", "upload"),
        (None, "upload"),
        ("....", "upload"),
    ],
)
def test_file_names_become_safe_blob_keys(raw: str | None, safe: str) -> None:
    assert safe_file_name(raw) == safe


def test_the_result_file_tells_each_rows_outcome_as_one_pass_would(api: LiveApi) -> None:
    with api.client("alice") as client:
        job_id = upload(client, CSV)
        drain(api)
        status = client.get(f"/v1/status/{job_id}").json()
    with api.client() as anonymous:  # a signed link needs no token
        result_csv = anonymous.get(status["resultUrl"])
        result_json = anonymous.get(status["resultJsonUrl"])
    assert result_csv.status_code == 200 and result_json.status_code == 200
    rows = list(csv.DictReader(io.StringIO(result_csv.text)))
    assert [(r["row"], r["outcome"]) for r in rows] == [
        ("0", "duplicate"),  # John, again in row 3 (another batch): the last row counts
        ("1", "invalid"),
        ("2", "created"),
        ("3", "created"),
        ("4", "created"),
    ]
    assert rows[0]["leadId"] == rows[3]["leadId"] != ""
    assert "not-an-email" in rows[1]["reason"] and rows[1]["leadId"] == ""
    assert [r["outcome"] for r in result_json.json()] == [r["outcome"] for r in rows]


def test_the_error_file_has_the_rows_as_received_with_a_reason(api: LiveApi) -> None:
    content = (
        "Name,E-mail,Notes\n"
        "Ann,ann@x.io,fine\n"
        'Bob,bob@@x,=HYPERLINK("http://evil")\n'
        ",,\n"
        "Cy,cy@,+14155550134\n"
    )
    with api.client("alice") as client:
        job_id = upload(client, content)
        drain(api)
        response = client.get(f"/v1/uploads/{job_id}/errors.csv")
        other = api.client("bob").get(f"/v1/uploads/{job_id}/errors.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["Name", "E-mail", "Notes", "reason"]
    assert [r[:2] for r in rows[1:]] == [["Bob", "bob@@x"], ["Cy", "cy@"]]
    assert rows[1][2] == '\'=HYPERLINK("http://evil")'  # a formula, defused
    assert rows[2][2] == "+14155550134"  # a phone number is not a formula
    assert all("email" in r[3] for r in rows[1:])
    assert_envelope(other, 404, "not_found")


def test_metrics_show_queue_depth_and_batches(api: LiveApi) -> None:
    with api.client("alice") as client:
        upload(client, CSV)
        before = client.get("/metrics").text
        drain(api)
        after = client.get("/metrics").text
    assert "leadflow_queue_depth 1.0" in before  # the split, waiting
    assert "leadflow_queue_depth 0.0" in after
    assert "leadflow_dlq_depth 0.0" in after
    assert 'leadflow_batches_total{result="done"}' in after
    assert "leadflow_job_seconds_count" in after


def test_status_documents_are_swept_a_day_after_they_end(api: LiveApi) -> None:
    s = api.services
    with api.client("alice") as client:
        job_id = upload(client, CSV)
        drain(api)
        ttl = client.get(f"/v1/status/{job_id}").json()["ttl"]
    assert sweep_expired(s.jobs, s.blobs, s.ledger, s.lead_repo, time.time()) == 0  # not yet
    assert sweep_expired(s.jobs, s.blobs, s.ledger, s.lead_repo, ttl + 1.0) == 1  # a day later
    with api.client("alice") as client:
        assert_envelope(client.get(f"/v1/status/{job_id}"), 404, "not_found")


def test_the_sweeper_forgets_an_expired_jobs_ledger_skips_and_blobs(api: LiveApi) -> None:
    """Issue 9 point 5: what a job kept goes with its status; its leads and history stay."""
    services = api.services
    with api.client("alice") as client:
        client.post(
            "/v1/records",
            json=[{"name": "Jo Old", "email": "john.doe@example.com", "optIn": True,
                   "interests": ["crm"]}],
        )  # fmt: skip
        job_id = upload(client, CSV, mode="update-only")  # new keys are skipped
        enrich = client.post("/v1/process", json={"contacts": [{"email": "a@x.io"}]})
        drain(api)
        ttl = max(status_of["ttl"] for status_of in (
            client.get(f"/v1/status/{job_id}").json(),
            client.get(f"/v1/status/{enrich.json()['jobId']}").json(),
        ))  # fmt: skip
    jobs = [services.jobs.get(i) for i in (job_id, enrich.json()["jobId"])]
    keys = [key for job in jobs if job is not None for key in job_blob_keys(job)]
    assert keys and all(services.blobs.size(key) is not None for key in keys)
    root = services.settings.data_dir / "blobs"
    folders = [root / p for job in jobs if job for p in job_blob_prefixes(job)]
    for job in jobs:  # the parts its queued batches pointed at (upload and enrichment)
        assert job is not None and any((root / f"jobs/{job.job_id}").rglob("*.jsonl"))
    assert services.lead_repo.find_skips("alice", job_id, ["ann@lee.io"]) == {"ann@lee.io": 4}
    assert services.lead_repo.receipts(job_id, [4]) != {}
    sweep = partial(
        sweep_expired, services.jobs, services.blobs, services.ledger, services.lead_repo
    )
    assert sweep(time.time()) == 0  # not yet
    assert sweep(ttl + 1.0) == 2  # a day later
    assert all(services.blobs.size(key) is None for key in keys)
    assert not any(folder.exists() for folder in folders)
    assert services.ledger.totals(job_id) == (0, {})
    assert list(services.ledger.outcomes(job_id)) == []
    assert services.lead_repo.find_skips("alice", job_id, ["ann@lee.io"]) == {}
    assert services.lead_repo.receipts(job_id, [4]) == {}
    (lead,) = services.lead_reads.list_leads("alice", LeadQuery())[0]
    assert services.lead_reads.lead_history("alice", lead["leadId"])[0]["importId"] == job_id


def test_undo_removes_created_leads_and_restores_updated_ones(api: LiveApi) -> None:
    with api.client("alice") as client:
        before = client.post(
            "/v1/records",
            json=[{"name": "John Old", "email": "john.doe@example.com", "optIn": True,
                   "interests": ["crm"]}],
        )  # fmt: skip
        assert before.json()["saved"] == 1
        original = client.get("/v1/leads").json()["items"][0]
        job_id = upload(client, CSV)
        assert_envelope(client.post(f"/v1/uploads/{job_id}/undo"), 409, "conflict")  # running
        drain(api)
        updated = client.get(f"/v1/leads/{original['leadId']}").json()
        assert updated["company"] == "Acme Inc" and updated["lastName"] == "Doe"
        response = client.post(f"/v1/uploads/{job_id}/undo")
        assert response.status_code == 200, response.text
        assert response.json()["deleted"] == 2 and response.json()["restored"] == 1
        leads = client.get("/v1/leads").json()["items"]
        restored = client.get(f"/v1/leads/{original['leadId']}").json()
        status = client.get(f"/v1/status/{job_id}").json()
        again = client.post(f"/v1/uploads/{job_id}/undo")
    assert [lead["leadId"] for lead in leads] == [original["leadId"]]
    for field in ("firstName", "lastName", "company", "phone", "title", "sourceFile"):
        assert restored[field] == original[field], field
    assert restored["history"][-1]["action"] == "import_undone"
    assert status["undo"]["deleted"] == 2
    assert_envelope(again, 409, "conflict")


def test_undo_keeps_what_a_later_upload_changed_and_lists_it(api: LiveApi) -> None:
    """Issue 9 4.4: undoing an older upload never deletes or rewinds later work."""
    with api.client("alice") as client:
        first = upload(client, "Email,Company\na@x.io,One\nb@x.io,One\nc@x.io,One\n")
        drain(api)
        later = upload(client, "Email,Company\na@x.io,Two\nc@x.io,One\n", name="later.csv")
        drain(api)
        assert client.get(f"/v1/status/{later}").json()["summary"]["unchanged"] == 1
        response = client.post(f"/v1/uploads/{first}/undo")
        assert response.status_code == 200, response.text
        body = response.json()
        remaining = {lead["email"]: lead for lead in client.get("/v1/leads").json()["items"]}
        status = client.get(f"/v1/status/{first}").json()
    assert (body["deleted"], body["restored"], body["conflicts"]) == (2, 0, 1)
    assert body["conflictLeadIds"] == [remaining["a@x.io"]["leadId"]]
    assert set(remaining) == {"a@x.io"} and remaining["a@x.io"]["company"] == "Two"
    assert status["undo"]["conflictLeadIds"] == body["conflictLeadIds"]


def test_of_two_concurrent_undos_one_runs(api: LiveApi) -> None:
    with api.client("alice") as client:
        job_id = upload(client, "Email\na@x.io\n")
        drain(api)
    status = api.services.jobs
    assert status.claim_undo(job_id, "alice", 600)  # as the first request does before its work
    with api.client("alice") as client:
        assert_envelope(client.post(f"/v1/uploads/{job_id}/undo"), 409, "conflict")
        assert not status.claim_undo(job_id, "alice", 600)
        assert status.claim_undo(job_id, "alice", stale_after=-1.0)  # a dead run's claim
        status.release_undo(job_id)
        response = client.post(f"/v1/uploads/{job_id}/undo")
        assert response.status_code == 200 and response.json()["deleted"] == 1
        assert_envelope(client.post(f"/v1/uploads/{job_id}/undo"), 409, "conflict")


def test_reader_warnings_reach_the_status(api: LiveApi) -> None:
    latin1 = "Name,E-mail,Company\nJosé Müller,jose@x.io,Café Crème\n".encode("latin-1")
    with api.client("alice") as client:
        job_id = upload(client, latin1)
        drain(api)
        status = client.get(f"/v1/status/{job_id}").json()
        (lead,) = client.get("/v1/leads").json()["items"]
    assert status["status"] == "completed"
    assert any("UTF-8" in warning for warning in status["warnings"])
    assert lead["company"] == "Café Crème" and lead["lastName"] == "Müller"
    assert status["resultUrl"].startswith(api.base_url)


def test_an_ndjson_line_that_is_not_json_keeps_its_text_in_the_error_file(api: LiveApi) -> None:
    content = '{"email": "ok@x.io", "name": "Ok"}\n{not json at all\n{"email": "bad@"}\n'
    with api.client("alice") as client:
        job_id = upload(client, content, name="leads.ndjson")
        drain(api)
        rows = list(csv.reader(io.StringIO(client.get(f"/v1/uploads/{job_id}/errors.csv").text)))
    assert rows[0] == ["raw", "email", "reason"]
    assert rows[1][0] == "{not json at all" and "not valid JSON" in rows[1][2]
    assert rows[2][:2] == ["", "bad@"] and "email" in rows[2][2]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("fake.xlsx", b"PK\x03\x04 not a zip"),
        ("photo.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4),
        ("noise.csv", bytes((i * 73 + 11) % 256 for i in range(4096))),
        ("archive.xlsx", _zip_of({"readme.txt": b"not a workbook"})),
    ],
)
def test_an_unreadable_upload_fails_at_once_with_its_reason(
    api: LiveApi, name: str, content: bytes
) -> None:
    with api.client("alice") as client:
        job_id = upload(client, content, name=name)
        drain(api)
        status = client.get(f"/v1/status/{job_id}").json()
    assert status["status"] == "error"
    assert status["error"]["code"] == "unreadable_file"
    assert status["error"]["message"]
    assert api.services.dead_letters.depth() == 0  # not retried: no retry would help


@pytest.mark.parametrize(
    ("name", "content"), [("empty.csv", b""), ("blank.csv", b"\n\n  \n"), ("head.csv", b"Email\n")]
)
def test_an_upload_without_records_completes_with_zeros_and_a_warning(
    api: LiveApi, name: str, content: bytes
) -> None:
    with api.client("alice") as client:
        job_id = upload(client, content, name=name)
        drain(api)
        status = client.get(f"/v1/status/{job_id}").json()
    assert status["status"] == "completed", status
    assert status["summary"]["received"] == 0
    assert status["summary"]["created"] == 0
    assert any(f"{name} has no records" in w for w in status["warnings"])


def test_a_job_cancelled_before_its_split_never_starts(api: LiveApi) -> None:
    with api.client("alice") as client:
        job_id = upload(client, CSV)
        assert client.post(f"/v1/status/{job_id}/cancel").status_code == 200
        drain(api)
        status = client.get(f"/v1/status/{job_id}").json()
        leads = client.get("/v1/leads").json()["items"]
    assert status["status"] == "cancelled"  # a worker's late "processing" did not win
    assert leads == []
    assert api.services.jobs.update(job_id, status="processing") is False
    # a worker's late stage (its split ending) does not hide the cancel either
    api.services.jobs.update(job_id, stage="batch_processing", total_batches=3)
    assert api.services.job_document(job_id, "alice")["stage"] == "cancelled"  # type: ignore[index]


def test_an_upload_reports_its_column_mapping_and_row_warnings(api: LiveApi) -> None:
    """Issue 8: the status summary says how each column was mapped (null: attributes)."""
    content = (
        "Name,E-mail 1 - Value,Phone 1 - Value,Organization 1 - Title,Birthday\n"
        "Dr. Jane Roe,jane@x.com ::: jane@y.org,(415) 555-0109 x101,Head of Sales,1990-01-02\n"
    )
    with api.client("alice") as client:
        job_id = upload(client, content, "google.csv")
        drain(api)
        status = client.get(f"/v1/status/{job_id}").json()
        leads = client.get("/v1/leads").json()
    assert status["status"] == "completed"
    assert status["summary"]["columns"] == {
        "Name": "name",
        "E-mail 1 - Value": "email",
        "Phone 1 - Value": "phone",
        "Organization 1 - Title": "title",
        "Birthday": None,
    }
    assert status["summary"]["rowWarnings"] == 1
    (lead,) = leads["items"]
    assert lead["phone"] == "+14155550109;ext=101"
    assert lead["attributes"]["otherEmails"] == ["jane@y.org"]
    assert lead["attributes"]["salutation"] == "Dr."
