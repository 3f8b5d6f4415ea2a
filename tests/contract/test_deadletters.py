"""The DeadLetters contract (ports.DeadLetters), on every adapter set."""

from __future__ import annotations

import pytest
from port_adapters import AdapterSet

from leadflow.ports import DeadLetters, Queue

LEASE = 30.0


@pytest.fixture
def pair(adapter_set: AdapterSet) -> tuple[Queue, DeadLetters]:
    return adapter_set.queue(3)


def kill(queue: Queue, bodies: list[dict[str, object]], owner: str | None, error: str) -> None:
    """Send and fail the bodies until they die (what a worker that keeps failing does)."""
    queue.send_many(bodies, owner)
    for attempt in range(3):
        for message in queue.receive(100, LEASE):
            assert queue.fail(message, f"{error} {attempt + 1}")


@pytest.fixture
def graveyard(adapter_set: AdapterSet, pair: tuple[Queue, DeadLetters]) -> dict[str, list[str]]:
    """alice: two dead letters; bob: one buried; a live message of alice's."""
    queue, dead = pair
    kill(queue, [{"n": 1}, {"n": 2}], "alice", "boom")
    adapter_set.advance(1)
    bob = dead.add([{"n": 3}], "bob", "incomplete order")
    queue.send_many([{"n": 4}], "alice")
    letters = {letter.body["n"]: letter.id for letter in dead.list()}
    assert letters[3] == bob[0]
    return {"alice": [letters[1], letters[2]], "bob": bob}


def test_add_buries_at_once_with_the_reason(
    adapter_set: AdapterSet, pair: tuple[Queue, DeadLetters]
) -> None:
    queue, dead = pair
    ids = dead.add([{"kind": "order", "n": 1}, {"kind": "order", "n": 2}], "alice", "no qty")
    assert len(set(ids)) == 2 and all(isinstance(i, str) for i in ids)
    assert queue.depth() == 0 and queue.receive(10, LEASE) == []
    letters = {letter.id: letter for letter in dead.list("alice")}
    assert set(letters) == set(ids)
    for letter in letters.values():
        assert letter.owner == "alice" and letter.last_error == "no qty"
        assert letter.created_at.endswith("Z") and letter.dead_at.endswith("Z")
    assert {letter.body["n"] for letter in letters.values()} == {1, 2}
    assert dead.add([], "alice", "x") == []


def test_list_is_newest_first_scoped_and_limited(
    pair: tuple[Queue, DeadLetters], graveyard: dict[str, list[str]]
) -> None:
    _, dead = pair
    everything = dead.list()
    assert everything[0].id == graveyard["bob"][0], "the newest death first"
    assert {letter.id for letter in everything} == {*graveyard["alice"], *graveyard["bob"]}
    assert {letter.id for letter in dead.list("alice")} == set(graveyard["alice"])
    assert dead.list("carol") == []
    assert len(dead.list(limit=2)) == 2
    assert (dead.depth(), dead.depth("alice"), dead.depth("bob"), dead.depth("carol")) == (
        3, 2, 1, 0,
    )  # fmt: skip
    json = everything[0].as_json()
    assert json["id"] == graveyard["bob"][0] and json["lastError"] == "incomplete order"


def test_redrive_everything_sends_fresh_messages_back(
    pair: tuple[Queue, DeadLetters], graveyard: dict[str, list[str]]
) -> None:
    queue, dead = pair
    assert dead.redrive() == 3
    assert dead.depth() == 0 and queue.depth() == 4
    got = queue.receive(10, LEASE)
    assert sorted(m.body["n"] for m in got) == [1, 2, 3, 4]
    assert all(m.receive_count == 1 for m in got), "their tries start again"
    assert {m.body["n"]: m.owner for m in got} == {1: "alice", 2: "alice", 3: "bob", 4: "alice"}


def test_redrive_by_owner_and_ids(
    pair: tuple[Queue, DeadLetters], graveyard: dict[str, list[str]]
) -> None:
    queue, dead = pair
    first, second = graveyard["alice"]
    assert dead.redrive("alice", [graveyard["bob"][0]]) == 0, "another owner's id"
    assert dead.redrive(ids=[]) == 0
    assert dead.redrive(ids=["no-such-id", "0", "-1", "99999999999999999999999"]) == 0
    assert dead.redrive("alice", [first]) == 1
    assert {letter.id for letter in dead.list()} == {second, *graveyard["bob"]}
    assert dead.redrive("bob") == 1
    assert [letter.id for letter in dead.list()] == [second]
    assert queue.depth() == 3


def test_purge_by_owner_and_ids(
    pair: tuple[Queue, DeadLetters], graveyard: dict[str, list[str]]
) -> None:
    queue, dead = pair
    first, second = graveyard["alice"]
    assert dead.purge(ids=[]) == 0
    assert dead.purge("bob", [first]) == 0
    assert dead.purge(ids=[first, "no-such-id"]) == 1
    assert dead.purge("bob") == 1
    assert [letter.id for letter in dead.list()] == [second]
    assert dead.purge() == 1
    assert dead.depth() == 0
    assert queue.depth() == 1, "a live message is no dead letter"
    assert dead.redrive() == 0


def test_a_redriven_message_can_die_again(
    adapter_set: AdapterSet, pair: tuple[Queue, DeadLetters]
) -> None:
    queue, dead = pair
    kill(queue, [{"n": 1}], "alice", "boom")
    assert dead.redrive() == 1
    kill(queue, [], "alice", "again")
    (letter,) = dead.list()
    assert letter.last_error == "again 3" and letter.body == {"n": 1}
