"""Enrichment jobs (seed 001): POST /v1/process, batches of 100, the offline provider."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_server import LiveApi, assert_envelope, live_api

from leadflow.bootstrap import worker_ports
from leadflow.jobs.worker import Worker


@pytest.fixture
def api(tmp_path: Path) -> Iterator[LiveApi]:
    with live_api(tmp_path / "data") as running:
        yield running


def drain(api: LiveApi) -> None:
    worker = Worker(worker_ports(api.services))
    while worker.run_once():
        pass


CONTACTS = [
    {"name": "Doe, John", "email": "Sales@Acme-Corp.co.uk", "phone": "(415) 555-0134"},
    {"name": "Ann Lee", "email": "ann.lee@gmail.com", "phone": "not a phone"},
    {"email": "broken@"},
]


def test_contacts_are_enriched_in_batches_of_100(api: LiveApi) -> None:
    contacts = [*CONTACTS, *({"email": f"p{n}@example.org"} for n in range(247))]
    with api.client("alice") as client:
        response = client.post("/v1/process", json={"contacts": contacts})
        assert response.status_code == 202, response.text
        job_id = response.json()["jobId"]
        assert response.json()["uploadId"] == job_id
        queued = client.get(f"/v1/status/{job_id}").json()
        assert queued["progress"]["totalBatches"] == 3
        assert queued["progress"]["totalLeads"] == 250
        drain(api)
        status = client.get(f"/v1/status/{job_id}").json()
        result = client.get(status["resultUrl"]).text
    assert status["status"] == "completed"
    assert status["progress"]["completedBatches"] == 3
    assert status["summary"] == {"received": 250, "enriched": 250}
    rows = list(csv.DictReader(io.StringIO(result)))
    assert len(rows) == 250 and [r["row"] for r in rows[:3]] == ["0", "1", "2"]
    john, ann, broken = rows[:3]
    assert john["enriched_companyGuess"] == "Acme Corp"
    assert john["enriched_roleAddress"] == "true"
    assert john["enriched_phoneE164"] == "+14155550134"
    assert john["enriched_phoneCountry"] == "US"
    assert (john["enriched_firstName"], john["enriched_lastName"]) == ("John", "Doe")
    assert ann["enriched_freeMail"] == "true" and ann["enriched_companyGuess"] == ""
    assert ann["enriched_phoneValid"] == "false"
    assert broken["enriched_emailValid"] == "false"
    assert rows[-1]["enriched_companyGuess"] == "Example"


def test_a_redelivered_enrichment_batch_counts_once(api: LiveApi) -> None:
    with api.client("alice") as client:
        job_id = client.post("/v1/process", json={"contacts": CONTACTS}).json()["jobId"]
        message = api.services.queue.receive(1, 30)[0]
        worker = Worker(worker_ports(api.services))
        worker.handle(message)
        worker.handle(message)
        api.services.queue.delete(message)
        status = client.get(f"/v1/status/{job_id}").json()
    assert status["status"] == "completed"
    assert status["summary"] == {"received": 3, "enriched": 3}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"contacts": []}, "invalid_request"),
        ({"contacts": "x"}, "invalid_request"),
        ({"contacts": [1, 2]}, "invalid_request"),
        ({}, "invalid_request"),
        ({"contacts": [{"email": "a@b.co"}], "provider": "nope"}, "unknown_provider"),
    ],
)
def test_bad_requests_are_422(api: LiveApi, body: object, code: str) -> None:
    with api.client("alice") as client:
        assert_envelope(client.post("/v1/process", json=body), 422, code)


def test_more_than_100k_contacts_are_refused(api: LiveApi) -> None:
    with api.client("alice") as client:
        response = client.post("/v1/process", json={"contacts": [{}] * 100_001})
    assert_envelope(response, 422, "invalid_request")
