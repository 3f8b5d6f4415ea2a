"""Issue 10 points 2 and 5: no 500 on bad input, a usable connection after any error,
size-limited headers, signed links from the public URL, offline docs and documented errors.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_server import LiveApi, assert_envelope, live_api, make_services, run_server
from test_jobs import drain, upload

from leadflow.api.app import create_app

VALID = {"name": "Ok Person", "email": "ok@example.com", "optIn": True, "interests": ["x"]}
ERROR_STATUSES = {"400", "401", "403", "404", "409", "413", "422", "429"}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    services = make_services(Path(tmp_path_factory.mktemp("hardening")) / "data")
    app = create_app(services)

    # under /v1/: an API address (anything else is the web app's, answered as a page)
    @app.get("/v1/test-only/bug", include_in_schema=False)
    def bug() -> None:  # stands for any bug the fuzzers have not found yet
        raise RuntimeError("a bug")

    with run_server(services, app) as base_url:
        yield LiveApi(base_url, services)


def test_a_non_ascii_signature_is_403(api: LiveApi) -> None:
    with api.client() as client:
        response = client.get("/v1/blobs/x", params={"expires": 1, "sig": "é"})
        assert_envelope(response, 403, "forbidden")
        response = client.get("/v1/blobs/x?expires=1&sig=%C3%A9%00%FF")
        assert response.status_code in (403, 422), response.text


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/records", '[{"name": "A", "email": "a@x.io", "optIn": true, "interests": ["x"], '
         '"score": 1e400}]'),
        ("/v1/orders", '{"orders": [{"order-info": {"orderId": "1", "item-id": "a", '
         '"qty": 1e400}, "contact-info": {"name": "A", "email": "a@x.io"}}]}'),
        ("/v1/process", '{"contacts": [{"email": "a@x.io", "n": -1e400}]}'),
        ("/v1/chat", '{"question": "how many leads?", "n": 1E999}'),
        ("/v1/dlq/redrive", '{"ids": [1e400]}'),
        ("/v1/auth/token", '{"username": "alice", "password": 2e308}'),
    ],
)  # fmt: skip
def test_a_number_that_overflows_is_refused_with_its_reason(
    api: LiveApi, path: str, body: str
) -> None:
    with api.client("alice") as client:
        response = client.post(path, content=body, headers={"content-type": "application/json"})
    error = assert_envelope(response, 400, "number_out_of_range")
    assert "out of range" in error["message"]
    with api.client("alice") as client:  # and nothing was stored as null
        assert client.get("/v1/leads").json()["items"] == []


def test_integers_keep_their_value_up_to_the_digit_limit(api: LiveApi) -> None:
    huge = "9" * 4000
    record = (
        f'[{{"name": "Big", "email": "big@x.io", "optIn": true, "interests": ["x"], "n": {huge}}}]'
    )
    with api.client("carol") as client:
        response = client.post("/v1/records", content=record)
        assert response.status_code == 200, response.text
        assert response.json()["saved"] == 1
        too_long = record.replace(huge, "9" * 5000)
        error = assert_envelope(client.post("/v1/records", content=too_long), 400)
        assert error["code"] == "number_out_of_range" and "5,000 digits" in error["message"]


def _erroring_requests() -> list[tuple[str, dict[str, Any], int]]:
    return [
        ("GET", {"url": "/v1/test-only/bug"}, 500),
        ("POST", {"url": "/v1/records", "content": b"[1e400]"}, 400),
        ("POST", {"url": "/v1/records", "content": b"{not json"}, 400),
        ("GET", {"url": "/v1/blobs/x", "params": {"expires": 1, "sig": "é"}}, 403),
        ("GET", {"url": "/v1/status/nope"}, 404),
        ("POST", {"url": "/v1/status/nope/cancel"}, 404),
        ("POST", {"url": "/v1/records", "content": b"{}"}, 422),
        ("GET", {"url": "/v1/leads", "params": {"limit": "x"}}, 422),
        ("DELETE", {"url": "/v1/records"}, 405),
        ("POST", {"url": "/v1/records", "content": b"[" + b" " * (11 << 20) + b"]"}, 413),
        ("GET", {"url": "/v1/leads", "headers": {"X-Big": "x" * 20_000}}, 431),
        ("GET", {"url": "/v1/leads", "headers": {"Authorization": "Bearer forged"}}, 401),
    ]


@pytest.mark.parametrize(("method", "options", "status"), _erroring_requests())
def test_the_connection_stays_usable_after_an_error(
    api: LiveApi, method: str, options: dict[str, Any], status: int
) -> None:
    with api.client("alice") as client:
        assert client.get("/v1/leads").status_code == 200  # the connection is open
        response = client.request(method, **options)
        assert response.status_code == status, response.text
        assert_envelope(response, status)
        assert "Traceback" not in response.text
        for _ in range(3):  # the same client (and its pooled connection) goes on
            assert client.post("/v1/records", json=[VALID]).status_code == 200


def test_a_bug_answers_the_envelope_and_keeps_the_same_connection(api: LiveApi) -> None:
    peers: list[Any] = []

    def remember_peer(response: httpx.Response) -> None:
        stream = response.extensions["network_stream"]
        peers.append(stream.get_extra_info("client_addr"))

    with httpx.Client(base_url=api.base_url, event_hooks={"response": [remember_peer]}) as client:
        assert client.get("/healthz").status_code == 200
        error = assert_envelope(client.get("/v1/test-only/bug"), 500, "internal_error")
        assert "a bug" not in error["message"]
        assert client.get("/healthz").status_code == 200
    assert len(set(peers)) == 1, peers  # one TCP connection served all three


def test_headers_over_the_limit_are_431(api: LiveApi) -> None:
    with api.client("alice") as client:
        many = {f"X-H{i}": "v" * 100 for i in range(200)}
        assert_envelope(client.get("/v1/leads", headers=many), 431, "headers_too_large")
        assert client.get("/v1/leads", headers={"X-Small": "v" * 100}).status_code == 200


def test_signed_links_come_from_the_public_url_not_the_host_header(tmp_path: Path) -> None:
    public = "https://crm.example.com/leadflow"
    with live_api(tmp_path / "data", public_url=public + "/") as api:
        with api.client("alice") as client:
            job_id = upload(client, "Name,Email\nAnn,ann@x.io\n")
            drain(api)
            status = client.get(f"/v1/status/{job_id}", headers={"Host": "evil.example"}).json()
    assert status["resultUrl"].startswith(public + "/v1/blobs/"), status["resultUrl"]
    assert "evil" not in json.dumps(status)


def test_without_a_public_url_links_use_the_listening_address(tmp_path: Path) -> None:
    with live_api(tmp_path / "data") as api, api.client("alice") as client:
        job_id = upload(client, "Name,Email\nAnn,ann@x.io\n")
        drain(api)
        status = client.get(f"/v1/status/{job_id}", headers={"Host": "evil.example"}).json()
        assert status["resultUrl"].startswith(api.base_url + "/v1/blobs/")
        assert client.get(status["resultUrl"]).status_code == 200


def test_docs_and_redoc_load_their_assets_from_leadflow(api: LiveApi) -> None:
    with api.client() as client:
        for page in ("/docs", "/redoc"):
            html = client.get(page).text
            sources = re.findall(r'(?:src|href)="([^"]+)"', html)
            assert sources, html
            for source in sources:
                assert source.startswith("/"), (page, source)  # no CDN, no other host
                asset = client.get(source)
                assert asset.status_code == 200, source
                assert len(asset.content) > 1000 or source.endswith(".png"), source
            assert "cdn" not in html.lower()


def test_the_openapi_document_lists_every_error_answer_with_the_envelope(api: LiveApi) -> None:
    with api.client() as client:
        document = client.get("/openapi.json").json()
    envelope = document["components"]["schemas"]["ErrorEnvelope"]
    assert envelope["required"] == ["error"]
    listed: set[str] = set()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            errors = {code: r for code, r in responses.items() if code.startswith("4")}
            assert "422" in errors, (method, path)
            for response in errors.values():
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorEnvelope"}
            if path.startswith("/v1/") and path != "/v1/auth/token" and "blobs" not in path:
                assert {"401", "429"} <= set(errors), (method, path)
            listed |= set(errors)
    assert ERROR_STATUSES <= listed
    blobs = document["paths"]["/v1/blobs/{key}"]["get"]["responses"]
    assert {"403", "404"} <= set(blobs)
    cancel = document["paths"]["/v1/status/{job_id}/cancel"]["post"]["responses"]
    assert {"404", "409"} <= set(cancel)
