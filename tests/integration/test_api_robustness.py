"""Bad input never yields a 500 (SPEC 'Interfaces', HTTP): fuzzed and hostile requests.

One server serves the whole module (hypothesis runs many examples against it); each
hostile case runs as its own user so that what one case stores cannot affect another.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from api_server import LiveApi, assert_envelope, live_api
from hypothesis import given, settings
from hypothesis import strategies as st

FUZZ = settings(max_examples=60, derandomize=True, database=None)
VALID = {"name": "Ok Person", "email": "ok@example.com", "optIn": True, "interests": ["x"]}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    data_dir = Path(tmp_path_factory.mktemp("robustness")) / "data"
    # A high login limit keeps the fuzzed logins reaching the password check.
    with live_api(data_dir, login_attempts=1_000_000) as running:
        yield running


@pytest.fixture(scope="module")
def fuzzer(api: LiveApi) -> Iterator[httpx.Client]:
    with api.client("fuzzer", keepalive=False) as client:
        yield client


def assert_answered(response: httpx.Response, allowed: set[int]) -> Any:
    """No 5xx; the status is one of `allowed`; any error is the envelope. Returns the body."""
    request = f"{response.request.method} {response.request.url.path}"
    problem = (request, response.status_code, response.text[:300])
    assert response.status_code < 500, problem
    assert response.status_code in allowed, problem
    if response.status_code >= 400:
        assert_envelope(response, response.status_code)
        return None
    return response.json()


def cursor_of(value: Any) -> str:
    """A cursor in the service's own encoding (urlsafe base64 of JSON, unpadded)."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


# --- strategies ------------------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
field_values = {
    "name": st.text(max_size=30) | json_values,
    "email": st.emails() | st.text(max_size=30) | json_values,
    "optIn": st.booleans() | json_values,
    "interests": st.lists(st.text(max_size=10), max_size=3) | json_values,
}
records = st.fixed_dictionaries({}, optional=field_values).flatmap(
    lambda known: st.dictionaries(st.text(max_size=8), json_values, max_size=2).map(
        lambda extra: {**extra, **known}
    )
)
record_bodies = st.lists(records | json_values, min_size=0, max_size=6) | json_values
texts = st.text(max_size=60)


# --- fuzzing ---------------------------------------------------------------------------------


@FUZZ
@given(body=record_bodies)
def test_fuzzed_record_bodies_never_500(fuzzer: httpx.Client, body: Any) -> None:
    response = fuzzer.post("/v1/records", content=json.dumps(body, ensure_ascii=False))
    summary = assert_answered(response, {200, 422})
    if summary is None:
        assert response.json()["error"]["code"] == "invalid_body"
        assert not (isinstance(body, list) and body)
        return
    assert isinstance(body, list) and body
    assert summary["received"] == len(body)
    assert summary["valid"] + len(summary["invalid"]) == len(body)
    assert summary["valid"] == summary["saved"] + summary["ignored"] + summary["duplicates"]
    assert all(item["errors"] for item in summary["invalid"])


@FUZZ
@given(content=st.binary(max_size=200) | texts.map(str.encode))
def test_fuzzed_raw_record_bytes_never_500(fuzzer: httpx.Client, content: bytes) -> None:
    response = fuzzer.post("/v1/records", content=content)
    assert_answered(response, {200, 400, 422})


@settings(FUZZ, max_examples=40)
@given(
    body=st.fixed_dictionaries(
        {}, optional={"username": texts | json_values, "password": texts | json_values}
    )
    | json_values
)
def test_fuzzed_login_bodies_never_500(api: LiveApi, body: Any) -> None:
    with api.client(keepalive=False) as client:
        response = client.post("/v1/auth/token", content=json.dumps(body, ensure_ascii=False))
    assert_answered(response, {400, 401, 422})


@settings(FUZZ, max_examples=30)
@given(form=st.dictionaries(st.sampled_from(["username", "password", "other"]), texts))
def test_fuzzed_login_forms_never_500(api: LiveApi, form: dict[str, str]) -> None:
    with api.client(keepalive=False) as client:
        response = client.post("/v1/auth/token", data=form)
    assert_answered(response, {401, 422})


lead_params = st.fixed_dictionaries(
    {},
    optional={
        "q": texts,
        "company": texts,
        "source": st.sampled_from(["api", "upload", "inbox"]) | texts,
        "sort": st.sampled_from(["name", "-createdAt", "company", "-email"]) | texts,
        "cursor": texts | json_values.map(cursor_of),
        "limit": st.integers(-5, 600).map(str) | texts,
    },
)


@FUZZ
@given(params=lead_params)
def test_fuzzed_lead_queries_never_500(fuzzer: httpx.Client, params: dict[str, str]) -> None:
    body = assert_answered(fuzzer.get("/v1/leads", params=params), {200, 422})
    if body is not None:
        assert set(body) == {"items", "nextCursor"}


@FUZZ
@given(
    params=st.fixed_dictionaries(
        {},
        optional={
            "limit": st.integers(-5, 1200).map(str) | texts,
            "before": st.integers(-5, 10**6).map(str) | texts,
            "importId": texts,
        },
    )
)
def test_fuzzed_error_log_queries_never_500(fuzzer: httpx.Client, params: dict[str, str]) -> None:
    body = assert_answered(fuzzer.get("/v1/errors", params=params), {200, 422})
    if body is not None:
        assert set(body) == {"items", "nextBefore"}


@FUZZ
@given(lead_id=st.text(min_size=1, max_size=80).filter(lambda s: s not in (".", "..")))
def test_fuzzed_lead_ids_never_500(fuzzer: httpx.Client, lead_id: str) -> None:
    response = fuzzer.get("/v1/leads/" + quote(lead_id, safe=""))
    assert_answered(response, {404})


# --- hostile bodies, each then read back ------------------------------------------------------

DEEP = 100_000
HOSTILE_RECORD_BODIES: dict[str, bytes] = {
    "deeply nested list": b"[" * DEEP + b"]" * DEEP,
    "deeply nested object": b'[{"a":' * DEEP + b"1" + b"}]" * DEEP,
    "record nested 400 deep": b'[{"name":' + b"[" * 400 + b"]" * 400 + b"}]",
    "valid record with an attribute nested 400 deep": b'[{"name":"Deep Attr",'
    b'"email":"deep@example.com","optIn":true,"interests":["x"],"extra":'
    + b"[" * 400
    + b"]" * 400
    + b"}]",
    "lone surrogate in a name": b'[{"name":"\\ud800 x","email":"s@example.com","optIn":true,'
    b'"interests":["x"]}]',
    "lone surrogate in an email": b'[{"name":"a","email":"\\udfff@example.com","optIn":true,'
    b'"interests":["x"]}]',
    "lone surrogate in a key": b'[{"\\ud800":"a"}]',
    "lone surrogate in an interest": b'[{"name":"a","email":"i@example.com","optIn":true,'
    b'"interests":["\\ud834"]}]',
    "NaN and Infinity": b'[{"name":NaN,"email":Infinity,"optIn":-Infinity,"interests":[NaN]}]',
    "NaN attribute on a valid record": b'[{"name":"Nan Ok","email":"nan@example.com",'
    b'"optIn":true,"interests":["x"],"score":NaN}]',
    "huge integer": b'[{"name":' + b"9" * 4000 + b"}]",
    "too many digits": b"[" + b"9" * 5000 + b"]",
    "float overflow": b'[{"name":1e999}]',
    "one megabyte name": json.dumps([{**VALID, "name": "N" * 1_000_000}]).encode(),
    "many records": json.dumps(
        [{**VALID, "email": f"m{i}@example.com"} for i in range(3000)]
    ).encode(),
    "nulls": b'[null, {"name":null,"email":null,"optIn":null,"interests":null}]',
    "NUL characters": json.dumps([{**VALID, "name": "a\x00b", "email": "nul\x00@x.com"}]).encode(),
    "BOM": b"\xef\xbb\xbf" + json.dumps([VALID]).encode(),
    "UTF-16": json.dumps([VALID]).encode("utf-16"),
    "control and bidi characters": json.dumps([{**VALID, "name": "\u202e\u0007\ufeff"}]).encode(),
}


@pytest.mark.parametrize("case", HOSTILE_RECORD_BODIES)
def test_hostile_record_bodies_never_500_and_leave_the_api_readable(
    api: LiveApi, case: str
) -> None:
    user = "hostile-" + case.replace(" ", "-")
    with api.client(user, keepalive=False) as client:
        posted = client.post(
            "/v1/records",
            content=HOSTILE_RECORD_BODIES[case],
            headers={"Content-Type": "application/json"},
        )
        assert_answered(posted, {200, 400, 422})
        # What was accepted must not poison later reads of the error log or the leads.
        errors = assert_answered(client.get("/v1/errors"), {200})
        leads = assert_answered(client.get("/v1/leads"), {200})
    if posted.status_code == 200:
        summary = posted.json()
        assert len(errors["items"]) == len(summary["invalid"])
        assert len(leads["items"]) == min(summary["saved"], 50)


HOSTILE_LOGIN_BODIES: dict[str, bytes] = {
    "deeply nested list": b"[" * DEEP + b"]" * DEEP,
    "deeply nested value": b'{"username":' + b"[" * DEEP + b"]" * DEEP + b"}",
    "lone surrogate username": b'{"username":"\\ud800","password":"x"}',
    "NaN password": b'{"username":"alice","password":NaN}',
    "huge username": json.dumps({"username": "u" * 100_000, "password": "x"}).encode(),
    "huge password": json.dumps({"username": "alice", "password": "p" * 100_000}).encode(),
    "NUL username": json.dumps({"username": "alice\x00", "password": "x"}).encode(),
    "invalid UTF-8": b'{"username":"\xff\xfe","password":"x"}',
    "too many digits": b'{"username":' + b"9" * 5000 + b"}",
}


@pytest.mark.parametrize("case", HOSTILE_LOGIN_BODIES)
def test_hostile_login_bodies_never_500(api: LiveApi, case: str) -> None:
    with api.client(keepalive=False) as client:
        response = client.post(
            "/v1/auth/token",
            content=HOSTILE_LOGIN_BODIES[case],
            headers={"Content-Type": "application/json"},
        )
    assert_answered(response, {400, 401, 422})


CRAFTED_QUERIES: dict[str, tuple[str, dict[str, str]]] = {
    "cursor seq over 64 bits": ("/v1/leads", {"cursor": cursor_of(["", 2**70])}),
    "cursor seq under -64 bits": (
        "/v1/leads",
        {"cursor": cursor_of(["", -(2**70)]), "sort": "-createdAt"},
    ),
    "cursor value over 64 bits": ("/v1/leads", {"cursor": cursor_of([2**70, 5]), "sort": "name"}),
    "cursor value a list": ("/v1/leads", {"cursor": cursor_of([[1, 2], 5]), "sort": "name"}),
    "cursor value an object": (
        "/v1/leads",
        {"cursor": cursor_of([{"a": 1}, 5]), "sort": "company"},
    ),
    "cursor value null": ("/v1/leads", {"cursor": cursor_of([None, 5]), "sort": "email"}),
    "cursor seq a boolean": ("/v1/leads", {"cursor": cursor_of([1.5, True]), "sort": "lastName"}),
    "cursor very long": ("/v1/leads", {"cursor": "W" * 5000}),
    "leads limit 10**30": ("/v1/leads", {"limit": str(10**30)}),
    "errors before 10**25": ("/v1/errors", {"before": str(10**25)}),
    "errors before 2**63": ("/v1/errors", {"before": str(2**63)}),
    "errors limit 10**30": ("/v1/errors", {"limit": str(10**30)}),
    "errors before -1": ("/v1/errors", {"before": "-1"}),
}


@pytest.mark.parametrize("case", CRAFTED_QUERIES)
def test_crafted_query_values_never_500(api: LiveApi, case: str) -> None:
    path, params = CRAFTED_QUERIES[case]
    with api.client("crafted", keepalive=False) as client:
        response = client.get(path, params=params)
    assert_answered(response, {200, 422})
