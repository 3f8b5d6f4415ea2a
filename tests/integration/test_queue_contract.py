"""The Queue contract: MemoryQueue and SqliteQueue pass the same tests.

SPEC 'Dead-letter queue': a message lands in the DLQ after failing maxReceiveCount
(default 3) times, with its last error; the DLQ can be listed, redriven and purged, and
(SPEC 'Access') a user sees only their own entries. Time is a fake clock that tests
move by hand, so nothing sleeps. A stateful property test runs random operations on
both adapters side by side and demands the same observable result from every call.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from leadflow.adapters.memory_queue import MemoryQueue
from leadflow.adapters.sqlite_db import Database
from leadflow.adapters.sqlite_queue import EXPIRED, SqliteQueue
from leadflow.clock import iso
from leadflow.ports import DeadLetter, Message, Queue

ADAPTERS = ["memory", "sqlite"]
START = 1_767_225_600.0  # 2026-01-01T00:00:00Z
LEASE = 30.0
HUGE_IDS = [0, -1, -(2**63), 2**63, 2**64, 10**30, -(10**30)]


class FakeClock:
    """Time that moves only when a test says so."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def open_queue(kind: str, db_path: Path, clock: FakeClock, max_receive_count: int = 3) -> Queue:
    if kind == "memory":
        return MemoryQueue("batches", max_receive_count, clock)
    return SqliteQueue(Database(db_path), "batches", max_receive_count, clock)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=ADAPTERS)
def make_queue(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> Callable[[int], Queue]:
    """Opens a queue of the adapter under test (max_receive_count as given)."""

    def _make(max_receive_count: int = 3) -> Queue:
        return open_queue(request.param, tmp_path / "q.db", clock, max_receive_count)

    return _make


@pytest.fixture
def queue(make_queue: Callable[[int], Queue]) -> Queue:
    return make_queue(3)


# --- helpers ---------------------------------------------------------------------------------


def receive_one(queue: Queue, visibility: float = LEASE) -> Message:
    messages = queue.receive(1, visibility)
    assert len(messages) == 1, messages
    return messages[0]


def kill(queue: Queue, clock: FakeClock, error: str = "boom") -> list[int]:
    """Fail every waiting message until it is dead; the ids that died, oldest first."""
    died: list[int] = []
    for _ in range(100):
        messages = queue.receive(100, LEASE)
        if not messages:
            break
        for message in messages:
            assert queue.fail(message, error)
            if message.receive_count >= 3:
                died.append(message.id)
    return died


def dead_ids(queue: Queue, owner: str | None = None) -> list[int]:
    return [letter.id for letter in queue.dead_letters(owner, 1000)]


# --- send, receive, delete -------------------------------------------------------------------


def test_send_receive_delete(queue: Queue) -> None:
    assert queue.send_many([]) == []
    ids = queue.send_many([{"batch": 1}, {"batch": 2, "rows": ["a", "é"]}], owner="alice")
    assert len(ids) == 2 and ids[0] < ids[1]
    assert queue.depth() == 2

    messages = queue.receive(10, LEASE)
    assert [(m.id, m.body, m.receive_count, m.owner) for m in messages] == [
        (ids[0], {"batch": 1}, 1, "alice"),
        (ids[1], {"batch": 2, "rows": ["a", "é"]}, 1, "alice"),
    ]
    assert messages[0].receipt != messages[1].receipt
    assert queue.depth() == 2, "a leased message still counts until it is deleted"

    assert queue.delete(messages[0]) is True
    assert queue.delete(messages[0]) is False, "deleted twice"
    assert queue.depth() == 1
    assert queue.delete(messages[1]) is True
    assert queue.depth() == 0
    assert queue.receive(10, LEASE) == []
    assert queue.dlq_depth() == 0


def test_delete_many_acknowledges_what_still_holds_a_lease(queue: Queue, clock: FakeClock) -> None:
    assert queue.delete_many([]) == 0
    ids = queue.send_many([{"n": n} for n in range(5)])
    first = queue.receive(3, LEASE)
    clock.advance(LEASE)
    retaken = receive_one(queue)  # ids[0] again: first[0]'s receipt is stale now
    assert retaken.id == ids[0]
    assert queue.fail(first[1], "given back") is True
    # stale, failed, held, held twice over
    assert queue.delete_many([first[0], first[1], first[2], first[2]]) == 1
    assert queue.depth() == 4
    rest = queue.receive(10, LEASE)
    assert [m.id for m in rest] == [ids[1], ids[3], ids[4]]
    assert queue.delete_many([retaken, *rest]) == 4
    assert queue.depth() == 0
    assert queue.delete_many(rest) == 0


def test_bodies_are_json_copies(queue: Queue) -> None:
    body: dict[str, Any] = {"rows": [{"email": "a@example.com"}], "n": 1.5, "none": None}
    queue.send_many([body])
    body["rows"].append("changed after sending")
    message = receive_one(queue)
    assert message.body == {"rows": [{"email": "a@example.com"}], "n": 1.5, "none": None}
    message.body["n"] = 99
    queue.change_visibility(message, 0)
    assert receive_one(queue).body["n"] == 1.5


def test_receive_is_fifo_and_honours_max_messages(queue: Queue) -> None:
    ids = queue.send_many([{"n": n} for n in range(7)])
    assert queue.receive(0, LEASE) == []
    first = queue.receive(3, LEASE)
    assert [m.id for m in first] == ids[:3]
    assert [m.body["n"] for m in first] == [0, 1, 2]
    assert [m.id for m in queue.receive(1, LEASE)] == ids[3:4]
    assert [m.id for m in queue.receive(100, LEASE)] == ids[4:]
    assert queue.receive(100, LEASE) == []


def test_send_many_keeps_the_owner_per_call(queue: Queue) -> None:
    queue.send_many([{"n": 1}], owner="alice")
    queue.send_many([{"n": 2}], owner="bob")
    queue.send_many([{"n": 3}])
    assert [(m.body["n"], m.owner) for m in queue.receive(10, LEASE)] == [
        (1, "alice"),
        (2, "bob"),
        (3, None),
    ]


# --- leases ----------------------------------------------------------------------------------


def test_a_leased_message_is_invisible_until_its_lease_ends(queue: Queue, clock: FakeClock) -> None:
    (message_id,) = queue.send_many([{"n": 1}])
    first = receive_one(queue, visibility=LEASE)
    assert first.receive_count == 1

    clock.advance(LEASE - 0.5)
    assert queue.receive(10, LEASE) == [], "visible while its lease holds"
    clock.advance(0.5)
    second = receive_one(queue, visibility=LEASE)
    assert (second.id, second.receive_count) == (message_id, 2)
    assert second.receipt != first.receipt

    # the first receiver lost its lease: its receipt does nothing any more
    assert queue.delete(first) is False
    assert queue.change_visibility(first, 1000) is False
    assert queue.fail(first, "late") is False
    assert queue.depth() == 1
    assert queue.delete(second) is True
    assert queue.depth() == 0


def test_a_run_out_lease_nobody_took_over_can_still_be_acknowledged(
    queue: Queue, clock: FakeClock
) -> None:
    """The receipt is good until another receive takes the message (SQS does the same)."""
    queue.send_many([{"n": 1}])
    message = receive_one(queue, visibility=1)
    clock.advance(5)
    assert queue.delete(message) is True
    assert queue.depth() == 0


def test_change_visibility_extends_a_lease(queue: Queue, clock: FakeClock) -> None:
    queue.send_many([{"n": 1}])
    message = receive_one(queue, visibility=10)
    clock.advance(5)
    assert queue.change_visibility(message, 60) is True  # now the lease ends at 5 + 60
    clock.advance(59.5)
    assert queue.receive(10, LEASE) == []
    assert queue.delete(message) is True


def test_change_visibility_to_zero_ends_a_lease(queue: Queue, clock: FakeClock) -> None:
    queue.send_many([{"n": 1}])
    message = receive_one(queue, visibility=LEASE)
    assert queue.change_visibility(message, 0) is True
    again = receive_one(queue)
    assert again.receive_count == 2
    assert queue.change_visibility(message, 60) is False, "stale receipt"
    assert queue.change_visibility(again, 60) is True


def test_fail_makes_the_message_visible_after_retry_after(queue: Queue, clock: FakeClock) -> None:
    queue.send_many([{"n": 1}])
    message = receive_one(queue)
    assert queue.fail(message, "provider timed out", retry_after=5) is True
    assert queue.delete(message) is False, "fail gave the lease back"
    assert queue.fail(message, "twice") is False
    assert queue.depth() == 1

    clock.advance(4.5)
    assert queue.receive(10, LEASE) == []
    clock.advance(0.5)
    again = receive_one(queue)
    assert again.receive_count == 2
    assert queue.fail(again, "no wait") is True
    assert receive_one(queue).receive_count == 3, "retry_after=0: visible at once"


def test_fail_after_delete_is_refused(queue: Queue) -> None:
    queue.send_many([{"n": 1}])
    message = receive_one(queue)
    assert queue.delete(message)
    assert queue.fail(message, "boom") is False
    assert queue.dlq_depth() == 0


# --- the dead-letter queue -------------------------------------------------------------------


def test_three_failures_move_a_message_to_the_dlq_with_its_last_error(
    queue: Queue, clock: FakeClock
) -> None:
    (message_id,) = queue.send_many([{"batch": 7}], owner="alice")
    for attempt in range(1, 4):
        clock.advance(1)
        message = receive_one(queue)
        assert message.receive_count == attempt
        assert queue.fail(message, f"error {attempt}") is True
    assert queue.depth() == 0
    assert queue.dlq_depth() == 1
    assert queue.receive(10, LEASE) == []
    assert queue.delete(message) is False, "a dead letter cannot be acknowledged"
    assert queue.change_visibility(message, 0) is False

    assert queue.dead_letters() == [
        DeadLetter(
            id=message_id,
            body={"batch": 7},
            receive_count=3,
            last_error="error 3",
            owner="alice",
            created_at=iso(START),
            dead_at=iso(START + 3),
        )
    ]


def test_three_expired_leases_move_a_message_to_the_dlq(queue: Queue, clock: FakeClock) -> None:
    (message_id,) = queue.send_many([{"batch": 1}])
    for attempt in range(1, 4):
        assert receive_one(queue, visibility=2).receive_count == attempt
        clock.advance(2)
    assert queue.depth() == 1, "it moves on the next receive attempt"
    assert queue.receive(10, LEASE) == []
    assert queue.depth() == 0
    (letter,) = queue.dead_letters()
    assert letter.id == message_id and letter.receive_count == 3
    assert letter.last_error == EXPIRED.format(count=3)
    assert "lease ran out 3 times" in (letter.last_error or "")
    assert letter.dead_at == iso(START + 6)


def test_expired_leases_keep_the_last_reported_error(queue: Queue, clock: FakeClock) -> None:
    queue.send_many([{"batch": 1}])
    assert queue.fail(receive_one(queue), "bad row 12")
    receive_one(queue, visibility=1)
    clock.advance(1)
    receive_one(queue, visibility=1)
    clock.advance(1)
    assert queue.receive(10, LEASE) == []
    assert [letter.last_error for letter in queue.dead_letters()] == ["bad row 12"]


def test_mixed_failures_and_expiries_count_alike(queue: Queue, clock: FakeClock) -> None:
    queue.send_many([{"batch": 1}])
    receive_one(queue, visibility=1)
    clock.advance(1)
    assert queue.fail(receive_one(queue), "second")
    third = receive_one(queue)
    assert third.receive_count == 3
    assert queue.fail(third, "third and last") is True
    assert [(d.receive_count, d.last_error) for d in queue.dead_letters()] == [
        (3, "third and last")
    ]


@pytest.mark.parametrize("max_receive_count", [1, 2, 5])
def test_max_receive_count_is_configurable(
    make_queue: Callable[[int], Queue], clock: FakeClock, max_receive_count: int
) -> None:
    queue = make_queue(max_receive_count)
    queue.send_many([{"n": 1}, {"n": 2}])
    for attempt in range(1, max_receive_count + 1):
        messages = queue.receive(10, LEASE)
        assert [m.receive_count for m in messages] == [attempt, attempt]
        assert queue.fail(messages[0], f"failed {attempt}")  # dies at the last receive
        clock.advance(LEASE)  # the second one's lease runs out
    assert queue.receive(10, LEASE) == []  # ... and it moves on this attempt
    assert queue.depth() == 0
    letters = {d.body["n"]: d for d in queue.dead_letters()}
    assert letters[1].last_error == f"failed {max_receive_count}"
    assert letters[2].last_error == EXPIRED.format(count=max_receive_count)
    assert {d.receive_count for d in letters.values()} == {max_receive_count}


def test_depth_and_dlq_depth(queue: Queue, clock: FakeClock) -> None:
    queue.send_many([{"n": 1}, {"n": 2}], owner="alice")
    queue.send_many([{"n": 3}], owner="bob")
    assert (queue.depth(), queue.dlq_depth()) == (3, 0)
    kill(queue, clock)
    assert (queue.depth(), queue.dlq_depth()) == (0, 3)
    assert queue.dlq_depth("alice") == 2
    assert queue.dlq_depth("bob") == 1
    assert queue.dlq_depth("carol") == 0
    queue.send_many([{"n": 4}], owner="alice")
    leased = receive_one(queue)
    assert (queue.depth(), queue.dlq_depth("alice")) == (1, 2)
    queue.delete(leased)
    assert queue.depth() == 0


def test_dead_letters_are_newest_first_and_scoped_to_their_owner(
    queue: Queue, clock: FakeClock
) -> None:
    (a1,) = queue.send_many([{"who": "a1"}], owner="alice")
    kill(queue, clock, "alice's first")
    clock.advance(1)
    (b1,) = queue.send_many([{"who": "b1"}], owner="bob")
    kill(queue, clock, "bob's")
    clock.advance(1)
    (a2,) = queue.send_many([{"who": "a2"}], owner="alice")
    (nobody,) = queue.send_many([{"who": "system"}])
    kill(queue, clock, "same moment")  # a2 and nobody die at one time: id breaks the tie

    assert dead_ids(queue) == [nobody, a2, b1, a1]
    assert dead_ids(queue, "alice") == [a2, a1]
    assert dead_ids(queue, "bob") == [b1]
    assert dead_ids(queue, "carol") == []
    alice_sees = queue.dead_letters("alice")
    assert all(letter.owner == "alice" for letter in alice_sees)
    assert "bob's" not in [letter.last_error for letter in alice_sees]
    assert [letter.id for letter in queue.dead_letters(None, 2)] == [nobody, a2]
    assert [letter.id for letter in queue.dead_letters("alice", 1)] == [a2]
    assert queue.dead_letters("alice", 0) == []


# --- redrive and purge -----------------------------------------------------------------------


@pytest.fixture
def graveyard(queue: Queue, clock: FakeClock) -> dict[str, list[int]]:
    """Two dead letters of alice's, one of bob's and one live message of bob's."""
    alice = queue.send_many([{"n": 1}, {"n": 2}], owner="alice")
    bob = queue.send_many([{"n": 3}], owner="bob")
    kill(queue, clock)
    clock.advance(1)
    live = queue.send_many([{"n": 4}], owner="bob")
    assert (queue.depth(), queue.dlq_depth()) == (1, 3)
    return {"alice": alice, "bob": bob, "live": live}


def test_redrive_everything_gives_fresh_receive_counts(
    queue: Queue, clock: FakeClock, graveyard: dict[str, list[int]]
) -> None:
    assert queue.redrive() == 3
    assert (queue.depth(), queue.dlq_depth()) == (4, 0)
    messages = queue.receive(10, LEASE)
    by_id = {m.id: m.receive_count for m in messages}
    assert by_id == dict.fromkeys([*graveyard["alice"], *graveyard["bob"], *graveyard["live"]], 1)
    # a fresh count: it takes three more failures to die again
    for attempt in range(1, 4):
        assert queue.dlq_depth() == 0
        if attempt > 1:
            messages = queue.receive(10, LEASE)
        assert [m.receive_count for m in messages] == [attempt] * 4
        for message in messages:
            assert queue.fail(message, "again")
    assert queue.dlq_depth() == 4
    assert queue.redrive() == 4


def test_redrive_by_ids(queue: Queue, graveyard: dict[str, list[int]]) -> None:
    first_alice = graveyard["alice"][0]
    assert queue.redrive(ids=[first_alice]) == 1
    assert queue.redrive(ids=[first_alice]) == 0, "no longer dead"
    assert queue.redrive(ids=graveyard["live"]) == 0, "a live message is not redriven"
    assert queue.redrive(ids=[]) == 0
    assert sorted(dead_ids(queue)) == sorted([graveyard["alice"][1], *graveyard["bob"]])
    (message,) = [m for m in queue.receive(10, LEASE) if m.id == first_alice]
    assert message.receive_count == 1


def test_redrive_by_owner(queue: Queue, graveyard: dict[str, list[int]]) -> None:
    assert queue.redrive(owner="bob", ids=graveyard["alice"]) == 0, "not bob's"
    assert queue.redrive(owner="carol") == 0
    assert queue.redrive(owner="alice") == 2
    assert dead_ids(queue) == graveyard["bob"]
    assert queue.redrive(owner="bob", ids=graveyard["bob"]) == 1
    assert queue.dlq_depth() == 0
    assert queue.depth() == 4


def test_purge_everything(queue: Queue, graveyard: dict[str, list[int]]) -> None:
    assert queue.purge_dead() == 3
    assert queue.dlq_depth() == 0
    assert queue.depth() == 1, "live messages are not purged"
    assert queue.purge_dead() == 0


def test_purge_by_ids(queue: Queue, graveyard: dict[str, list[int]]) -> None:
    assert queue.purge_dead(ids=[graveyard["alice"][1], *graveyard["live"]]) == 1
    assert queue.purge_dead(ids=[]) == 0
    assert sorted(dead_ids(queue)) == sorted([graveyard["alice"][0], *graveyard["bob"]])
    assert queue.depth() == 1


def test_purge_by_owner(queue: Queue, graveyard: dict[str, list[int]]) -> None:
    assert queue.purge_dead(owner="alice", ids=graveyard["bob"]) == 0
    assert queue.purge_dead(owner="alice") == 2
    assert dead_ids(queue) == graveyard["bob"]
    assert queue.purge_dead(owner="bob", ids=graveyard["bob"]) == 1
    assert queue.dlq_depth() == 0


def test_ids_out_of_range_are_ignored(queue: Queue, graveyard: dict[str, list[int]]) -> None:
    assert queue.redrive(ids=HUGE_IDS) == 0
    assert queue.purge_dead(ids=HUGE_IDS) == 0
    assert queue.redrive(owner="alice", ids=HUGE_IDS) == 0
    assert queue.dlq_depth() == 3
    assert queue.redrive(ids=[*HUGE_IDS, graveyard["bob"][0]]) == 1
    assert queue.purge_dead(ids=[*HUGE_IDS, graveyard["alice"][0]]) == 1
    assert queue.dlq_depth() == 1


def test_threads_never_share_a_lease(queue: Queue) -> None:
    ids = queue.send_many([{"n": n} for n in range(400)])
    seen: list[int] = []
    lock = threading.Lock()

    def work() -> None:
        while messages := queue.receive(7, LEASE):
            for message in messages:
                assert queue.delete(message)
            with lock:
                seen.extend(m.id for m in messages)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == ids
    assert queue.depth() == 0


# --- both adapters, side by side -------------------------------------------------------------


def observable(value: Any) -> Any:
    """What a caller can compare across adapters: messages lose their random receipt."""
    if isinstance(value, Message):
        return comparable(value)
    if isinstance(value, list):
        return [observable(item) for item in value]
    return value


def reuse_the_newest_id(queue: Queue, clock: FakeClock) -> list[Any]:
    ids = queue.send_many([{"n": 1}, {"n": 2}])
    newest = queue.receive(2, LEASE)[1]
    return [ids, queue.delete(newest), queue.send_many([{"n": 3}])]


def reuse_a_purged_id(queue: Queue, clock: FakeClock) -> list[Any]:
    queue.send_many([{"n": 1}, {"n": 2}], owner="alice")
    kill(queue, clock)
    return [queue.purge_dead(ids=[2]), queue.send_many([{"n": 3}]), dead_ids(queue)]


def spent_message_ahead_of_a_fresh_one(queue: Queue, clock: FakeClock) -> list[Any]:
    queue.send_many([{"n": 1}])
    for _ in range(3):
        queue.receive(1, 1)
        clock.advance(1)
    queue.send_many([{"n": 2}])
    return [queue.receive(1, LEASE), queue.receive(1, LEASE), queue.dead_letters()]


def empty_error_then_expiry(queue: Queue, clock: FakeClock) -> list[Any]:
    queue.send_many([{"n": 1}, {"n": 2}])
    first, second = queue.receive(2, 1)
    queue.fail(first, "")
    clock.advance(1)
    for _ in range(2):
        assert all(queue.fail(m, "") for m in queue.receive(1, 1) if m.id == second.id)
        clock.advance(1)
    return [queue.receive(10, 1), queue.receive(10, 1), queue.dead_letters()]


def negative_limits(queue: Queue, clock: FakeClock) -> list[Any]:
    queue.send_many([{"n": n} for n in range(4)])
    received = queue.receive(-1, LEASE)
    for message in received:
        queue.fail(message, "x")
    kill(queue, clock)
    return [received, queue.dead_letters(None, -1), queue.dead_letters(None, 0)]


@pytest.mark.parametrize(
    "script",
    [
        reuse_the_newest_id,
        reuse_a_purged_id,
        spent_message_ahead_of_a_fresh_one,
        empty_error_then_expiry,
        negative_limits,
    ],
)
def test_corner_cases_agree(
    tmp_path: Path, script: Callable[[Queue, FakeClock], list[Any]]
) -> None:
    """SQLite's corners (reused ids, LIMIT) that the memory adapter copies, side by side."""
    results = []
    for kind in ADAPTERS:
        clock = FakeClock()
        results.append(observable(script(open_queue(kind, tmp_path / "q.db", clock), clock)))
    assert results[0] == results[1]


OWNERS = st.sampled_from([None, "alice", "bob"])
BODIES = st.lists(
    st.dictionaries(
        st.sampled_from(["n", "rows", "é"]),
        st.none() | st.integers(-5, 5) | st.text(max_size=3) | st.lists(st.booleans(), max_size=2),
        max_size=2,
    ),
    min_size=1,
    max_size=5,
)
IDS = st.none() | st.lists(st.integers(-2, 14) | st.sampled_from(HUGE_IDS), max_size=4)
INDEXES = st.integers(0, 3)  # which received pair: 0 is the newest
ERRORS = st.sampled_from(["boom", "", "é"])
TIMES = st.sampled_from([0.0, 0.25, 0.5, 1.0, 2.0, 5.0, 30.0])


def comparable(message: Message) -> tuple[int, dict[str, Any], int, str | None]:
    """A message without its receipt (random in both adapters)."""
    return (message.id, message.body, message.receive_count, message.owner)


class SideBySide(RuleBasedStateMachine):
    """Random operations on a MemoryQueue and a SqliteQueue give the same results."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.directory = Path(tempfile.mkdtemp(prefix="queue-contract-"))
        self.db = Database(self.directory / "q.db")
        self.held: list[tuple[Message, Message]] = []  # (memory's, sqlite's), stale or not

    @initialize(max_receive_count=st.integers(1, 3), bodies=BODIES, owner=OWNERS)
    def open_queues(
        self, max_receive_count: int, bodies: list[dict[str, Any]], owner: str | None
    ) -> None:
        self.memory = MemoryQueue("batches", max_receive_count, self.clock)
        self.sqlite = SqliteQueue(self.db, "batches", max_receive_count, self.clock)
        self.send(bodies, owner)

    def teardown(self) -> None:
        self.db.conn.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def both(self, call: Callable[[Queue], Any]) -> Any:
        expected = call(self.sqlite)
        actual = call(self.memory)
        assert actual == expected
        return actual

    def pick(self, index: int) -> tuple[Message, Message] | None:
        """A received pair, the newest most often (older ones are mostly stale)."""
        return self.held[-1 - index % len(self.held)] if self.held else None

    @rule(bodies=BODIES, owner=OWNERS)
    def send(self, bodies: list[dict[str, Any]], owner: str | None) -> None:
        self.both(lambda q: q.send_many(bodies, owner))

    @rule(max_messages=st.integers(-1, 4), visibility=TIMES)
    def receive(self, max_messages: int, visibility: float) -> None:
        from_sqlite = self.sqlite.receive(max_messages, visibility)
        from_memory = self.memory.receive(max_messages, visibility)
        assert list(map(comparable, from_memory)) == list(map(comparable, from_sqlite))
        self.held.extend(zip(from_memory, from_sqlite, strict=True))

    @rule(visibility=TIMES, error=ERRORS, retry=TIMES)
    def receive_and_fail(self, visibility: float, error: str, retry: float) -> None:
        """A worker whose every message fails: the quick way into the DLQ."""
        self.receive(4, visibility)
        for memorys, sqlites in self.held[-4:]:
            assert self.memory.fail(memorys, error, retry) == self.sqlite.fail(
                sqlites, error, retry
            )

    @rule(index=INDEXES)
    def delete(self, index: int) -> None:
        if pair := self.pick(index):
            assert self.memory.delete(pair[0]) == self.sqlite.delete(pair[1])

    @rule(indexes=st.lists(INDEXES, max_size=4))
    def delete_many(self, indexes: list[int]) -> None:
        pairs = [pair for pair in map(self.pick, indexes) if pair is not None]
        expected = self.sqlite.delete_many([sqlites for _, sqlites in pairs])
        assert self.memory.delete_many([memorys for memorys, _ in pairs]) == expected

    @rule(index=INDEXES, timeout=TIMES)
    def change_visibility(self, index: int, timeout: float) -> None:
        if pair := self.pick(index):
            expected = self.sqlite.change_visibility(pair[1], timeout)
            assert self.memory.change_visibility(pair[0], timeout) == expected

    @rule(index=INDEXES, error=ERRORS, retry=TIMES)
    def fail(self, index: int, error: str, retry: float) -> None:
        if pair := self.pick(index):
            expected = self.sqlite.fail(pair[1], error, retry)
            assert self.memory.fail(pair[0], error, retry) == expected

    @rule(seconds=TIMES)
    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    @rule(owner=OWNERS, limit=st.sampled_from([-1, 0, 1, 2, 100]))
    def dead_letters(self, owner: str | None, limit: int) -> None:
        self.both(lambda q: q.dead_letters(owner, limit))

    @rule(owner=OWNERS, ids=IDS)
    def redrive(self, owner: str | None, ids: list[int] | None) -> None:
        self.both(lambda q: q.redrive(owner, ids))

    @rule(owner=OWNERS, ids=IDS)
    def purge_dead(self, owner: str | None, ids: list[int] | None) -> None:
        self.both(lambda q: q.purge_dead(owner, ids))

    @invariant()
    def same_state(self) -> None:
        self.both(lambda q: q.depth())
        self.both(lambda q: q.dead_letters(None, -1))
        for owner in (None, "alice", "bob"):
            assert self.memory.dlq_depth(owner) == self.sqlite.dlq_depth(owner)


SideBySide.TestCase.settings = settings(max_examples=60, stateful_step_count=50)
test_memory_and_sqlite_queues_agree = SideBySide.TestCase


def test_release_gives_a_message_back_without_using_a_try(queue: Queue, clock: FakeClock) -> None:
    (message_id,) = queue.send_many([{"n": 1}])
    for _ in range(5):  # far more receives than max_receive_count, all released
        message = receive_one(queue)
        assert message.receive_count == 1
        assert queue.release(message, 10)
        assert queue.receive(1, LEASE) == []  # not before the delay
        clock.advance(10)
    assert queue.dlq_depth() == 0
    message = receive_one(queue)
    assert not queue.release(replace(message, receipt="stale"), 0)
    assert queue.delete(message)
    assert message.id == message_id


def test_bury_puts_messages_straight_into_the_dlq(queue: Queue) -> None:
    ids = queue.bury([{"n": 1}, {"n": 2}], "alice", "contact-info is missing")
    assert len(ids) == 2 and queue.depth() == 0
    letters = queue.dead_letters("alice")
    assert {letter.id for letter in letters} == set(ids)
    assert all(letter.last_error == "contact-info is missing" for letter in letters)
    assert all(letter.receive_count == 0 for letter in letters)
    assert queue.dead_letters("bob") == []
