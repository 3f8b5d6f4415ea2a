"""Presigned S3 links and forms used for real: a moto server on loopback serves them
(the in-process mock only intercepts botocore), fetched and posted with httpx."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from leadflow.adapters.s3_blobs import S3BlobStore, content_disposition

REGION = "us-east-1"


@pytest.fixture
def s3_server() -> Iterator[Any]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        s3 = boto3.client("s3", region_name=REGION, endpoint_url=f"http://127.0.0.1:{port}")
        s3.create_bucket(Bucket="served-blobs")
        yield s3
    finally:
        server.stop()


def test_a_presigned_link_downloads_under_its_name(s3_server: Any) -> None:
    store = S3BlobStore(s3_server, "served-blobs")
    store.put_stream("results/j1/leads.csv", [b"email\n", b"ann@x.io\n"])
    url = store.link("results/j1/leads.csv", 300, "leads – März.csv")
    assert url is not None
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.content == b"email\nann@x.io\n"
    assert response.headers["content-disposition"] == content_disposition("leads – März.csv")


def test_a_browser_upload_through_the_presigned_form(s3_server: Any) -> None:
    store = S3BlobStore(s3_server, "served-blobs")
    form = store.upload_form("uploads/u1/big.csv", 1024, 600, "text/csv")
    response = httpx.post(
        form["url"],
        data=form["fields"],
        files={"file": ("big.csv", b"email\nann@x.io\n", "text/csv")},
    )
    assert response.status_code in (200, 201, 204), response.text
    assert store.size("uploads/u1/big.csv") == 15
    with store.open("uploads/u1/big.csv") as stream:
        assert stream.read() == b"email\nann@x.io\n"
