"""The long-running part of `leadflow serve` and `leadflow worker`: job workers, the inbox
watcher, the notifier and the status sweeper, each a supervised loop (jobs/supervisor.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ..notify.notifier import Notifier
from ..settings import Settings
from .inbox import InboxPorts, InboxWatcher, StoreFailures
from .supervisor import Supervisor
from .sweeper import sweep_expired
from .worker import Worker, WorkerPorts

NOTIFY_EVERY = 0.5  # seconds between looks at the outbox (retries, entries left behind)
SWEEP_EVERY = 60.0  # seconds between sweeps of expired status documents


@dataclass(frozen=True)
class RuntimePorts:
    """What the runtime's loops use (bootstrap.runtime_ports builds it)."""

    settings: Settings
    worker: WorkerPorts
    inbox: InboxPorts
    # aws backend: (SQS client, inbox queue URL, object opener); the inbox loop then polls
    # the queue the bucket notifies instead of watching <data>/inbox/ (aws/inbox_poller.py)
    inbox_queue: tuple[Any, str, Any] | None = None


class NotifierLoop:
    """Sends what the outbox holds: retries, and entries a dead process left claimed."""

    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier

    def step(self) -> float:
        self.notifier.run_once()
        return NOTIFY_EVERY


class SweeperLoop:
    """Forgets jobs whose TTL has passed (jobs/sweeper.py) and enters batches the queue
    dead-lettered on its own in their jobs' ledgers (Worker.adopt_dead_letters)."""

    def __init__(self, ports: WorkerPorts, stop: threading.Event) -> None:
        self.ports = ports
        self.stop = stop

    def step(self) -> float:
        ports = self.ports
        sweep_expired(ports.jobs, ports.blobs, ports.ledger, ports.write.leads, ports.clock())
        Worker(ports, self.stop).adopt_dead_letters()
        return SWEEP_EVERY


def build_runtime(
    ports: RuntimePorts, stop: threading.Event, workers: int, role: str
) -> Supervisor:
    """A supervisor holding `workers` job workers, the inbox watcher, the notifier and the
    sweeper (not started: call `start()`). One Notifier is shared by the inbox (which
    sends a file's messages at once) and the notifier loop, so they never race."""
    settings = ports.settings
    supervisor = Supervisor(
        stop,
        role=role,
        backoff=settings.restart_backoff,
        max_backoff=settings.restart_backoff_max,
        run_dir=settings.data_dir / "run",
    )
    notifier = Notifier(ports.inbox.notifier)
    for n in range(workers):
        supervisor.add(f"worker-{n}", lambda: Worker(ports.worker, stop))
    failures = StoreFailures()  # outlives restarts of the inbox loop
    if ports.inbox_queue is not None:
        from ..aws.inbox_poller import InboxQueuePoller

        sqs, url, opener = ports.inbox_queue
        supervisor.add(
            "inbox",
            lambda: InboxQueuePoller(ports.inbox, opener, sqs, url, stop, notifier, failures),
        )
    else:
        supervisor.add("inbox", lambda: InboxWatcher(ports.inbox, stop, notifier, failures))
    supervisor.add("notifier", lambda: NotifierLoop(notifier))
    supervisor.add("sweeper", lambda: SweeperLoop(ports.worker, stop))
    return supervisor


@contextmanager
def running(
    ports: RuntimePorts, stop: threading.Event, workers: int, role: str
) -> Iterator[Supervisor]:
    """The runtime of `build_runtime`, started; on leaving (normally or by an exception)
    `stop` is set, each loop finishes the message in hand, and the runtime is closed."""
    runtime = build_runtime(ports, stop, workers, role)
    threads = runtime.start()
    try:
        yield runtime
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        runtime.close()
