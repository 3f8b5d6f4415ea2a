"""Inbox drop folders: files dropped into <data>/inbox/leads/ and <data>/inbox/orders/.

Writers should write `name.tmp` and rename it when done (files ending .tmp or starting
with a dot are never read); for writers that cannot, a file is only taken once its size
and modification time have stayed the same for a moment. A file is claimed by renaming
it into `processing/<pid>/` (atomic: with several workers exactly one wins), then moved to
`processed/`, or to `rejected/` with a `.reason.txt` beside it. Nothing is deleted.

No file stays stuck: any failure of a file's own (unreadable, bad values, a bug) rejects
it with the error as its reason; a failure of the store (the database unavailable) puts it
back into the inbox to be tried again, and the watcher reports itself down until the
store answers. A file left in `processing/` by a process that died (or that stopped
showing signs of life for LEADFLOW_INBOX_STALE_SECONDS) goes back to the inbox, checked
at start and every LEADFLOW_INBOX_RECOVER_SECONDS while running. This module is the trigger
adapter: on AWS, S3 events start the same pipelines.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..notify.notifier import Notifier, NotifierPorts
from ..pipelines.orders import run_orders
from ..pipelines.realtime import RealtimePorts, process_lead_file
from ..ports import DeadLetters, OrderStore
from ..readers import UnreadableFile, open_records, read_options
from ..settings import Settings
from .supervisor import pid_alive

log = logging.getLogger("leadflow.inbox")
KINDS = ("leads", "orders")
SETTLE_SECONDS = 0.05  # a file must look finished (same size and mtime) this long


STORE_TRIES = 3  # store failures on one file, while others go through, before rejecting it


class StoreFailures:
    """Files that failed with a store error, kept across restarts of the inbox loop.

    A store error is retried, not held against the file: the database may be down. But
    a file on which the store keeps failing while other files go through is the cause
    (a poison file), and after STORE_TRIES it is rejected so it cannot block the inbox.
    """

    def __init__(self) -> None:
        self.successes = 0  # files that went through
        self._failures: dict[str, tuple[int, int]] = {}  # name -> (count, successes then)

    def failed(self, name: str) -> bool:
        """Count a store failure on this file; True when the file is to be rejected."""
        count, since = self._failures.get(name, (0, self.successes))
        self._failures[name] = (count + 1, since)
        return count + 1 >= STORE_TRIES and self.successes > since

    def settled(self, name: str, went_through: bool) -> None:
        self._failures.pop(name, None)
        self.successes += went_through

    def __contains__(self, name: str) -> bool:
        return name in self._failures


@dataclass(frozen=True)
class InboxPorts:
    """What the inbox uses (bootstrap.inbox_ports builds it). `store_unavailable` says
    whether an exception means the store is down (the file is tried again later)."""

    settings: Settings
    realtime: RealtimePorts
    notifier: NotifierPorts
    orders: OrderStore
    dead_letters: DeadLetters
    store_unavailable: Callable[[BaseException], bool]


class Inbox:
    def __init__(
        self,
        ports: InboxPorts,
        notifier: Notifier | None = None,
        failures: StoreFailures | None = None,
    ) -> None:
        self.ports = ports
        self.failures = failures or StoreFailures()
        self.root = ports.settings.data_dir / "inbox"
        self.owner = ports.settings.inbox_owner
        self._seen: dict[Path, tuple[int, float, float]] = {}  # path -> size, mtime, seen at
        self.notifier = notifier or Notifier(ports.notifier)
        # Files under our own pid before this object's first recovery belong to an
        # earlier life of this pid (a restarted loop, or a pid reused after a crash).
        self._recovered_own = False
        for kind in KINDS:
            for sub in ("", "processing", "processed", "rejected"):
                (self.root / kind / sub).mkdir(parents=True, exist_ok=True)

    def _mine(self, kind: str) -> Path:
        return self.root / kind / "processing" / str(os.getpid())

    def heartbeat(self) -> None:
        """Show that this process's claimed files are still being worked on."""
        for kind in KINDS:
            with contextlib.suppress(FileNotFoundError):  # none claimed, or removed as empty
                os.utime(self._mine(kind))

    def recover(self) -> int:
        """Put files whose process died or went silent back into the inbox; how many."""
        stale_after = self.ports.settings.inbox_stale_seconds
        moved = 0
        for kind in KINDS:
            processing = self.root / kind / "processing"
            for entry in processing.iterdir():
                if entry.is_file():  # the layout before per-process folders: <pid>-<name>
                    prefix, _, name = entry.name.partition("-")
                    if prefix.isdigit() and not pid_alive(int(prefix)):
                        moved += self._back(kind, entry, name)
                    continue
                if not entry.name.isdigit():
                    continue
                pid = int(entry.name)
                try:
                    if pid == os.getpid():
                        abandoned = not self._recovered_own
                    else:
                        silent = time.time() - entry.stat().st_mtime > stale_after
                        abandoned = silent or not pid_alive(pid)
                    if abandoned:
                        for path in sorted(entry.iterdir()):
                            moved += self._back(kind, path, path.name)
                        if pid != os.getpid():
                            _remove_empty(entry)
                except FileNotFoundError:  # another process recovered it just now
                    continue
        self._recovered_own = True
        if moved:
            log.warning("inbox files recovered from processing/", extra={"files": moved})
        return moved

    def _back(self, kind: str, path: Path, name: str) -> int:
        target = self.root / kind / name
        if target.exists():  # dropped again meanwhile: keep both
            target = target.with_name(f"recovered-{time.time_ns()}-{name}")
        try:
            os.rename(path, target)
        except FileNotFoundError:  # its owner finished it just now
            return 0
        return 1

    def ready(self) -> list[tuple[str, Path]]:
        """Files that look complete, oldest first."""
        found = []
        now = time.monotonic()
        for kind in KINDS:
            for entry in os.scandir(self.root / kind):
                name = entry.name
                if not entry.is_file() or name.startswith(".") or name.endswith(".tmp"):
                    continue
                stat = entry.stat()
                path = Path(entry.path)
                seen = self._seen.get(path)
                key = (stat.st_size, stat.st_mtime)
                if time.time() - stat.st_mtime >= SETTLE_SECONDS:
                    found.append((stat.st_mtime, kind, path))
                elif seen is None or seen[:2] != key:
                    self._seen[path] = (*key, now)
                elif now - seen[2] >= SETTLE_SECONDS:
                    found.append((stat.st_mtime, kind, path))
        # files the store failed on go last: the others must not wait behind them
        found.sort(key=lambda item: (item[2].name in self.failures, item[0]))
        return [(kind, path) for _, kind, path in found]

    def claim(self, kind: str, path: Path) -> Path | None:
        """Take the file for this process, or None when another worker was faster."""
        mine = self._mine(kind)
        mine.mkdir(exist_ok=True)
        target = mine / path.name
        try:
            os.rename(path, target)
        except FileNotFoundError:
            return None
        self._seen.pop(path, None)
        return target

    def process(self, kind: str, claimed: Path) -> None:
        """Run a claimed file and move it to processed/ or rejected/.

        Raises only when the store is unavailable; the file is then back in the inbox.
        """
        name = claimed.name
        try:
            if kind == "leads":
                process_lead_file(self.ports.realtime, self.owner, claimed, name)
            else:
                self._orders(claimed, name)
        except Exception as exc:
            reason = _reason(exc)
            if self.ports.store_unavailable(exc):
                if not self.failures.failed(name):  # the store, not the file: try it later
                    self._back(kind, claimed, name)
                    raise
                reason = f"the store failed on this file {STORE_TRIES} times: {reason}"
            elif not isinstance(exc, UnreadableFile | ValueError):  # a bug: keep its trace
                log.exception("inbox file failed", extra={"file": name})
            self.failures.settled(name, went_through=False)
            self._finish(kind, claimed, name, "rejected", reason)
            return
        self.failures.settled(name, went_through=True)
        self._finish(kind, claimed, name, "processed", None)
        if kind == "leads":
            self._notify()

    def _orders(self, claimed: Path, name: str) -> None:
        stream = open_records(claimed, 100_000, read_options(self.ports.settings), name)
        records = [r for batch in stream.batches() for _, r in batch]
        orders = (
            records[0].get("orders")
            if len(records) == 1 and isinstance(records[0], dict) and "orders" in records[0]
            else records
        )
        if not isinstance(orders, list):
            raise UnreadableFile(f'{name}: expected {{"orders": [...]}} or a list of orders')
        run_orders(self.ports.orders, self.ports.dead_letters, self.owner, orders, name)

    def _notify(self) -> None:
        """Send the new leads' messages at once (seed 002 waited 10 minutes).

        The file's outcome never depends on its notifications: what cannot be sent now
        stays in the outbox for the notifier loop.
        """
        try:
            self.notifier.run_once()
        except Exception:
            log.exception("notifications after an inbox file failed; the notifier retries")

    def _finish(self, kind: str, claimed: Path, name: str, where: str, reason: str | None) -> None:
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        target = self.root / kind / where / f"{stamp}-{name}"
        try:
            os.replace(claimed, target)
        except FileNotFoundError:
            if claimed.exists():  # the folder was removed: make it again
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(claimed, target)
            else:  # recovered from under us as silent: it runs again
                log.warning("inbox file was taken back before it finished", extra={"file": name})
                return
        if reason is not None:
            target.with_name(target.name + ".reason.txt").write_text(reason + "\n")
            log.warning("inbox file rejected", extra={"file": name, "reason": reason})

    def run_once(self) -> int:
        """Claim and process every ready file; how many this process handled."""
        handled = 0
        for kind, path in self.ready():
            claimed = self.claim(kind, path)
            if claimed is not None:
                self.process(kind, claimed)
                handled += 1
        return handled


class InboxWatcher:
    """The supervised inbox loop: each step processes what is ready, recovers abandoned
    files when due, then waits for the next file event (at most half a second)."""

    def __init__(
        self,
        ports: InboxPorts,
        stop: threading.Event,
        notifier: Notifier | None = None,
        failures: StoreFailures | None = None,
    ) -> None:
        from watchfiles import watch as file_events

        self.inbox = Inbox(ports, notifier, failures)
        self.inbox.recover()
        self._recover_every = ports.settings.inbox_recover_seconds
        self._next_recovery = time.monotonic() + self._recover_every
        folders = [self.inbox.root / kind for kind in KINDS]
        self._events = file_events(
            *folders,
            stop_event=stop,
            debounce=20,
            step=10,
            yield_on_timeout=True,
            rust_timeout=500,
            recursive=False,
        )

    def step(self) -> float:
        inbox = self.inbox
        while inbox.run_once():
            pass
        if inbox._seen:  # files still settling: look again shortly
            time.sleep(SETTLE_SECONDS)
            inbox.run_once()
        if time.monotonic() >= self._next_recovery:
            inbox.recover()
            self._next_recovery = time.monotonic() + self._recover_every
        inbox.heartbeat()
        next(self._events, None)  # the next file event, a timeout, or the stop
        return 0.0


def _reason(exc: Exception) -> str:
    if isinstance(exc, UnreadableFile | ValueError):
        return str(exc) or type(exc).__name__
    return f"the file could not be processed: {type(exc).__name__}: {exc}"


def _remove_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:  # not empty (its owner claimed another file) or gone: leave it
        pass
