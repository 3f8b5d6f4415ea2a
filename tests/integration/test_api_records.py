"""POST /v1/records (seed 000's opt-in workflow) and GET /v1/errors over a real server.

SPEC 'Validation (seed 000)': a non-empty list; each record needs name (non-empty
string), email (valid address), optIn (boolean) and interests (list of >= 1 string),
with strict JSON types; every invalid record is kept in the schema-error log with its
position, the record as received and every failing field. 'Duplicates': last occurrence
wins; 'Opt-in routing': only optIn true is stored, the rest counted as ignored.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_server import LiveApi, assert_envelope, live_api
from prometheus_client.parser import text_string_to_metric_families

# seeds/000's "Live Testing" curl body, byte for byte.
SEED_CURL_BODY = (
    '[{"name": "John Doe", "email": "john.doe@example.com", "optIn": true, '
    '"interests": ["datascience", "python"]}]'
)
SEED_SUMMARY = {"received": 1, "valid": 1, "invalid": [], "duplicates": 0, "saved": 1, "ignored": 0}
SUMMARY_KEYS = {"received", "valid", "invalid", "duplicates", "saved", "ignored"}


def record(name: str, email: str, opt_in: bool = True, **extra: Any) -> dict[str, Any]:
    return {"name": name, "email": email, "optIn": opt_in, "interests": ["python"], **extra}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[LiveApi]:
    with live_api(tmp_path / "data") as running:
        yield running


@pytest.fixture
def alice(api: LiveApi) -> Iterator[httpx.Client]:
    with api.client("alice") as client:
        yield client


def all_leads(client: httpx.Client) -> list[dict[str, Any]]:
    response = client.get("/v1/leads", params={"limit": 500})
    assert response.status_code == 200, response.text
    assert response.json()["nextCursor"] is None
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def lead_by_email(client: httpx.Client, email: str) -> dict[str, Any]:
    matches = [lead for lead in all_leads(client) if lead["email"] == email]
    assert len(matches) == 1, (email, matches)
    return matches[0]


def errors_of(client: httpx.Client) -> list[dict[str, Any]]:
    response = client.get("/v1/errors")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


# --- the seed's example ----------------------------------------------------------------------


def test_the_seed_curl_example_saves_one_lead(alice: httpx.Client) -> None:
    response = alice.post(
        "/v1/records", content=SEED_CURL_BODY, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text
    assert response.json() == SEED_SUMMARY
    [lead] = all_leads(alice)
    assert lead["owner"] == "alice"
    assert lead["firstName"] == "John"
    assert lead["lastName"] == "Doe"
    assert lead["name"] == "John Doe"
    assert lead["email"] == "john.doe@example.com"
    assert lead["optIn"] is True
    assert lead["interests"] == ["datascience", "python"]
    assert lead["source"] == "api"
    assert lead["createdAt"] and lead["updatedAt"]
    assert errors_of(alice) == []


def test_the_seed_body_sent_like_curl_d_without_a_json_content_type(alice: httpx.Client) -> None:
    # `curl -d` without -H labels the body application/x-www-form-urlencoded.
    response = alice.post(
        "/v1/records",
        content=SEED_CURL_BODY,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text
    assert response.json() == SEED_SUMMARY


# --- a mixed body ----------------------------------------------------------------------------

MIXED_BODY: list[Any] = [
    record("First Version", " Mixed.Case@Example.COM ", interests_note="first"),
    {"name": "", "email": "nope", "optIn": "yes", "interests": "5"},
    record("Opted Out", "opt.out@example.com", opt_in=False),
    {"email": "only.email@example.com"},
    "not an object",
    {**record("Second Version", "mixed.case@example.com"), "interests": ["b", "c"]},
    record("Other Person", "other@example.com"),
    {"name": "Typed Wrong", "email": 42, "optIn": 1, "interests": [1, "x"]},
    {"name": "  ", "email": "n/a", "optIn": None, "interests": []},
]


def test_a_mixed_body_reports_every_failing_field_and_counts(alice: httpx.Client) -> None:
    response = alice.post("/v1/records", json=MIXED_BODY)
    assert response.status_code == 200, response.text
    summary = response.json()
    assert set(summary) == SUMMARY_KEYS
    assert summary["received"] == 9
    assert summary["valid"] == 4  # rows 0, 2, 5, 6
    assert summary["duplicates"] == 1  # row 0: its email is row 5's, in another case/spacing
    assert summary["saved"] == 2  # rows 5 and 6
    assert summary["ignored"] == 1  # row 2: optIn false
    failing = {
        item["index"]: [problem["field"] for problem in item["errors"]]
        for item in summary["invalid"]
    }
    assert [item["index"] for item in summary["invalid"]] == sorted(failing)
    assert {index: sorted(fields) for index, fields in failing.items()} == {
        1: ["email", "interests", "name", "optIn"],
        3: ["interests", "name", "optIn"],
        4: ["record"],
        7: ["email", "interests", "optIn"],
        8: ["email", "interests", "name", "optIn"],
    }
    for item in summary["invalid"]:
        assert len(item["errors"]) == len({p["field"] for p in item["errors"]})  # once each
        for problem in item["errors"]:
            assert set(problem) == {"field", "message"}
            assert isinstance(problem["message"], str) and problem["message"].strip()


def test_a_mixed_body_stores_the_last_occurrence_and_only_opted_in(alice: httpx.Client) -> None:
    assert alice.post("/v1/records", json=MIXED_BODY).status_code == 200
    leads = all_leads(alice)
    assert sorted(lead["email"] for lead in leads) == [
        "mixed.case@example.com",
        "other@example.com",
    ]
    winner = lead_by_email(alice, "mixed.case@example.com")
    assert winner["name"] == "Second Version"
    assert winner["firstName"] == "Second"
    assert winner["lastName"] == "Version"
    assert winner["interests"] == ["b", "c"]
    assert "interests_note" not in winner["attributes"]  # the earlier row left no trace
    assert alice.get("/v1/leads", params={"q": "opt.out"}).json()["items"] == []


def test_invalid_records_are_in_the_error_log_as_received(alice: httpx.Client) -> None:
    response = alice.post("/v1/records", json=MIXED_BODY)
    assert response.status_code == 200
    logged = {item["index"]: item for item in errors_of(alice)}
    assert sorted(logged) == [1, 3, 4, 7, 8]
    for index, item in logged.items():
        assert item["record"] == MIXED_BODY[index]  # the record as received, unchanged
        assert item["source"] == "api"
        assert item["createdAt"]
        reported = next(i for i in response.json()["invalid"] if i["index"] == index)
        assert item["errors"] == reported["errors"]
    assert len({item["importId"] for item in logged.values()}) == 1


def test_the_error_log_pages_newest_first(alice: httpx.Client) -> None:
    for number in range(3):
        body = [{"name": f"Bad {number}", "email": "nope", "optIn": True, "interests": ["x"]}]
        assert alice.post("/v1/records", json=body).json()["invalid"][0]["index"] == 0
    first = alice.get("/v1/errors", params={"limit": 2}).json()
    assert [item["record"]["name"] for item in first["items"]] == ["Bad 2", "Bad 1"]
    assert first["nextBefore"] is not None
    rest = alice.get("/v1/errors", params={"limit": 2, "before": first["nextBefore"]}).json()
    assert [item["record"]["name"] for item in rest["items"]] == ["Bad 0"]
    assert rest["nextBefore"] is None


def test_the_last_occurrence_wins_even_when_it_opts_out(alice: httpx.Client) -> None:
    body = [
        record("Early Yes", "flip@example.com", opt_in=True),
        record("Late No", "FLIP@example.com ", opt_in=False),
    ]
    response = alice.post("/v1/records", json=body)
    assert response.status_code == 200
    assert response.json() == {
        "received": 2,
        "valid": 2,
        "invalid": [],
        "duplicates": 1,
        "saved": 0,
        "ignored": 1,
    }
    assert all_leads(alice) == []


def test_opted_out_records_are_counted_as_ignored_and_not_stored(alice: httpx.Client) -> None:
    body = [record("No One", "no.one@example.com", opt_in=False), record("Yes One", "y@ex.com")]
    response = alice.post("/v1/records", json=body)
    assert response.json()["ignored"] == 1
    assert response.json()["saved"] == 1
    assert [lead["email"] for lead in all_leads(alice)] == ["y@ex.com"]


def test_unknown_record_fields_are_kept_as_attributes(alice: httpx.Client) -> None:
    body = [record("Kept Extra", "kept@example.com", utm={"source": "ads"}, score=7)]
    assert alice.post("/v1/records", json=body).json()["saved"] == 1
    lead = lead_by_email(alice, "kept@example.com")
    assert lead["attributes"] == {"utm": {"source": "ads"}, "score": 7}


def test_unicode_names_round_trip(alice: httpx.Client) -> None:
    name = "Zoë 山田 🚀"
    body = [record(name, "zoe@example.com")]
    assert alice.post("/v1/records", json=body).json()["saved"] == 1
    lead = lead_by_email(alice, "zoe@example.com")
    assert lead["name"] == name
    assert (lead["firstName"], lead["lastName"]) == ("Zoë", "山田 🚀")


# --- bodies that are not a list of records ---------------------------------------------------


@pytest.mark.parametrize("body", [[], {}, {"name": "x"}, "records", None, 5, True])
def test_a_body_that_is_not_a_non_empty_list_is_422_invalid_body(
    alice: httpx.Client, body: Any
) -> None:
    response = alice.post("/v1/records", content=json.dumps(body))
    assert_envelope(response, 422, "invalid_body")
    assert all_leads(alice) == []


@pytest.mark.parametrize(
    "content",
    [b"", b"[", b"not json", b'[{"name": "x",}]', b"[1] [2]", b'[{"name": "\xff\xfe"}]'],
)
def test_a_body_that_is_not_json_is_400_invalid_json(alice: httpx.Client, content: bytes) -> None:
    response = alice.post(
        "/v1/records", content=content, headers={"Content-Type": "application/json"}
    )
    assert_envelope(response, 400, "invalid_json")


# --- the body-size limit ---------------------------------------------------------------------


@pytest.fixture
def small_api(tmp_path: Path) -> Iterator[LiveApi]:
    with live_api(tmp_path / "data", max_body_bytes=2048) as running:
        yield running


def padded_body(size: int) -> bytes:
    """A valid one-record body of exactly `size` bytes."""
    base = json.dumps([record("Pad Ded", "pad@example.com", pad="")]).encode()
    body = json.dumps([record("Pad Ded", "pad@example.com", pad="x" * (size - len(base)))])
    assert len(body.encode()) == size
    return body.encode()


def chunks(data: bytes, size: int = 512) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def test_a_body_at_the_limit_is_accepted(small_api: LiveApi) -> None:
    with small_api.client("alice") as alice:
        response = alice.post("/v1/records", content=padded_body(2048))
    assert response.status_code == 200, response.text
    assert response.json()["saved"] == 1


def test_a_body_over_the_limit_is_413(small_api: LiveApi) -> None:
    with small_api.client("alice") as alice:
        response = alice.post("/v1/records", content=padded_body(2049))
        assert response.request.headers["content-length"] == "2049"
        assert_envelope(response, 413, "payload_too_large")
    with small_api.client("alice") as alice:
        assert all_leads(alice) == []


def test_a_chunked_body_over_the_limit_is_413(small_api: LiveApi) -> None:
    with small_api.client("alice") as alice:
        response = alice.post("/v1/records", content=chunks(padded_body(4096)))
        assert "content-length" not in response.request.headers
        assert response.request.headers["transfer-encoding"] == "chunked"
        assert_envelope(response, 413, "payload_too_large")
    with small_api.client("alice") as alice:
        assert all_leads(alice) == []


def test_a_chunked_body_under_the_limit_is_accepted(small_api: LiveApi) -> None:
    with small_api.client("alice") as alice:
        response = alice.post("/v1/records", content=chunks(padded_body(2000), 100))
    assert response.status_code == 200, response.text
    assert response.json()["saved"] == 1


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_the_login_body_is_limited_too(small_api: LiveApi, chunked: bool) -> None:
    body = json.dumps({"username": "alice", "password": "p" * 4000}).encode()
    with small_api.client() as client:
        response = client.post("/v1/auth/token", content=chunks(body) if chunked else body)
    assert_envelope(response, 413, "payload_too_large")


def _request_counts(client: httpx.Client) -> dict[tuple[str, str, str], float]:
    counts: dict[tuple[str, str, str], float] = {}
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            if sample.name == "leadflow_http_requests_total":
                labels = sample.labels
                counts[(labels["method"], labels["route"], labels["status"])] = sample.value
    return counts


def test_a_chunked_413_is_not_counted_as_a_500_in_metrics(small_api: LiveApi) -> None:
    with small_api.client("alice") as alice:
        before = _request_counts(alice)
        response = alice.post("/v1/records", content=chunks(padded_body(4096)))
        assert response.status_code == 413
    with small_api.client("alice") as alice:
        after = _request_counts(alice)
    server_errors = ("POST", "/v1/records", "500")
    too_large = ("POST", "/v1/records", "413")
    assert after.get(server_errors, 0) == before.get(server_errors, 0), "413 counted as 500"
    assert after.get(too_large, 0) == before.get(too_large, 0) + 1


def test_the_fast_route_answers_as_the_documented_operation(alice: httpx.Client) -> None:
    """POST /v1/records is served by a plain route ahead of FastAPI's: it stays in the
    OpenAPI document, other methods still get 405 with Allow, a missing token still 401,
    and the metrics name the route's template."""
    operation = alice.get("/openapi.json").json()["paths"]["/v1/records"]
    assert set(operation) == {"post"}
    assert operation["post"]["requestBody"]["content"]["application/json"]["schema"]["minItems"]
    wrong = alice.get("/v1/records")
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "POST"
    no_token = alice.post("/v1/records", content=SEED_CURL_BODY, headers={"Authorization": ""})
    assert_envelope(no_token, 401, "unauthorized")
    before = _request_counts(alice)
    assert alice.post("/v1/records", content=SEED_CURL_BODY).json() == SEED_SUMMARY
    after = _request_counts(alice)
    ok = ("POST", "/v1/records", "200")
    assert after.get(ok, 0) == before.get(ok, 0) + 1
