"""The Queue contract (ports.Queue), on every adapter set."""

from __future__ import annotations

import threading

import pytest
from port_adapters import AdapterSet

from leadflow.ports import DeadLetters, Message, Queue

LEASE = 30.0


@pytest.fixture
def pair(adapter_set: AdapterSet) -> tuple[Queue, DeadLetters]:
    return adapter_set.queue(3)


@pytest.fixture
def queue(pair: tuple[Queue, DeadLetters]) -> Queue:
    return pair[0]


def one(queue: Queue, lease: float = LEASE) -> Message:
    (message,) = queue.receive(10, lease)
    return message


def test_send_receive_delete(queue: Queue) -> None:
    ids = queue.send_many([{"n": 1}, {"n": 2, "rows": ["é"]}], owner="alice")
    assert len(set(ids)) == 2 and all(isinstance(i, str) for i in ids)
    got = queue.receive(10, LEASE)
    assert sorted(m.id for m in got) == sorted(ids)
    assert {m.id: m.body for m in got} == {ids[0]: {"n": 1}, ids[1]: {"n": 2, "rows": ["é"]}}
    assert all(m.receive_count == 1 and m.owner == "alice" for m in got)
    assert queue.depth() == 2, "leased messages still count"
    assert queue.delete(got[0]) is True
    assert queue.delete(got[0]) is False, "deleted already"
    assert queue.delete_many(got) == 1
    assert queue.depth() == 0
    assert queue.receive(10, LEASE) == []


def test_receive_honours_max_messages(queue: Queue) -> None:
    queue.send_many([{"n": n} for n in range(5)])
    first = queue.receive(2, LEASE)
    rest = queue.receive(10, LEASE)
    assert len(first) == 2 and len(rest) == 3
    assert {m.body["n"] for m in first + rest} == set(range(5))


def test_owner_is_kept_per_message(queue: Queue) -> None:
    queue.send_many([{"n": 1}], owner="alice")
    queue.send_many([{"n": 2}])
    owners = {m.body["n"]: m.owner for m in queue.receive(10, LEASE)}
    assert owners == {1: "alice", 2: None}


def test_a_delayed_message_waits(adapter_set: AdapterSet, queue: Queue) -> None:
    queue.send_many([{"n": 1}], delay=10)
    assert queue.receive(10, LEASE) == []
    assert queue.depth() == 1
    adapter_set.advance(10)
    assert one(queue).body == {"n": 1}


def test_a_leased_message_is_invisible_until_its_lease_ends(
    adapter_set: AdapterSet, queue: Queue
) -> None:
    queue.send_many([{"n": 1}])
    first = one(queue)
    assert queue.receive(10, LEASE) == []
    adapter_set.advance(LEASE)
    second = one(queue)
    assert second.id == first.id and second.receive_count == 2
    if adapter_set.strict_leases:
        assert queue.delete(first) is False, "the first receipt went stale"
        assert queue.change_visibility(first, 100) is False
        assert queue.fail(first, "late") is False
        assert queue.release(first, 0) is False
    assert queue.delete(second) is True
    for gone in (first, second):  # a deleted message takes no call, whatever its receipt
        assert queue.delete(gone) is False
        assert queue.change_visibility(gone, 100) is False
        assert queue.fail(gone, "late") is False
        assert queue.release(gone, 0) is False
    assert queue.depth() == 0


def test_change_visibility_extends_or_ends_a_lease(adapter_set: AdapterSet, queue: Queue) -> None:
    queue.send_many([{"n": 1}])
    message = one(queue, 10)
    assert queue.change_visibility(message, 100)
    adapter_set.advance(50)
    assert queue.receive(10, LEASE) == []
    assert queue.change_visibility(message, 0)
    assert one(queue).receive_count == 2


def test_fail_retries_after_retry_after_with_the_error_kept(
    adapter_set: AdapterSet, pair: tuple[Queue, DeadLetters]
) -> None:
    queue, dead = pair
    queue.send_many([{"n": 1}], owner="alice")
    assert queue.fail(one(queue), "boom 1", retry_after=5)
    assert queue.receive(10, LEASE) == []
    adapter_set.advance(5)
    assert queue.fail(one(queue), "boom 2")
    third = one(queue)
    assert third.receive_count == 3
    assert queue.fail(third, "boom 3", retry_after=5) is True
    assert queue.depth() == 0, "all its receives used: it is dead"
    (letter,) = dead.list()
    assert (letter.body, letter.owner, letter.last_error, letter.receive_count) == (
        {"n": 1}, "alice", "boom 3", 3,
    )  # fmt: skip


def test_leases_that_run_out_count_as_receives(
    adapter_set: AdapterSet, pair: tuple[Queue, DeadLetters]
) -> None:
    queue, dead = pair
    queue.send_many([{"n": 1}])
    assert queue.fail(one(queue), "the last error")
    for _ in range(2):
        one(queue)
        adapter_set.advance(LEASE)
    assert queue.receive(10, LEASE) == [], "received three times: not delivered again"
    (letter,) = dead.list()
    assert letter.last_error == "the last error"
    assert queue.depth() == 0


def test_a_message_that_only_ran_out_says_so(
    adapter_set: AdapterSet, pair: tuple[Queue, DeadLetters]
) -> None:
    queue, dead = pair
    queue.send_many([{"n": 1}])
    for _ in range(3):
        one(queue)
        adapter_set.advance(LEASE)
    assert queue.receive(10, LEASE) == []
    (letter,) = dead.list()
    assert letter.last_error is not None and "lease ran out" in letter.last_error


@pytest.mark.parametrize("max_receive_count", [1, 2, 5])
def test_max_receive_count_is_the_adapters(adapter_set: AdapterSet, max_receive_count: int) -> None:
    queue, dead = adapter_set.queue(max_receive_count)
    queue.send_many([{"n": 1}])
    for attempt in range(1, max_receive_count + 1):
        message = one(queue)
        assert message.receive_count == attempt
        assert queue.fail(message, f"e{attempt}")
    assert queue.receive(10, LEASE) == []
    assert dead.depth() == 1


def test_release_gives_the_message_back_without_using_a_try(
    adapter_set: AdapterSet, pair: tuple[Queue, DeadLetters]
) -> None:
    queue, dead = pair
    queue.send_many([{"n": 1, "deep": {"x": [1]}}], owner="alice")
    assert queue.fail(one(queue), "first")
    second = one(queue)
    assert second.receive_count == 2
    assert queue.release(second, 10) is True
    assert queue.depth() == 1
    assert queue.delete(second) is False, "the released message is gone"
    assert queue.receive(10, LEASE) == [], "the copy waits for its delay"
    adapter_set.advance(10)
    copy = one(queue)
    assert copy.body == {"n": 1, "deep": {"x": [1]}} and copy.owner == "alice"
    assert copy.receive_count == 2, "the released receive did not count"
    for _ in range(5):  # releases never use up its tries
        assert queue.release(copy, 0)
        copy = one(queue)
    assert copy.receive_count == 2
    assert queue.fail(copy, "second")
    last = one(queue)
    assert last.receive_count == 3
    assert queue.fail(last, "third")
    assert dead.depth() == 1 and queue.depth() == 0


def test_a_stale_release_sends_nothing(adapter_set: AdapterSet, queue: Queue) -> None:
    queue.send_many([{"n": 1}])
    first = one(queue)
    adapter_set.advance(LEASE)
    second = one(queue)
    if adapter_set.strict_leases:
        assert queue.release(first, 0) is False
        assert queue.depth() == 1
    assert queue.delete(second)
    assert queue.release(second, 0) is False, "a deleted message is not sent again"
    assert queue.depth() == 0


def test_bodies_are_copies(queue: Queue) -> None:
    body = {"rows": [1, 2]}
    queue.send_many([body])
    body["rows"].append(3)
    message = one(queue)
    assert message.body == {"rows": [1, 2]}
    message.body["rows"].append(4)
    assert queue.change_visibility(message, 0)
    assert one(queue).body == {"rows": [1, 2]}


def test_threads_never_share_a_lease(queue: Queue) -> None:
    queue.send_many([{"n": n} for n in range(200)])
    seen: list[int] = []
    lock = threading.Lock()

    def take() -> None:
        while batch := queue.receive(7, 600):
            with lock:
                seen.extend(m.body["n"] for m in batch)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == list(range(200))
