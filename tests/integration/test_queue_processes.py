"""SqliteQueue shared by real processes, each with its own connection to one file.

The module docstring of sqlite_queue promises that several worker processes can share
one data directory: a message is leased to exactly one receiver at a time, and a lease
that runs out (a worker killed mid-batch) makes the message visible again. These tests
start worker processes (spawn), let them race for the messages of one queue, and read
what each received from a result file of its own (JSON lines, flushed per batch).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time
from multiprocessing.synchronize import Barrier, Event
from pathlib import Path
from typing import Any

from leadflow.adapters.sqlite_db import Database
from leadflow.adapters.sqlite_queue import SqliteDeadLetters, SqliteQueue

CONTEXT = multiprocessing.get_context("spawn")
DEADLINE = 20.0  # seconds a worker keeps trying before it gives up


def drain(
    db_path: str, results: str, start: Event | Barrier, visibility: float, work: float = 0.0
) -> None:
    """Receive, work `work` seconds a batch and delete, until the queue is empty.

    Logs [id, receive_count, deleted, received_at] per message.
    """
    queue = SqliteQueue(Database(Path(db_path)), "batches")
    start.wait(DEADLINE)  # all together: every worker is connected before any receives
    give_up = time.monotonic() + DEADLINE
    with open(results, "a", encoding="utf-8") as out:
        while time.monotonic() < give_up:
            messages = queue.receive(10, visibility)
            received_at = time.time()
            if not messages:
                if queue.depth() == 0:
                    return
                time.sleep(0.02)  # the rest is leased to others: wait for acks or expiry
                continue
            time.sleep(work)  # the batch is being processed: its leases are held
            for message in messages:
                deleted = queue.delete(message)
                out.write(json.dumps([message.id, message.receive_count, deleted, received_at]))
                out.write("\n")
            out.flush()


def hold(db_path: str, results: str, count: int, visibility: float, holding: Event) -> None:
    """Lease `count` messages, log them and hang on to them until killed."""
    queue = SqliteQueue(Database(Path(db_path)), "batches")
    leased_at = time.time()
    messages = queue.receive(count, visibility)
    with open(results, "w", encoding="utf-8") as out:
        json.dump({"leased_at": leased_at, "ids": [m.id for m in messages]}, out)
        out.flush()
        os.fsync(out.fileno())
    holding.set()
    time.sleep(60)


def read_results(paths: list[Path]) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for path in paths:
        if path.exists():
            rows.extend(json.loads(line) for line in path.read_text().splitlines())
    return rows


def send(db_path: Path, count: int) -> list[str]:
    queue = SqliteQueue(Database(db_path), "batches")
    ids: list[str] = []
    for start in range(0, count, 500):
        ids += queue.send_many([{"n": n} for n in range(start, min(count, start + 500))])
    return ids


def test_concurrent_receivers_process_every_message_exactly_once(tmp_path: Path) -> None:
    db_path = tmp_path / "q.db"
    ids = send(db_path, 2000)
    outputs = [tmp_path / f"worker-{n}.jsonl" for n in range(4)]
    start = CONTEXT.Barrier(len(outputs))
    workers = [
        CONTEXT.Process(target=drain, args=(str(db_path), str(out), start, 30.0, 0.003))
        for out in outputs
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(DEADLINE + 10)
        assert worker.exitcode == 0, worker.exitcode

    rows = read_results(outputs)
    received = sorted((row[0] for row in rows), key=int)
    assert received == ids, "every message once, none twice"
    assert {row[1] for row in rows} == {1}, "no message was leased a second time"
    assert all(row[2] for row in rows), "every delete found its lease"
    per_worker = [len(read_results([out])) for out in outputs]
    assert sum(1 for n in per_worker if n) >= 2, per_worker
    queue = SqliteQueue(Database(db_path), "batches")
    assert (queue.depth(), SqliteDeadLetters(Database(db_path), "batches").depth()) == (0, 0)


def test_a_killed_workers_leases_run_out_and_another_process_takes_them(tmp_path: Path) -> None:
    db_path = tmp_path / "q.db"
    ids = send(db_path, 400)
    holding, start = CONTEXT.Event(), CONTEXT.Event()
    held_file = tmp_path / "victim.json"
    victim = CONTEXT.Process(target=hold, args=(str(db_path), str(held_file), 60, 0.5, holding))
    victim.start()
    assert holding.wait(DEADLINE), "the victim did not lease anything"
    held = json.loads(held_file.read_text())
    assert len(held["ids"]) == 60

    outputs = [tmp_path / f"worker-{n}.jsonl" for n in range(2)]
    workers = [
        CONTEXT.Process(target=drain, args=(str(db_path), str(out), start, 5.0)) for out in outputs
    ]
    for worker in workers:
        worker.start()
    os.kill(victim.pid or 0, signal.SIGKILL)  # mid-batch, its leases unacknowledged
    victim.join(10)
    assert victim.exitcode == -signal.SIGKILL
    start.set()
    for worker in workers:
        worker.join(DEADLINE + 10)
        assert worker.exitcode == 0, worker.exitcode

    rows = read_results(outputs)
    assert sorted((row[0] for row in rows), key=int) == ids, "nothing lost, nothing done twice"
    assert all(row[2] for row in rows)
    counts = {row[0]: row[1] for row in rows}
    retaken = {row[0]: row[3] for row in rows if row[0] in set(held["ids"])}
    assert {counts[i] for i in held["ids"]} == {2}, "the victim's messages came back once"
    assert {counts[i] for i in set(ids) - set(held["ids"])} == {1}
    assert min(retaken.values()) >= held["leased_at"] + 0.5, "taken before the lease ran out"
    queue = SqliteQueue(Database(db_path), "batches")
    assert (queue.depth(), SqliteDeadLetters(Database(db_path), "batches").depth()) == (0, 0)
