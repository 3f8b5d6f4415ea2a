"""End-to-end tests of `leadflow dlq list|redrive|purge`.

Dead letters are made the way the service makes them: messages on the "batches" queue
of the data directory's database, received and failed three times (SPEC 'Dead-letter
queue': maxReceiveCount 3, kept with the last error). The console script then runs as a
subprocess over the same database, and its effect is read back through the queue.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from cli_runner import Cli

from leadflow.adapters.sqlite_db import Database
from leadflow.adapters.sqlite_queue import SqliteDeadLetters, SqliteQueue

LETTER_KEYS = {"id", "body", "receiveCount", "lastError", "owner", "createdAt", "deadAt"}


def open_queue(cli: Cli) -> SqliteQueue:
    return SqliteQueue(Database(cli.data_dir / "leadflow.db"), "batches", 3)


def open_letters(cli: Cli) -> SqliteDeadLetters:
    return SqliteDeadLetters(Database(cli.data_dir / "leadflow.db"), "batches")


def make_dead(
    queue: SqliteQueue, bodies: list[dict[str, Any]], owner: str, error: str
) -> list[str]:
    """Send the bodies and fail them three times: they end in the DLQ with `error`."""
    ids = queue.send_many(bodies, owner=owner)
    for attempt in range(1, 4):
        messages = [m for m in queue.receive(1000, 60) if m.id in ids]
        assert len(messages) == len(ids)
        for message in messages:
            assert queue.fail(message, f"{error} (attempt {attempt})")
    assert queue.depth() >= 0
    return ids


@pytest.fixture
def queue(cli: Cli) -> SqliteQueue:
    return open_queue(cli)


@pytest.fixture
def letters(cli: Cli) -> SqliteDeadLetters:
    return open_letters(cli)


@pytest.fixture
def dead(queue: SqliteQueue, letters: SqliteDeadLetters) -> dict[str, list[str]]:
    """alice: two dead letters; bob: one; and one live message of alice's."""
    ids = {
        "alice": make_dead(queue, [{"batch": 1, "rows": ["é"]}, {"batch": 2}], "alice", "smtp"),
        "bob": make_dead(queue, [{"batch": 3}], "bob", "slack 500"),
    }
    ids["live"] = queue.send_many([{"batch": 4}], owner="alice")
    assert {letter.id for letter in letters.list()} == {*ids["alice"], *ids["bob"]}
    return ids


def ok(result: Any) -> Any:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result


def json_lines(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_list_shows_a_table_of_every_dead_letter(cli: Cli, dead: dict[str, list[str]]) -> None:
    result = ok(cli.run("dlq", "list"))
    lines = result.stdout.splitlines()
    for header in ("id", "owner", "receives", "dead since", "last error", "message"):
        assert header in lines[1], lines[:3]
    rows = [line for line in lines if "smtp" in line or "slack" in line]
    assert len(rows) == 3, result.stdout
    assert "alice" in result.stdout and "bob" in result.stdout
    assert "smtp (attempt 3)" in result.stdout
    assert "slack 500 (attempt 3)" in result.stdout
    assert '{"batch": 1, "rows": ["é"]}' in result.stdout
    assert 'batch": 4' not in result.stdout, "a live message is not a dead letter"


def test_list_json_is_one_object_per_line_newest_first(
    cli: Cli, dead: dict[str, list[str]]
) -> None:
    letters = json_lines(ok(cli.run("dlq", "list", "--json")).stdout)
    assert [letter["id"] for letter in letters] == sorted(
        [*dead["alice"], *dead["bob"]], key=int, reverse=True
    )
    for letter in letters:
        assert set(letter) == LETTER_KEYS
        assert letter["receiveCount"] == 3
        assert letter["deadAt"].endswith("Z") and letter["createdAt"].endswith("Z")
    by_id = {letter["id"]: letter for letter in letters}
    first = by_id[dead["alice"][0]]
    assert first["body"] == {"batch": 1, "rows": ["é"]}
    assert first["owner"] == "alice"
    assert first["lastError"] == "smtp (attempt 3)"
    assert by_id[dead["bob"][0]]["lastError"] == "slack 500 (attempt 3)"


def test_list_owner_filter(cli: Cli, dead: dict[str, list[str]]) -> None:
    alice = json_lines(ok(cli.run("dlq", "list", "--owner", "alice", "--json")).stdout)
    assert sorted(letter["id"] for letter in alice) == dead["alice"]
    assert {letter["owner"] for letter in alice} == {"alice"}
    bob_table = ok(cli.run("dlq", "list", "--owner", "bob")).stdout
    assert "slack 500" in bob_table and "smtp" not in bob_table
    nobody = ok(cli.run("dlq", "list", "--owner", "carol"))
    assert nobody.stdout == ""
    assert "the dead-letter queue is empty" in nobody.stderr


def test_list_limit_says_how_many_are_left(cli: Cli, dead: dict[str, list[str]]) -> None:
    result = ok(cli.run("dlq", "list", "--limit", "1"))
    assert "showing 1 of 3" in result.stderr
    assert len(json_lines(ok(cli.run("dlq", "list", "--limit", "2", "--json")).stdout)) == 2


def test_an_empty_dlq_says_so(cli: Cli, queue: SqliteQueue) -> None:
    queue.send_many([{"batch": 1}], owner="alice")  # alive: not in the DLQ
    result = ok(cli.run("dlq", "list"))
    assert result.stdout == ""
    assert "the dead-letter queue is empty" in result.stderr
    assert ok(cli.run("dlq", "list", "--json")).stdout == ""
    assert "0 messages sent back" in ok(cli.run("dlq", "redrive")).stderr
    assert "0 dead letters deleted" in ok(cli.run("dlq", "purge", "--yes")).stderr
    assert queue.depth() == 1


def test_redrive_everything(
    cli: Cli, queue: SqliteQueue, dead: dict[str, list[str]], letters: SqliteDeadLetters
) -> None:
    result = ok(cli.run("dlq", "redrive"))
    assert "3 messages sent back to the queue" in result.stderr
    assert letters.depth() == 0
    assert queue.depth() == 4
    counts = {m.id: m.receive_count for m in queue.receive(10, 60)}
    assert counts == dict.fromkeys([*dead["alice"], *dead["bob"], *dead["live"]], 1)


def test_redrive_by_owner(
    cli: Cli, queue: SqliteQueue, dead: dict[str, list[str]], letters: SqliteDeadLetters
) -> None:
    assert "1 message sent back" in ok(cli.run("dlq", "redrive", "--owner", "bob")).stderr
    assert [letter.id for letter in letters.list()] == dead["alice"][::-1]
    assert "0 messages sent back" in ok(cli.run("dlq", "redrive", "--owner", "carol")).stderr


def test_redrive_by_id(
    cli: Cli, queue: SqliteQueue, dead: dict[str, list[str]], letters: SqliteDeadLetters
) -> None:
    first, second = dead["alice"]
    result = ok(cli.run("dlq", "redrive", "--id", str(first), "--id", str(dead["bob"][0])))
    assert "2 messages sent back" in result.stderr
    assert [letter.id for letter in letters.list()] == [second]
    # another owner's id with --owner, a live message, ids that cannot exist: nothing moves
    for args in (
        ["--owner", "bob", "--id", str(second)],
        ["--id", str(dead["live"][0])],
        ["--id", "99999999999999999999999", "--id", "0", "--id", "-5", "--id", "x"],
    ):
        assert "0 messages sent back" in ok(cli.run("dlq", "redrive", *args)).stderr, args
    assert letters.depth() == 1
    (message,) = [m for m in queue.receive(10, 60) if m.id == first]
    assert message.receive_count == 1, "a fresh receive count"


def test_purge_everything(
    cli: Cli, queue: SqliteQueue, dead: dict[str, list[str]], letters: SqliteDeadLetters
) -> None:
    result = ok(cli.run("dlq", "purge", "--yes"))
    assert "3 dead letters deleted" in result.stderr
    assert letters.depth() == 0
    assert queue.depth() == 1, "the live message stays"
    assert "the dead-letter queue is empty" in ok(cli.run("dlq", "list")).stderr


def test_purge_by_id_and_owner(
    cli: Cli, queue: SqliteQueue, dead: dict[str, list[str]], letters: SqliteDeadLetters
) -> None:
    first, second = dead["alice"]
    assert (
        "1 dead letter deleted" in ok(cli.run("dlq", "purge", "--yes", "--id", str(first))).stderr
    )
    assert sorted(letter.id for letter in letters.list()) == [second, *dead["bob"]]
    result = ok(cli.run("dlq", "purge", "--yes", "--owner", "alice", "--id", str(dead["bob"][0])))
    assert "0 dead letters deleted" in result.stderr
    result = ok(cli.run("dlq", "purge", "--yes", "--id", "99999999999999999999999", "--id", "-1"))
    assert "0 dead letters deleted" in result.stderr
    assert "1 dead letter deleted" in ok(cli.run("dlq", "purge", "--yes", "--owner", "bob")).stderr
    assert [letter.id for letter in letters.list()] == [second]
    assert queue.depth() == 1


def test_ids_are_taken_as_listed_and_unknown_ones_move_nothing(
    cli: Cli, dead: dict[str, list[str]]
) -> None:
    """Ids are strings (SQS message ids are): what `dlq list` shows is what --id takes;
    an id that names no dead letter is no error, it just matches nothing."""
    listed = [letter["id"] for letter in json_lines(ok(cli.run("dlq", "list", "--json")).stdout)]
    assert all(isinstance(i, str) for i in listed) and len(listed) == 3
    for args in (["redrive", "--id", "x"], ["purge", "--yes", "--id", "1.5"]):
        result = ok(cli.run("dlq", *args))
        assert result.stderr.startswith("0 "), (args, result.stderr)
    assert open_letters(cli).depth() == 3
    assert "1 dead letter deleted" in ok(cli.run("dlq", "purge", "--yes", "--id", listed[0])).stderr


def test_purge_without_a_terminal_needs_yes(
    cli: Cli, queue: SqliteQueue, dead: dict[str, list[str]], letters: SqliteDeadLetters
) -> None:
    result = cli.run("dlq", "purge")
    assert result.returncode == 2
    assert "--yes" in result.stderr
    assert letters.depth() == len(dead["alice"]) + len(dead["bob"])  # nothing deleted
