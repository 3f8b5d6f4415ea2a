"""Inbox drop folders: files dropped into <data>/inbox/leads/ and <data>/inbox/orders/.

Writers should write `name.tmp` and rename it when done (files ending .tmp or starting
with a dot are never read); for writers that cannot, a file is only taken once its size
and modification time have stayed the same for a moment. A file is claimed by renaming
it into `processing/` (atomic: with several workers exactly one wins), then moved to
`processed/`, or to `rejected/` with a `.reason.txt` beside it. Nothing is deleted.
A file left in `processing/` by a worker that died goes back to the inbox on the next
start. This module is the trigger adapter: on AWS, S3 events start the same pipelines.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ..bootstrap import Services
from ..notify.notifier import Notifier
from ..pipelines.orders import run_orders
from ..pipelines.realtime import process_lead_file
from ..readers import UnreadableFile, open_records, read_options

log = logging.getLogger("leadflow.inbox")
KINDS = ("leads", "orders")
SETTLE_SECONDS = 0.05  # a file must look finished (same size and mtime) this long


class Inbox:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.root = services.settings.data_dir / "inbox"
        self.owner = services.settings.inbox_owner
        self._seen: dict[Path, tuple[int, float, float]] = {}  # path -> size, mtime, seen at
        self.notifier = Notifier(services, services.outbox)
        for kind in KINDS:
            for sub in ("", "processing", "processed", "rejected"):
                (self.root / kind / sub).mkdir(parents=True, exist_ok=True)

    def recover(self) -> int:
        """Put files whose worker died back into the inbox; how many."""
        moved = 0
        for kind in KINDS:
            for path in (self.root / kind / "processing").iterdir():
                pid, _, name = path.name.partition("-")
                if pid.isdigit() and not _alive(int(pid)):
                    os.replace(path, self.root / kind / name)
                    moved += 1
        return moved

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
        return [(kind, path) for _, kind, path in sorted(found)]

    def claim(self, kind: str, path: Path) -> Path | None:
        """Take the file for this process, or None when another worker was faster."""
        target = self.root / kind / "processing" / f"{os.getpid()}-{path.name}"
        try:
            os.rename(path, target)
        except FileNotFoundError:
            return None
        self._seen.pop(path, None)
        return target

    def process(self, kind: str, claimed: Path) -> None:
        name = claimed.name.partition("-")[2]
        try:
            if kind == "leads":
                process_lead_file(self.services, self.owner, claimed, name)
                self.notifier.run_once()  # at once: seed 002 waited 10 minutes
            else:
                records = [
                    r
                    for batch in open_records(
                        claimed, 100_000, read_options(self.services.settings), name
                    ).batches()
                    for _, r in batch
                ]
                orders = (
                    records[0].get("orders")
                    if len(records) == 1 and isinstance(records[0], dict) and "orders" in records[0]
                    else records
                )
                if not isinstance(orders, list):
                    raise UnreadableFile(
                        f'{name}: expected {{"orders": [...]}} or a list of orders'
                    )
                run_orders(self.services.orders, self.services.queue, self.owner, orders, name)
        except (UnreadableFile, ValueError) as exc:
            self._finish(kind, claimed, name, "rejected", str(exc))
            return
        self._finish(kind, claimed, name, "processed", None)

    def _finish(self, kind: str, claimed: Path, name: str, where: str, reason: str | None) -> None:
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        target = self.root / kind / where / f"{stamp}-{name}"
        os.replace(claimed, target)
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


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def watch(
    services: Services, stop: threading.Event, on_idle: Callable[[], None] | None = None
) -> None:
    """Process inbox files as they arrive (OS file events), until `stop` is set."""
    from watchfiles import watch as file_events

    inbox = Inbox(services)
    inbox.recover()
    inbox.run_once()
    folders = [inbox.root / kind for kind in KINDS]
    for _changes in file_events(
        *folders,
        stop_event=stop,
        debounce=20,
        step=10,
        yield_on_timeout=True,
        rust_timeout=500,
        recursive=False,
    ):
        try:
            while inbox.run_once():
                pass
            inbox.notifier.run_once()  # retries and entries left by a worker that died
            if inbox._seen:  # files still settling: look again shortly
                time.sleep(SETTLE_SECONDS)
                inbox.run_once()
        except Exception:  # one bad moment must not stop the watcher
            log.exception("inbox pass failed")
        if on_idle is not None:
            on_idle()
