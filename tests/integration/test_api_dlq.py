"""HTTP API of the dead-letter queue over a real loopback server: list, redrive, purge.

SPEC 'Dead-letter queue': messages that failed maxReceiveCount (3) times, with their
last error, can be listed, redriven and purged. SPEC 'Access': a user sees only their
own DLQ entries, every call needs a bearer token, and bad input never yields a 500.
Dead letters are made through the server's own queue (services.queue, "batches").
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_server import LiveApi, assert_envelope, live_api

from leadflow.ports import Queue

LETTER_KEYS = {"id", "body", "receiveCount", "lastError", "owner", "createdAt", "deadAt"}
HUGE_IDS = [0, -1, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30]


def make_dead(queue: Queue, owner: str, bodies: list[dict[str, Any]], error: str) -> list[str]:
    """Send the bodies and fail them until they are dead, as a worker would."""
    ids = queue.send_many(bodies, owner=owner)
    for _ in range(3):
        for message in queue.receive(1000, 60):
            assert queue.fail(message, f"{error}: receive {message.receive_count}")
    return ids


@pytest.fixture
def api(tmp_path: Path) -> Iterator[LiveApi]:
    with live_api(tmp_path / "data") as running:
        yield running


@pytest.fixture
def dead(api: LiveApi) -> dict[str, list[str]]:
    """alice: two dead letters and one live message; bob: one dead letter."""
    queue = api.services.queue
    ids = {
        "alice": make_dead(queue, "alice", [{"batch": 1}, {"batch": 2, "rows": ["é"]}], "smtp"),
        "bob": make_dead(queue, "bob", [{"batch": 3}], "slack"),
    }
    ids["live"] = queue.send_many([{"batch": 4}], owner="alice")
    assert (api.services.dead_letters.depth(), queue.depth()) == (3, 1)
    return ids


@pytest.fixture
def alice(api: LiveApi) -> Iterator[httpx.Client]:
    with api.client("alice", keepalive=False) as client:
        yield client


@pytest.fixture
def bob(api: LiveApi) -> Iterator[httpx.Client]:
    with api.client("bob", keepalive=False) as client:
        yield client


def listed(client: httpx.Client) -> tuple[list[str], int]:
    response = client.get("/v1/dlq")
    assert response.status_code == 200, response.text
    body = response.json()
    return [item["id"] for item in body["items"]], body["depth"]


def redrive(client: httpx.Client, **kwargs: Any) -> httpx.Response:
    return client.post("/v1/dlq/redrive", **kwargs)


# --- listing ---------------------------------------------------------------------------------


def test_list_shows_only_the_callers_dead_letters(
    alice: httpx.Client, bob: httpx.Client, dead: dict[str, list[str]]
) -> None:
    response = alice.get("/v1/dlq")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"items", "depth"}
    assert body["depth"] == 2
    items = body["items"]
    assert [item["id"] for item in items] == sorted(dead["alice"], key=int, reverse=True)
    for item in items:
        assert set(item) == LETTER_KEYS
        assert item["owner"] == "alice"
        assert item["receiveCount"] == 3
        assert item["lastError"] == "smtp: receive 3"
    assert {item["id"]: item["body"] for item in items}[dead["alice"][1]] == {
        "batch": 2,
        "rows": ["é"],
    }
    assert "slack" not in response.text

    assert listed(bob) == (dead["bob"], 1)
    assert "smtp" not in bob.get("/v1/dlq").text


def test_list_limit(alice: httpx.Client, dead: dict[str, list[str]]) -> None:
    body = alice.get("/v1/dlq", params={"limit": 1}).json()
    assert [item["id"] for item in body["items"]] == [max(dead["alice"])]
    assert body["depth"] == 2, "depth counts them all"
    for bad in ("0", "1001", "x", "-1", str(2**64)):
        assert_envelope(alice.get("/v1/dlq", params={"limit": bad}), 422)


def test_an_empty_dlq(api: LiveApi, alice: httpx.Client) -> None:
    api.services.queue.send_many([{"batch": 1}], owner="alice")  # alive
    assert alice.get("/v1/dlq").json() == {"items": [], "depth": 0}
    assert redrive(alice).json() == {"redriven": 0}
    assert alice.delete("/v1/dlq").json() == {"purged": 0}


# --- redrive ---------------------------------------------------------------------------------


def test_redrive_without_a_body_moves_all_the_callers_letters(
    api: LiveApi, alice: httpx.Client, bob: httpx.Client, dead: dict[str, list[str]]
) -> None:
    response = redrive(alice)
    assert response.status_code == 200
    assert response.json() == {"redriven": 2}
    assert listed(alice) == ([], 0)
    assert listed(bob) == (dead["bob"], 1), "bob's letters stay where they are"
    counts = {m.id: m.receive_count for m in api.services.queue.receive(10, 60)}
    assert counts == dict.fromkeys([*dead["alice"], *dead["live"]], 1), "fresh receive counts"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"content": b""},
        {"content": b"  \n", "headers": {"content-type": "application/json"}},
        {"json": {}},
        {"json": {"ids": None}},
    ],
    ids=["no-body", "blank", "empty-object", "null-ids"],
)
def test_redrive_everything_forms(
    alice: httpx.Client, dead: dict[str, list[str]], kwargs: dict[str, Any]
) -> None:
    assert redrive(alice, **kwargs).json() == {"redriven": 2}


def test_redrive_by_ids(alice: httpx.Client, bob: httpx.Client, dead: dict[str, list[str]]) -> None:
    first, second = dead["alice"]
    response = redrive(alice, json={"ids": [first, *dead["bob"], *dead["live"]]})
    assert response.json() == {"redriven": 1}, "only alice's dead letters move"
    assert listed(alice) == ([second], 1)
    assert listed(bob) == (dead["bob"], 1)
    assert redrive(alice, json={"ids": []}).json() == {"redriven": 0}
    assert redrive(alice, json={"ids": [first]}).json() == {"redriven": 0}, "no longer dead"
    assert redrive(bob, json={"ids": [second]}).json() == {"redriven": 0}, "not bob's"
    assert listed(alice) == ([second], 1)


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b"{",
        b'"\xff"',
        b"[1, 2]",
        b"null",
        b"42",
        b'{"ids": "1"}',
        b'{"ids": 1}',
        b'{"ids": [1.5]}',
        b'{"ids": [""]}',
        b'{"ids": ["' + b"x" * 201 + b'"]}',
        b'{"ids": [true]}',
        b'{"ids": [[1]]}',
        b'{"ids": [{"id": 1}]}',
        b'{"ids": [NaN]}',
        b'{"ids": [1e400]}',
        b'{"ids": [' + b"9" * 5000 + b"]}",
        b'{"ids": [' + b",".join([b"1"] * 1001) + b"]}",
        b"[" * 100_000,
    ],
    ids=lambda raw: raw[:24].decode("utf-8", "replace"),
)
def test_redrive_rejects_bad_bodies(
    alice: httpx.Client, dead: dict[str, list[str]], content: bytes
) -> None:
    response = redrive(alice, content=content, headers={"content-type": "application/json"})
    assert response.status_code in (400, 422), (response.status_code, response.text)
    assert_envelope(response, response.status_code)
    assert listed(alice) == (sorted(dead["alice"], key=int, reverse=True), 2), "nothing moved"


def test_redrive_with_an_unknown_key_is_refused(
    alice: httpx.Client, dead: dict[str, list[str]]
) -> None:
    response = redrive(alice, json={"id": [dead["alice"][0]]})
    assert response.status_code == 422, response.text
    assert listed(alice)[1] == 2


def test_redrive_ignores_ids_that_cannot_exist(
    alice: httpx.Client, dead: dict[str, list[str]]
) -> None:
    response = redrive(alice, json={"ids": HUGE_IDS})
    assert response.status_code == 200, response.text
    assert response.json() == {"redriven": 0}
    response = redrive(alice, json={"ids": [*HUGE_IDS, dead["alice"][0]]})
    assert response.json() == {"redriven": 1}


# --- purge -----------------------------------------------------------------------------------


def test_purge_deletes_all_the_callers_letters(
    api: LiveApi, alice: httpx.Client, bob: httpx.Client, dead: dict[str, list[str]]
) -> None:
    response = alice.delete("/v1/dlq")
    assert response.status_code == 200
    assert response.json() == {"purged": 2}
    assert listed(alice) == ([], 0)
    assert listed(bob) == (dead["bob"], 1)
    assert api.services.queue.depth() == 1, "live messages are not purged"
    assert alice.delete("/v1/dlq").json() == {"purged": 0}


def test_purge_by_ids(alice: httpx.Client, bob: httpx.Client, dead: dict[str, list[str]]) -> None:
    first, second = dead["alice"]
    response = alice.delete(
        "/v1/dlq", params=[("ids", first), ("ids", dead["bob"][0]), ("ids", dead["live"][0])]
    )
    assert response.json() == {"purged": 1}
    assert listed(alice) == ([second], 1)
    assert listed(bob) == (dead["bob"], 1)
    assert bob.delete("/v1/dlq", params={"ids": second}).json() == {"purged": 0}
    assert alice.delete(f"/v1/dlq?ids={first}&ids={second}").json() == {"purged": 1}
    assert listed(alice) == ([], 0)


@pytest.mark.parametrize("raw", ["", "9" * 5000])
def test_purge_rejects_bad_ids(alice: httpx.Client, dead: dict[str, list[str]], raw: str) -> None:
    assert_envelope(alice.delete("/v1/dlq", params={"ids": raw}), 422)
    assert listed(alice)[1] == 2


def test_purge_refuses_too_many_ids(alice: httpx.Client, dead: dict[str, list[str]]) -> None:
    response = alice.delete("/v1/dlq", params=[("ids", 1)] * 1001)
    assert_envelope(response, 422)
    assert listed(alice)[1] == 2


def test_ids_are_the_listed_strings_and_old_integer_ids_still_work(
    alice: httpx.Client, dead: dict[str, list[str]]
) -> None:
    """Dead-letter ids are strings (SQS message ids are); the integers earlier versions
    listed are taken as their text; any other string names no dead letter."""
    first, second = listed(alice)[0]
    assert all(isinstance(i, str) for i in (first, second))
    for raw in ("abc", "1.5", "1e3", "[1]"):
        assert alice.delete("/v1/dlq", params={"ids": raw}).json() == {"purged": 0}
    assert redrive(alice, json={"ids": ["one", int(first)]}).json() == {"redriven": 1}
    assert alice.delete("/v1/dlq", params={"ids": second}).json() == {"purged": 1}
    assert listed(alice) == ([], 0)


def test_purge_ignores_ids_that_cannot_exist(
    alice: httpx.Client, dead: dict[str, list[str]]
) -> None:
    response = alice.delete("/v1/dlq", params=[("ids", i) for i in HUGE_IDS])
    assert response.status_code == 200, response.text
    assert response.json() == {"purged": 0}
    assert listed(alice)[1] == 2


# --- access ----------------------------------------------------------------------------------

CALLS = [
    ("GET", "/v1/dlq", {}),
    ("POST", "/v1/dlq/redrive", {}),
    ("POST", "/v1/dlq/redrive", {"json": {"ids": [1]}}),
    ("DELETE", "/v1/dlq", {}),
    ("DELETE", "/v1/dlq?ids=1&ids=2", {}),
]


@pytest.mark.parametrize(("method", "path", "kwargs"), CALLS)
@pytest.mark.parametrize("token", [None, "not-a-token"], ids=["no-token", "bad-token"])
def test_every_dlq_call_needs_a_token(
    api: LiveApi,
    dead: dict[str, list[str]],
    method: str,
    path: str,
    kwargs: dict[str, Any],
    token: str | None,
) -> None:
    with api.client(token=token, keepalive=False) as client:
        response = client.request(method, path, **kwargs)
    assert_envelope(response, 401, "unauthorized")
    assert api.services.dead_letters.depth() == 3
