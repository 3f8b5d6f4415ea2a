"""The S3 BlobStore on moto: whole-or-nothing writes, streams, links, the POST form."""

from __future__ import annotations

import base64
import io
import json
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from leadflow.adapters.s3_blobs import MIN_PART, S3BlobStore, content_disposition
from leadflow.ports import BadBlobKey, BlobTooLarge


@pytest.fixture
def s3(client: Any) -> Any:
    s3 = client("s3")
    s3.create_bucket(Bucket="test-blobs")
    return s3


@pytest.fixture
def store(s3: Any) -> S3BlobStore:
    return S3BlobStore(s3, "test-blobs", part_size=MIN_PART)


def test_small_blob_round_trip(store: S3BlobStore) -> None:
    assert store.put_stream("uploads/a.csv", [b"email\n", b"a@x.io\n"]) == 13
    assert store.size("uploads/a.csv") == 13
    with store.open("uploads/a.csv") as stream:
        assert stream.read(6) == b"email\n"
        text = io.TextIOWrapper(stream, encoding="utf-8")
        assert text.read() == "a@x.io\n"
    assert store.local_path("uploads/a.csv") is None


def test_multipart_blob_round_trip(store: S3BlobStore, s3: Any) -> None:
    chunk = bytes(range(256)) * 4096  # 1 MiB
    size = store.put_stream("big/b.bin", (chunk for _ in range(12)))
    assert size == 12 * len(chunk) == store.size("big/b.bin")
    with store.open("big/b.bin") as stream:
        read = bytearray()
        while data := stream.read1(65536):
            read += data
    assert read == chunk * 12
    assert s3.list_multipart_uploads(Bucket="test-blobs").get("Uploads", []) == []


@pytest.mark.parametrize("chunks", [3, 12])  # one PutObject / a multipart upload
def test_over_the_limit_stores_nothing(store: S3BlobStore, s3: Any, chunks: int) -> None:
    chunk = b"x" * (1024 * 1024)
    with pytest.raises(BlobTooLarge):
        store.put_stream("big/c.bin", (chunk for _ in range(chunks)), max_bytes=chunks * 2**20 - 1)
    assert store.size("big/c.bin") is None
    assert s3.list_multipart_uploads(Bucket="test-blobs").get("Uploads", []) == []


def test_a_failing_source_stores_nothing(store: S3BlobStore, s3: Any) -> None:
    def chunks() -> Any:
        for _ in range(7):
            yield b"y" * (1024 * 1024)
        raise OSError("client went away")

    with pytest.raises(OSError):
        store.put_stream("big/d.bin", chunks())
    assert store.size("big/d.bin") is None
    assert s3.list_multipart_uploads(Bucket="test-blobs").get("Uploads", []) == []


def test_missing_and_bad_keys(store: S3BlobStore) -> None:
    with pytest.raises(FileNotFoundError):
        store.open("nope/x")
    assert store.size("nope/x") is None
    assert store.delete("nope/x") is False
    for bad in ("../etc/passwd", "", "/abs", "a//b"):
        with pytest.raises(BadBlobKey):
            store.put_stream(bad, [b"x"])
    for bad in ("", "/", "jobs/j1", "../jobs/"):
        with pytest.raises(BadBlobKey):
            store.delete_prefix(bad)


def test_delete_and_delete_prefix(store: S3BlobStore) -> None:
    for i in range(5):
        store.put_stream(f"jobs/j1/part-{i}", [b"x"])
    store.put_stream("jobs/j2/part-0", [b"x"])
    store.put_stream("jobs/j10/part-0", [b"x"])
    assert store.delete("jobs/j1/part-0") is True
    assert store.delete("jobs/j1/part-0") is False
    assert store.delete_prefix("jobs/j1/") == 4
    assert store.size("jobs/j2/part-0") == 1 and store.size("jobs/j10/part-0") == 1


def test_link_is_a_presigned_get_with_the_download_name(store: S3BlobStore) -> None:
    store.put_stream("results/r.csv", [b"x"])
    url = store.link("results/r.csv", 300, "résultats 1.csv")
    assert url is not None
    query = parse_qs(urlparse(url).query)
    assert urlparse(url).path.endswith("/results/r.csv")
    assert query["response-content-disposition"] == [content_disposition("résultats 1.csv")]
    assert "X-Amz-Signature" in query or "Signature" in query
    assert content_disposition('a"b.csv') == (
        "attachment; filename=\"a_b.csv\"; filename*=UTF-8''a%22b.csv"
    )


def test_upload_form_bounds_the_size(store: S3BlobStore) -> None:
    form = store.upload_form("uploads/u1/file.csv", 50 * 2**20, 600, "text/csv")
    assert form["fields"]["key"] == "uploads/u1/file.csv"
    assert form["fields"]["Content-Type"] == "text/csv"
    policy = json.loads(base64.b64decode(form["fields"]["policy"]))
    assert ["content-length-range", 0, 50 * 2**20] in policy["conditions"]
