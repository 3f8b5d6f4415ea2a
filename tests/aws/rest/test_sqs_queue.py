"""The SQS Queue and DeadLetters adapters on moto: the behaviour the module documents."""

from __future__ import annotations

from typing import Any

import pytest

from leadflow.adapters.sqs_queue import SqsDeadLetters, SqsQueue, create_queues


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def pair(client: Any) -> tuple[SqsQueue, SqsDeadLetters]:
    sqs = client("sqs")
    url, dlq = create_queues(sqs, "test", max_receive_count=3, visibility_timeout=30)
    clock = Clock()
    return (
        SqsQueue(sqs, url, dlq, max_receive_count=3, clock=clock),
        SqsDeadLetters(sqs, url, dlq, max_receive_count=3, clock=clock),
    )


def test_send_receive_delete_with_owner(pair: tuple[SqsQueue, SqsDeadLetters]) -> None:
    queue, _ = pair
    ids = queue.send_many([{"n": i} for i in range(23)], owner="alice")
    assert len(ids) == 23 and len(set(ids)) == 23
    assert queue.depth() == 23
    got = queue.receive(50, 30)
    assert sorted(m.body["n"] for m in got) == list(range(23))
    assert {m.owner for m in got} == {"alice"} and {m.receive_count for m in got} == {1}
    assert queue.receive(50, 30) == []  # leased
    assert queue.depth() == 23  # in flight still counts
    assert queue.delete_many(got[:20]) == 20
    assert queue.delete(got[20]) is True
    assert queue.depth() == 2


def test_a_deleted_message_has_no_lease(pair: tuple[SqsQueue, SqsDeadLetters]) -> None:
    queue, _ = pair
    queue.send_many([{"a": 1}])
    (message,) = queue.receive(1, 30)
    assert queue.delete(message)
    assert queue.change_visibility(message, 10) is False
    assert queue.release(message, 0) is False
    assert queue.fail(message, "boom") is False
    assert queue.depth() == 0


def test_change_visibility_zero_gives_it_back(pair: tuple[SqsQueue, SqsDeadLetters]) -> None:
    queue, _ = pair
    queue.send_many([{"a": 1}])
    (message,) = queue.receive(1, 30)
    assert queue.change_visibility(message, 0)
    (again,) = queue.receive(1, 30)
    assert again.id == message.id and again.receive_count == 2


def test_release_does_not_use_a_try(pair: tuple[SqsQueue, SqsDeadLetters]) -> None:
    queue, _ = pair
    queue.send_many([{"a": 1}], owner="bob")
    (first,) = queue.receive(1, 30)
    assert queue.change_visibility(first, 0)
    (second,) = queue.receive(1, 30)
    assert second.receive_count == 2
    assert queue.release(second, 0)
    (copy,) = queue.receive(1, 30)
    assert copy.id != second.id  # a copy: SQS cannot un-count a receive
    assert copy.receive_count == 2 and copy.owner == "bob" and copy.body == {"a": 1}
    assert queue.depth() == 1


def test_fail_carries_the_error_into_the_dlq(pair: tuple[SqsQueue, SqsDeadLetters]) -> None:
    queue, dead = pair
    queue.send_many([{"a": 1}], owner="carol")
    for attempt in range(1, 4):
        (message,) = queue.receive(1, 30)
        assert message.receive_count == attempt
        assert queue.fail(message, f"boom {attempt}", retry_after=0)
    assert queue.receive(1, 30) == []
    assert queue.depth() == 0
    (letter,) = dead.list()
    assert letter.last_error == "boom 3" and letter.receive_count == 3
    assert letter.owner == "carol" and letter.body == {"a": 1}
    assert dead.depth() == 1 and dead.depth("carol") == 1 and dead.depth("dave") == 0


def test_redrive_policy_moves_expired_leases(pair: tuple[SqsQueue, SqsDeadLetters]) -> None:
    """A worker that dies never calls fail: SQS's RedrivePolicy moves the message."""
    queue, dead = pair
    queue.send_many([{"a": 1}], owner="erin")
    for _ in range(3):
        (message,) = queue.receive(1, 30)
        queue.change_visibility(message, 0)  # the lease "runs out"
    assert queue.receive(1, 30) == []
    (letter,) = dead.list()
    assert letter.receive_count == 3
    assert letter.last_error == "its lease ran out 3 times (the worker stopped or took too long)"


def test_a_failed_copy_dies_on_the_adapter_count(pair: tuple[SqsQueue, SqsDeadLetters]) -> None:
    """A copy carries its tries: SQS's own count restarts, the adapter's does not."""
    queue, dead = pair
    queue.send_many([{"a": 1}])
    (message,) = queue.receive(1, 30)
    assert queue.fail(message, "first")
    for expected in (2, 3):
        (message,) = queue.receive(1, 30)
        assert message.receive_count == expected
        queue.change_visibility(message, 0)
    assert queue.receive(1, 30) == []  # the 4th receive moves it
    (letter,) = dead.list()
    assert letter.receive_count == 3 and letter.last_error == "first"


def test_dead_letters_add_list_redrive_purge(pair: tuple[SqsQueue, SqsDeadLetters]) -> None:
    queue, dead = pair
    clock = dead.clock
    assert isinstance(clock, Clock)
    a_ids = dead.add([{"n": i} for i in range(12)], "alice", "incomplete order")
    clock.now += 5
    b_ids = dead.add([{"n": 100}], "bob", "no")
    assert dead.depth() == 13 and dead.depth("alice") == 12
    listed = dead.list()
    assert listed[0].id == b_ids[0]  # newest first
    assert len(dead.list(limit=5)) == 5
    assert {d.id for d in dead.list("alice", limit=100)} == set(a_ids)
    assert dead.list("bob")[0].last_error == "no"
    # listing gives every message back at once
    assert dead.depth() == 13
    assert dead.redrive("alice", [a_ids[0], b_ids[0], "unknown"]) == 1
    assert dead.redrive(ids=[]) == 0
    got = queue.receive(10, 30)
    assert [m.body for m in got] == [{"n": 0}] and got[0].receive_count == 1
    assert dead.purge("bob") == 1
    assert dead.purge(ids=a_ids[1:3]) == 2
    assert dead.depth() == 9
    assert dead.redrive("alice") == 9
    assert dead.depth() == 0 and queue.depth() == 10
