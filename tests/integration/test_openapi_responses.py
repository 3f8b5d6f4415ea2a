"""Issue 9 point 6: every API route declares its response, and real answers fit it.

/openapi.json must give each operation's 2xx answer a media type with a schema (a named
model for JSON answers, not a bare object), and answers of a real server, after real
work (records, an upload run to completion, an undo, orders, the DLQ, the chatbot),
must validate against the schema the document gives for them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest
from api_server import LiveApi, live_api
from test_jobs import drain, upload

CSV = "First Name,Last Name,Email,Phone\nJohn,Doe,john@example.com,415-555-0134\nBad,Row,nope,\n"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    with live_api(Path(tmp_path_factory.mktemp("openapi")) / "data") as running:
        yield running


@pytest.fixture(scope="module")
def document(api: LiveApi) -> dict[str, Any]:
    answer = httpx.get(api.base_url + "/openapi.json")
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    return body


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def test_every_operation_documents_a_schema_for_its_success_answer(
    document: dict[str, Any],
) -> None:
    missing = []
    for method, path, operation in operations(document):
        successes = {c: r for c, r in operation["responses"].items() if c.startswith("2")}
        assert successes, f"{method} {path} documents no 2xx answer"
        for code, response in successes.items():
            content = response.get("content") or {}
            if not content:
                missing.append(f"{method} {path} {code}: no content")
            for media, entry in content.items():
                schema = entry.get("schema") or {}
                named = "$ref" in schema  # a declared pydantic model
                if media == "application/json" and not named:
                    missing.append(f"{method} {path} {code} {media}: {schema or 'no schema'}")
                elif not schema:
                    missing.append(f"{method} {path} {code} {media}: no schema")
    assert missing == []
    assert len(list(operations(document))) >= 20


def check(document: dict[str, Any], path: str, method: str, answer: httpx.Response) -> Any:
    """Validate `answer` against the schema /openapi.json gives for it; its JSON."""
    responses = document["paths"][path][method.lower()]["responses"]
    schema = responses[str(answer.status_code)]["content"]["application/json"]["schema"]
    validator = jsonschema_rs.Draft202012Validator({**schema, "components": document["components"]})
    body = answer.json()
    errors = [f"{e.instance_path}: {e.message}" for e in validator.iter_errors(body)]
    assert errors == [], (method, path, body)
    return body


def test_real_answers_validate_against_the_document(api: LiveApi, document: dict[str, Any]) -> None:
    with api.client("alice") as alice:
        records = [
            {"name": "Ada Lovelace", "email": "ada@example.com", "optIn": True, "interests": ["x"]},
            {"name": "No Mail", "email": "nope", "optIn": True, "interests": ["y"]},
        ]
        check(document, "/v1/records", "POST", alice.post("/v1/records", json=records))
        job_id = upload(alice, CSV)
        check(document, "/v1/status/{job_id}", "GET", alice.get(f"/v1/status/{job_id}"))
        drain(api)
        status = check(document, "/v1/status/{job_id}", "GET", alice.get(f"/v1/status/{job_id}"))
        assert status["status"] == "completed" and "resultUrl" in status

        page = check(document, "/v1/leads", "GET", alice.get("/v1/leads", params={"limit": 1}))
        assert page["nextCursor"] is not None
        lead_id = page["items"][0]["leadId"]
        check(document, "/v1/leads/{lead_id}", "GET", alice.get(f"/v1/leads/{lead_id}"))
        errors = check(document, "/v1/errors", "GET", alice.get("/v1/errors"))
        assert len(errors["items"]) == 2

        undone = check(
            document, "/v1/uploads/{job_id}/undo", "POST", alice.post(f"/v1/uploads/{job_id}/undo")
        )
        assert undone["state"] == "done"
        check(document, "/v1/status/{job_id}", "GET", alice.get(f"/v1/status/{job_id}"))

        orders = {
            "orders": [
                {
                    "contact-info": {"name": "Foo Bar", "email": "foobar@test.com"},
                    "order-info": {"orderId": "1", "item-id": "101", "item-desc": "One", "qty": 1},
                },
                {"order-info": {"orderId": "2", "item-id": "102", "qty": "2"}},
            ]
        }
        stored = check(document, "/v1/orders", "POST", alice.post("/v1/orders", json=orders))
        assert stored["stored"] == 1 and len(stored["incomplete"]) == 1
        listed = check(document, "/v1/orders", "GET", alice.get("/v1/orders"))
        assert len(listed["items"]) == 1
        letters = check(document, "/v1/dlq", "GET", alice.get("/v1/dlq"))
        assert letters["depth"] >= 1
        chat = alice.post("/v1/chat", json={"question": "how many leads do I have?"})
        check(document, "/v1/chat", "POST", chat)
        started = alice.post("/v1/process", json={"contacts": [{"email": "c@d.co"}]})
        check(document, "/v1/process", "POST", started)
    health = httpx.get(api.base_url + "/healthz")
    check(document, "/healthz", "GET", health)
    ready = httpx.get(api.base_url + "/readyz")
    check(document, "/readyz", "GET", ready)


def test_answers_keep_their_fields_as_before_the_models(api: LiveApi) -> None:
    """The models add nothing: a status document has no result links before it completes,
    and an audit entry has restoredValues only when an undo wrote it."""
    with api.client("bob") as bob:
        job_id = upload(bob, CSV)
        status = bob.get(f"/v1/status/{job_id}").json()
        assert "resultUrl" not in status and "resultJsonUrl" not in status
        drain(api)
        upload(bob, CSV.replace("John,Doe", "Johnny,Doe"), "again.csv")  # an update
        drain(api)
        lead_id = bob.get("/v1/leads").json()["items"][0]["leadId"]
        history = bob.get(f"/v1/leads/{lead_id}").json()["history"]
        assert history and all("restoredValues" not in entry for entry in history)
