"""The filesystem blob store and signed, expiring download links served by the API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_server import LiveApi, assert_envelope, live_api

from leadflow.adapters.fs_blobs import FsBlobStore
from leadflow.ports import BadBlobKey, BlobTooLarge
from leadflow.signed_urls import BadSignature, sign_blob_url, verify_blob_url


def test_a_blob_is_stored_whole_and_read_back(tmp_path: Path) -> None:
    store = FsBlobStore(tmp_path / "blobs")
    size = store.put_stream("results/job-1/result.csv", iter([b"a,b\n", b"1,2\n"]))
    assert size == 8
    with store.open("results/job-1/result.csv") as f:
        assert f.read() == b"a,b\n1,2\n"
    assert store.size("results/job-1/result.csv") == 8
    assert (
        store.local_path("results/job-1/result.csv") == tmp_path / "blobs/results/job-1/result.csv"
    )
    assert store.delete("results/job-1/result.csv")
    assert not store.delete("results/job-1/result.csv")
    assert store.size("results/job-1/result.csv") is None
    with pytest.raises(FileNotFoundError):
        store.open("results/job-1/result.csv")


def test_a_failed_write_leaves_nothing_under_the_key(tmp_path: Path) -> None:
    store = FsBlobStore(tmp_path / "blobs")
    store.put_stream("uploads/u1/file.csv", [b"old"])

    def broken() -> Iterator[bytes]:
        yield b"new data, half"
        raise OSError("the client went away")

    with pytest.raises(OSError):
        store.put_stream("uploads/u1/file.csv", broken())
    with store.open("uploads/u1/file.csv") as f:
        assert f.read() == b"old"  # the previous blob, untouched
    assert [p.name for p in (tmp_path / "blobs/uploads/u1").iterdir()] == ["file.csv"]


def test_a_blob_over_its_limit_is_not_stored(tmp_path: Path) -> None:
    store = FsBlobStore(tmp_path / "blobs")
    with pytest.raises(BlobTooLarge):
        store.put_stream("uploads/u2/big.csv", [b"x" * 600, b"x" * 600], max_bytes=1000)
    assert store.size("uploads/u2/big.csv") is None
    assert list((tmp_path / "blobs/uploads/u2").iterdir()) == []


@pytest.mark.parametrize(
    "key", ["", "../secret.key", "a/../../b", "/etc/passwd", "a//b", ".hidden", "a/.b", "a b", "é"]
)
def test_keys_that_could_escape_are_refused(tmp_path: Path, key: str) -> None:
    store = FsBlobStore(tmp_path / "blobs")
    with pytest.raises(BadBlobKey):
        store.put_stream(key, [b"x"])
    with pytest.raises(BadBlobKey):
        store.open(key)


def test_signatures_bind_key_and_expiry() -> None:
    url = sign_blob_url("s3cret", "results/a.csv", 60, now=1000.0)
    query = dict(part.split("=") for part in url.split("?")[1].split("&"))
    expires, sig = int(query["expires"]), query["sig"]
    assert expires == 1060
    verify_blob_url("s3cret", "results/a.csv", expires, sig, now=1059.0)
    for key, when, secret in (
        ("results/b.csv", 1059.0, "s3cret"),  # another file
        ("results/a.csv", 1061.0, "s3cret"),  # too late
        ("results/a.csv", 1059.0, "other"),  # another service's key
    ):
        with pytest.raises(BadSignature):
            verify_blob_url(secret, key, expires, sig, now=when)
    with pytest.raises(BadSignature):
        verify_blob_url("s3cret", "results/a.csv", expires + 3600, sig, now=1059.0)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[LiveApi]:
    with live_api(tmp_path / "data") as running:
        yield running


def test_a_signed_link_downloads_without_a_token(api: LiveApi) -> None:
    api.services.blobs.put_stream("results/job-9/result.csv", [b"leadId,outcome\n1,created\n"])
    link = sign_blob_url(api.services.secret, "results/job-9/result.csv", 300)
    with api.client() as client:
        response = client.get(link)
    assert response.status_code == 200
    assert response.content == b"leadId,outcome\n1,created\n"
    assert "result.csv" in response.headers["content-disposition"]


def test_tampered_expired_and_missing_links(api: LiveApi) -> None:
    api.services.blobs.put_stream("results/job-9/result.csv", [b"x"])
    good = sign_blob_url(api.services.secret, "results/job-9/result.csv", 300)
    expired = sign_blob_url(api.services.secret, "results/job-9/result.csv", -1)
    gone = sign_blob_url(api.services.secret, "results/job-8/result.csv", 300)
    escape = sign_blob_url(api.services.secret, "../secret.key", 300)
    with api.client() as client:
        assert_envelope(client.get(good.replace("job-9", "job-1")), 403, "forbidden")
        assert_envelope(client.get(good[:-4] + "0000"), 403, "forbidden")
        assert_envelope(client.get(expired), 403, "forbidden")
        assert "has expired" in client.get(expired).json()["error"]["message"]
        stale_and_bent = expired.replace("sig=", "sig=0")
        assert "has expired" in client.get(stale_and_bent).json()["error"]["message"]
        assert "not valid" in client.get(good[:-4] + "0000").json()["error"]["message"]
        assert_envelope(client.get(gone), 404, "not_found")
        assert client.get(escape).status_code in (403, 404)
        assert client.get("/v1/blobs/results/job-9/result.csv").status_code == 422
        bad = client.get("/v1/blobs/results/job-9/result.csv?expires=99999999999999999999&sig=a")
        assert bad.status_code == 422


def test_delete_prefix_removes_a_folder_of_blobs_and_nothing_else(tmp_path: Path) -> None:
    store = FsBlobStore(tmp_path / "blobs")
    for key in ("jobs/j1/parts/000000000.jsonl", "jobs/j1/parts/000005000.jsonl", "jobs/j1/x"):
        store.put_stream(key, [b"x"])
    store.put_stream("jobs/j10/parts/000000000.jsonl", [b"kept"])
    assert store.delete_prefix("jobs/j1/") == 3
    assert store.size("jobs/j1/x") is None
    assert store.size("jobs/j10/parts/000000000.jsonl") == 4  # a name that merely starts alike
    assert store.delete_prefix("jobs/j1/") == 0
    for bad in ("", "jobs/j1", "../", "jobs/../"):
        with pytest.raises(BadBlobKey):
            store.delete_prefix(bad)


def test_the_local_store_links_through_the_signed_route(api: LiveApi) -> None:
    store = FsBlobStore(api.services.settings.data_dir / "blobs")
    assert store.link("results/job-9/result.csv", 300) is None  # no secret: no link
    api.services.blobs.put_stream("results/job-9/result.csv", [b"a,b\n"])
    link = api.services.blobs.link("results/job-9/result.csv", 300, "leads (final).csv")
    assert link is not None and link.startswith("/v1/blobs/results/job-9/result.csv?")
    with api.client() as client:
        response = client.get(link)
        assert response.status_code == 200 and response.content == b"a,b\n"
        assert 'filename="leads_final_.csv"' in response.headers["content-disposition"]
        renamed = link.replace("name=leads", "name=other")  # the name is signed too
        assert_envelope(client.get(renamed), 403, "forbidden")
    with pytest.raises(BadBlobKey):
        api.services.blobs.link("../secret.key", 300)
