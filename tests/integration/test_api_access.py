"""HTTP API over a real loopback server: health, metrics, login, tokens and rate limits.

SPEC 'Access': every API call but health, metrics and login needs a bearer token;
failed logins and requests per user are rate-limited with 429 and Retry-After.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from api_server import PASSWORDS, LiveApi, assert_envelope, live_api
from prometheus_client.parser import text_string_to_metric_families

SEED_RECORD = {
    "name": "John Doe",
    "email": "john.doe@example.com",
    "optIn": True,
    "interests": ["datascience", "python"],
}
# Every /v1 endpoint that needs a token: (method, path, request keyword arguments).
PROTECTED: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/v1/leads", {}),
    ("GET", "/v1/leads?sort=-name&limit=5", {}),
    ("GET", f"/v1/leads/{uuid.uuid4()}", {}),
    ("POST", "/v1/records", {"json": [SEED_RECORD]}),
    ("GET", "/v1/errors", {}),
]


@pytest.fixture
def api(tmp_path: Path) -> Iterator[LiveApi]:
    with live_api(tmp_path / "data") as running:
        yield running


@pytest.fixture
def anonymous(api: LiveApi) -> Iterator[httpx.Client]:
    with api.client() as client:
        yield client


def login(client: httpx.Client, username: str, password: str) -> httpx.Response:
    return client.post("/v1/auth/token", json={"username": username, "password": password})


def request_counts(client: httpx.Client) -> dict[tuple[str, str, str], float]:
    """leadflow_http_requests_total by (method, route, status), read from /metrics."""
    response = client.get("/metrics")
    assert response.status_code == 200
    counts: dict[tuple[str, str, str], float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == "leadflow_http_requests_total":
                labels = sample.labels
                counts[(labels["method"], labels["route"], labels["status"])] = sample.value
    return counts


# --- health and metrics ----------------------------------------------------------------------


def test_healthz_needs_no_token(anonymous: httpx.Client) -> None:
    response = anonymous.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_metrics_is_prometheus_text_without_a_token(anonymous: httpx.Client) -> None:
    anonymous.get("/healthz")
    response = anonymous.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "# TYPE leadflow_http_requests_total counter" in response.text
    assert "leadflow_http_requests_total{" in response.text
    assert request_counts(anonymous)[("GET", "/healthz", "200")] >= 1


def test_metrics_label_routes_by_template_not_by_raw_id(api: LiveApi) -> None:
    lead_id = str(uuid.uuid4())
    with api.client("alice") as alice:
        before = request_counts(alice)
        assert alice.get(f"/v1/leads/{lead_id}").status_code == 404
        after = request_counts(alice)
        metrics_text = alice.get("/metrics").text
    key = ("GET", "/v1/leads/{lead_id}", "404")
    assert after[key] == before.get(key, 0) + 1
    assert lead_id not in metrics_text


# --- login -----------------------------------------------------------------------------------


def test_login_with_json_returns_a_bearer_token_that_works(api: LiveApi) -> None:
    with api.client() as client:
        response = login(client, "alice", PASSWORDS["alice"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    claims = jwt.decode(body["access_token"], api.services.secret, algorithms=["HS256"])
    assert claims["sub"] == "alice"
    assert claims["exp"] - claims["iat"] == 3600
    with api.client(token=body["access_token"]) as alice:
        listed = alice.get("/v1/leads")
    assert listed.status_code == 200
    assert listed.json() == {"items": [], "nextCursor": None}


def test_login_expires_in_follows_the_token_ttl_setting(tmp_path: Path) -> None:
    with live_api(tmp_path / "data", token_ttl_seconds=120) as api, api.client() as client:
        response = login(client, "bob", PASSWORDS["bob"])
    assert response.status_code == 200, response.text
    assert response.json()["expires_in"] == 120
    claims = jwt.decode(response.json()["access_token"], api.services.secret, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 120


def test_login_with_a_form_works(anonymous: httpx.Client) -> None:
    response = anonymous.post(
        "/v1/auth/token", data={"username": "alice", "password": PASSWORDS["alice"]}
    )
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "bearer"


def test_login_with_a_multipart_form_works(anonymous: httpx.Client) -> None:
    fields = {"username": (None, "bob"), "password": (None, PASSWORDS["bob"])}
    response = anonymous.post("/v1/auth/token", files=fields)
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "bearer"


def test_login_with_json_labelled_as_a_form_works_like_curl_d(anonymous: httpx.Client) -> None:
    body = f'{{"username": "alice", "password": "{PASSWORDS["alice"]}"}}'
    response = anonymous.post(
        "/v1/auth/token",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text


def test_wrong_password_and_unknown_user_answer_the_same_401(anonymous: httpx.Client) -> None:
    wrong = login(anonymous, "alice", "not-her-password")
    unknown = login(anonymous, "mallory", "whatever")
    wrong_error = assert_envelope(wrong, 401, "unauthorized")
    unknown_error = assert_envelope(unknown, 401, "unauthorized")
    assert wrong_error["message"] == unknown_error["message"]  # no user enumeration
    assert "access_token" not in wrong.text


@pytest.mark.parametrize(
    ("body", "missing"),
    [
        ({}, {"username", "password"}),
        ({"username": "alice"}, {"password"}),
        ({"password": "x"}, {"username"}),
        ({"username": "", "password": "x"}, {"username"}),
        ({"username": "alice", "password": ""}, {"password"}),
        ({"username": 5, "password": ["x"]}, {"username", "password"}),
    ],
)
def test_login_with_missing_or_bad_fields_is_422(
    anonymous: httpx.Client, body: dict[str, Any], missing: set[str]
) -> None:
    error = assert_envelope(anonymous.post("/v1/auth/token", json=body), 422, "invalid_request")
    assert isinstance(error["details"], list)
    assert {detail["field"] for detail in error["details"]} == missing


@pytest.mark.parametrize("content", [b"", b"null", b"[]", b'"alice"', b"42", b'{"user": "alice"}'])
def test_login_with_json_that_is_no_credentials_is_422(
    anonymous: httpx.Client, content: bytes
) -> None:
    response = anonymous.post(
        "/v1/auth/token", content=content, headers={"Content-Type": "application/json"}
    )
    assert_envelope(response, 422, "invalid_request")


@pytest.mark.parametrize("content", [b"{not json", b"username=alice", b'{"username": "a",}'])
def test_login_with_a_body_that_is_not_json_is_400(anonymous: httpx.Client, content: bytes) -> None:
    response = anonymous.post(
        "/v1/auth/token", content=content, headers={"Content-Type": "application/json"}
    )
    assert_envelope(response, 400, "invalid_json")


def test_failed_logins_are_throttled_with_retry_after(tmp_path: Path) -> None:
    with live_api(tmp_path / "data", login_attempts=3) as api, api.client() as client:
        for _ in range(3):
            assert_envelope(login(client, "alice", "wrong"), 401, "unauthorized")
        throttled = login(client, "alice", "wrong")
        # Locked out: even the right password waits until the window has passed.
        still_throttled = login(client, "alice", PASSWORDS["alice"])
    for response in (throttled, still_throttled):
        assert_envelope(response, 429, "too_many_requests")
        assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_the_right_password_below_the_limit_still_logs_in(tmp_path: Path) -> None:
    with live_api(tmp_path / "data", login_attempts=3) as api, api.client() as client:
        for _ in range(2):
            assert_envelope(login(client, "bob", "wrong"), 401, "unauthorized")
        response = login(client, "bob", PASSWORDS["bob"])
    assert response.status_code == 200, response.text


# --- tokens on every protected endpoint ------------------------------------------------------


def _expired(api: LiveApi) -> dict[str, str]:
    now = int(time.time())
    claims = {"sub": "alice", "iat": now - 7200, "exp": now - 3600}
    return {"Authorization": "Bearer " + jwt.encode(claims, api.services.secret, "HS256")}


def _forged(api: LiveApi) -> dict[str, str]:
    now = int(time.time())
    claims = {"sub": "alice", "iat": now, "exp": now + 3600}
    return {"Authorization": "Bearer " + jwt.encode(claims, "not-the-secret-" * 4, "HS256")}


def _no_expiry(api: LiveApi) -> dict[str, str]:
    claims = {"sub": "alice", "iat": int(time.time())}
    return {"Authorization": "Bearer " + jwt.encode(claims, api.services.secret, "HS256")}


def _unsigned(api: LiveApi) -> dict[str, str]:
    claims = {"sub": "alice", "exp": int(time.time()) + 3600}
    return {"Authorization": "Bearer " + jwt.encode(claims, None, algorithm="none")}


AUTH_CASES: dict[str, Callable[[LiveApi], dict[str, str]]] = {
    "no header": lambda api: {},
    "bearer without a token": lambda api: {"Authorization": "Bearer"},
    "basic scheme": lambda api: {"Authorization": "Basic YWxpY2U6c2VjcmV0"},
    "raw token without scheme": lambda api: {"Authorization": api.token("alice")},
    "garbage token": lambda api: {"Authorization": "Bearer not.a.jwt"},
    "expired token": _expired,
    "token signed with another key": _forged,
    "token without exp": _no_expiry,
    "unsigned token": _unsigned,
}


@pytest.mark.parametrize("case", AUTH_CASES)
def test_every_v1_endpoint_answers_401_without_a_valid_token(api: LiveApi, case: str) -> None:
    headers = AUTH_CASES[case](api)
    with api.client() as client:
        for method, path, kwargs in PROTECTED:
            response = client.request(method, path, headers=headers, **kwargs)
            assert_envelope(response, 401, "unauthorized")
            assert response.headers["WWW-Authenticate"] == "Bearer", (method, path)
    with api.client("alice") as alice:
        assert alice.get("/v1/leads").json()["items"] == []  # the POST stored nothing


def test_an_expired_token_says_so(api: LiveApi) -> None:
    with api.client() as client:
        response = client.get("/v1/leads", headers=_expired(api))
    error = assert_envelope(response, 401, "unauthorized")
    assert "expired" in error["message"]


def test_a_valid_token_opens_every_v1_endpoint(api: LiveApi) -> None:
    with api.client("alice") as alice:
        for method, path, kwargs in PROTECTED:
            response = alice.request(method, path, **kwargs)
            assert response.status_code in (200, 404), (method, path, response.text)


# --- per-user rate limit ---------------------------------------------------------------------


def test_the_rate_limit_answers_429_with_retry_after_per_user(tmp_path: Path) -> None:
    with live_api(tmp_path / "data", rate_limit=3) as api:
        with api.client("alice") as alice:
            statuses = [alice.get("/v1/leads").status_code for _ in range(3)]
            limited = alice.get("/v1/errors")
        with api.client("bob") as bob:
            bob_status = bob.get("/v1/leads").status_code
        with api.client() as anonymous:
            health = [anonymous.get("/healthz").status_code for _ in range(5)]
    assert statuses == [200, 200, 200]
    assert_envelope(limited, 429, "too_many_requests")
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert bob_status == 200  # the limit is per user
    assert health == [200] * 5  # health is not rate-limited


def test_rate_limit_zero_turns_it_off(api: LiveApi) -> None:
    assert api.services.settings.rate_limit == 0
    with api.client("alice") as alice:
        statuses = {alice.get("/v1/leads").status_code for _ in range(30)}
    assert statuses == {200}
