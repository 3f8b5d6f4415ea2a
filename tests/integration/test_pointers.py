"""Issue 9 point 3: queue messages carry pointers (a part blob's key and rows), never the
records, and stay under SQS's 256 KB whatever the file; the split reads the upload as a
stream through `BlobStore.open`, with no local path, even one that cannot seek."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import httpx
import pytest
import xlsxwriter
from api_server import LiveApi, live_api

from leadflow.bootstrap import worker_ports
from leadflow.jobs.parts import PartCache
from leadflow.jobs.worker import Worker
from leadflow.ports import BlobStore, LeadQuery

SQS_MAX = 256 * 1024


class RecordingQueue:
    """The real queue, with every body sent through it kept for the test to look at."""

    def __init__(self, queue: Any) -> None:
        self._queue = queue
        self.sent: list[dict[str, Any]] = []

    def send_many(self, bodies: Sequence[Mapping[str, Any]], owner: str | None = None) -> Any:
        self.sent.extend(dict(body) for body in bodies)
        return self._queue.send_many(bodies, owner)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._queue, name)


class OneWayStream(io.RawIOBase):
    """A stream that reads forward only, as S3's StreamingBody does."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(min(len(buffer), 7919))  # odd sizes, as a network gives
        buffer[: len(chunk)] = chunk
        return len(chunk)


class RemoteBlobs:
    """The local store seen as a remote one: streams that cannot seek, no local path and
    no link of its own (the API then serves downloads through `open`)."""

    def __init__(self, store: BlobStore) -> None:
        self._store = store
        self.opened: list[str] = []

    def put_stream(self, key: str, chunks: Iterable[bytes], max_bytes: int | None = None) -> int:
        return self._store.put_stream(key, chunks, max_bytes)

    def open(self, key: str) -> BinaryIO:
        self.opened.append(key)
        with self._store.open(key) as stream:
            return OneWayStream(stream.read())  # type: ignore[return-value]

    def size(self, key: str) -> int | None:
        return self._store.size(key)

    def delete(self, key: str) -> bool:
        return self._store.delete(key)

    def delete_prefix(self, prefix: str) -> int:
        return self._store.delete_prefix(prefix)

    def link(self, key: str, expires_in: int, download_name: str | None = None) -> None:
        return None

    def local_path(self, key: str) -> None:
        return None


@pytest.fixture
def api(tmp_path: Path) -> Iterator[LiveApi]:
    with live_api(tmp_path / "data") as running:
        yield running


def drain(api: LiveApi) -> None:
    worker = Worker(worker_ports(api.services))
    while worker.run_once():
        pass


def upload(client: httpx.Client, name: str, data: bytes) -> str:
    response = client.post("/v1/uploads", files={"file": (name, data)})
    assert response.status_code == 202, response.text
    return str(response.json()["uploadId"])


def assert_pointers_only(bodies: list[dict[str, Any]], values: Iterable[str]) -> None:
    """Every body is under 256 KB and holds none of the file's values."""
    assert bodies
    texts = [json.dumps(body) for body in bodies]
    assert max(len(text.encode()) for text in texts) < SQS_MAX
    joined = "\n".join(texts)
    assert not [value for value in values if value in joined]


def test_a_wide_file_with_long_headers_is_queued_as_small_pointers(api: LiveApi) -> None:
    columns = 1990
    headers = ["Email"] + [f"Custom attribute {n:04d} " + "x" * 120 for n in range(1, columns)]
    rows = [
        [f"person{r}@example.com"] + [f"value-{r}-{c}" for c in range(1, columns)]
        for r in range(250)
    ]
    data = "\n".join(",".join(cells) for cells in [headers, *rows]).encode()
    queue = api.services.queue = RecordingQueue(api.services.queue)  # type: ignore[assignment]
    with api.client("alice") as client:
        job_id = upload(client, "wide.csv", data)
        drain(api)
        status = client.get(f"/v1/status/{job_id}").json()
    assert status["status"] == "completed", status
    assert status["summary"]["created"] == 250
    batches = [body for body in queue.sent if body["kind"] == "batch"]
    assert [body["rows"] for body in batches] == [[n, min(n + 99, 249)] for n in (0, 100, 200)]
    # header names and cell values alike stay in the part blobs
    assert_pointers_only(queue.sent, [*headers[1:5], *(cell for row in rows for cell in row)])
    lead = api.services.lead_reads.list_leads("alice", LeadQuery(q="person7@"))[0][0]
    assert lead["attributes"][headers[1990 - 1]] == "value-7-1989"


def test_every_message_of_a_100k_row_file_points_at_its_rows(api: LiveApi) -> None:
    rows = 100_000
    lines = ["Email,First Name,Company"]
    lines += [f"p{n}@example.org,Name{n},Company {n}" for n in range(rows)]
    data = ("\n".join(lines) + "\n").encode()
    queue = api.services.queue = RecordingQueue(api.services.queue)  # type: ignore[assignment]
    with api.client("alice") as client:
        job_id = upload(client, "big.csv", data)
    Worker(worker_ports(api.services)).split(job_id)  # the split alone: the batches stay queued
    batches = [body for body in queue.sent if body["kind"] == "batch"]
    assert len(batches) == rows // 100
    assert_pointers_only(queue.sent, [f"p{n}@example.org" for n in range(0, rows, 997)])
    assert {body["blobKey"] for body in batches} == {
        f"jobs/{job_id}/parts/{n:09d}.jsonl" for n in range(0, rows, 5000)
    }  # one part per 50 batches, not one blob per batch
    parts = PartCache(api.services.blobs)
    records = [item for body in batches for item in parts.batch(body)[1]]
    assert [row for row, _ in records] == list(range(rows))
    assert records[98_765][1] == {
        "Email": "p98765@example.org",
        "First Name": "Name98765",
        "Company": "Company 98765",
    }


def test_enrichment_messages_point_at_the_contacts(api: LiveApi) -> None:
    notes = "n" * 3000  # 100 such contacts are over 256 KB
    contacts = [{"email": f"c{n}@example.net", "notes": f"{n}:{notes}"} for n in range(250)]
    queue = api.services.queue = RecordingQueue(api.services.queue)  # type: ignore[assignment]
    with api.client("alice") as client:
        response = client.post("/v1/process", json={"contacts": contacts})
        assert response.status_code == 202, response.text
        job_id = response.json()["jobId"]
        drain(api)
        status = client.get(f"/v1/status/{job_id}").json()
        assert status["status"] == "completed", status
        result = client.get(status["resultJsonUrl"]).json()
    assert_pointers_only(queue.sent, [c["email"] for c in contacts])
    assert [row["input"] for row in result] == contacts


def _xlsx(path: Path) -> bytes:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Leads")
    for r, row in enumerate([["E-mail", "Name"], ["ann@one.io", "Ann One"], ["bo@two.io", "Bo"]]):
        sheet.write_row(r, 0, row)
    book.close()
    return path.read_bytes()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("leads.csv", "E-mail;Name\nann@one.io;Ann One\nbo@two.io;Bö Twö\n".encode("cp1252")),
        ("leads.json", json.dumps([{"email": "ann@one.io"}, {"email": "bo@two.io"}]).encode()),
        ("leads.xlsx", None),
    ],
)
def test_an_upload_runs_from_a_store_that_only_streams(
    api: LiveApi, tmp_path: Path, name: str, content: bytes | None
) -> None:
    data = content if content is not None else _xlsx(tmp_path / name)
    remote = RemoteBlobs(api.services.blobs)
    api.services.blobs = remote
    with api.client("alice") as client:
        job_id = upload(client, name, data)
        drain(api)
        status = client.get(f"/v1/status/{job_id}").json()
        assert status["status"] == "completed", status
        assert status["summary"]["created"] == 2
        # the store has no link: the API's own signed route streams the file from `open`
        download = client.get(status["resultJsonUrl"])
    assert download.status_code == 200
    assert [row["outcome"] for row in download.json()] == ["created", "created"]
    assert any(key.startswith("uploads/") for key in remote.opened)
    emails = {lead["email"] for lead in api.services.lead_reads.list_leads("alice", LeadQuery())[0]}
    assert emails == {"ann@one.io", "bo@two.io"}


def test_a_batch_queued_before_part_blobs_still_runs(api: LiveApi) -> None:
    """A message of the earlier shape (records, format and headers in the body), left in
    the queue or the DLQ across an upgrade, runs as it did: nothing is lost."""
    data = b"Email;First Name;Company\nann@lee.io;Ann;Lee Ltd\nnot-an-email;Bob;X\n"
    queue = api.services.queue
    with api.client("alice") as client:
        job_id = upload(client, "old.csv", data)
        Worker(worker_ports(api.services)).split(job_id)
        (pointer,) = [m for m in queue.receive(10, 30) if m.body["kind"] == "batch"]
        part, batch = PartCache(api.services.blobs).batch(pointer.body)
        legacy = {
            "kind": "batch",
            "jobId": job_id,
            "batchNo": pointer.body["batchNo"],
            "format": part["format"],
            "textOnly": part["textOnly"],
            "headers": part["headers"],
            "records": [record for _, record in batch],
        }
        queue.delete(pointer)
        queue.send_many([legacy], "alice")  # what the version before part blobs queued
        drain(api)
        status = client.get(f"/v1/status/{job_id}").json()
    assert status["status"] == "completed", status
    assert (status["summary"]["created"], status["summary"]["invalid"]) == (1, 1)
    (lead,) = api.services.lead_reads.list_leads("alice", LeadQuery())[0]
    assert (lead["email"], lead["company"]) == ("ann@lee.io", "Lee Ltd")
