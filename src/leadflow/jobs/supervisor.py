"""Supervised loops: every loop that runs forever (job workers, the inbox watcher, the
notifier, the sweeper) survives any exception, says so, and keeps going.

A component is a factory of `Loop`s. The supervisor builds one and calls its `step()`
until `stop` is set; when a step raises (any exception), the loop is dropped, the error
is logged and kept as the component's last error, and after a backoff (doubling from
`backoff` up to `max_backoff` seconds) a fresh loop is built. The component counts as
down from the failure until a step succeeds again.

Each process publishes its components' states to `<data>/run/<pid>.json` so that
`leadflow status` (another process) and `/readyz` can show every live process on the
data directory. Writing that file is best effort: a full or read-only disk must not stop
the loops it reports on.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from ..clock import iso
from .metrics import RESTARTS

log = logging.getLogger("leadflow.supervisor")
State = Literal["starting", "running", "restarting", "stopped", "dead"]
DOWN: frozenset[str] = frozenset({"restarting", "dead"})
PUBLISH_EVERY = 5.0  # seconds between heartbeats of a process's state file


class Loop(Protocol):
    def step(self) -> float:
        """One pass of work; the seconds to wait before the next pass (0: at once).

        Raises anything: the supervisor logs it and builds a fresh loop after a backoff.
        """
        ...


@dataclass
class Component:
    """One supervised loop's state, as /readyz and `leadflow status` show it."""

    name: str
    factory: Callable[[], Loop]
    state: State = "starting"
    restarts: int = 0
    last_error: str | None = None
    last_error_at: float | None = None
    since: float = field(default_factory=time.time)  # when it entered its state
    thread: threading.Thread | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": self.state,
            "restarts": self.restarts,
            "lastError": self.last_error,
            "lastErrorAt": _iso(self.last_error_at),
            "since": _iso(self.since),
        }


class Supervisor:
    """Runs components in daemon threads until `stop` is set; see the module docstring."""

    def __init__(
        self,
        stop: threading.Event,
        *,
        role: str,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        run_dir: Path | None = None,
    ) -> None:
        self.stop = stop
        self.role = role
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.run_dir = run_dir
        self.started = time.time()
        self.components: list[Component] = []
        self._lock = threading.Lock()
        self._published = 0.0

    def add(self, name: str, factory: Callable[[], Loop]) -> Component:
        component = Component(name, factory)
        self.components.append(component)
        return component

    def start(self) -> list[threading.Thread]:
        """Start every component's thread; returns them (join them after setting stop)."""
        threads = []
        for component in self.components:
            thread = threading.Thread(
                target=self._run, args=(component,), name=component.name, daemon=True
            )
            component.thread = thread
            thread.start()
            threads.append(thread)
        self.publish(force=True)
        return threads

    def _run(self, component: Component) -> None:
        delay = self.backoff
        loop: Loop | None = None
        try:
            while not self.stop.is_set():
                try:
                    if loop is None:
                        loop = component.factory()
                    pause = loop.step()
                except Exception as exc:  # any failure: report it, back off, start afresh
                    loop = None
                    self._failed(component, exc, delay)
                    self.stop.wait(delay)
                    delay = min(delay * 2, self.max_backoff)
                    continue
                delay = self.backoff
                if component.state != "running":
                    self._set(component, "running")
                    log.info("component running", extra={"component": component.name})
                else:
                    self.publish()
                if pause > 0:
                    self.stop.wait(pause)
        except BaseException as exc:  # never silently: a thread that ends says why
            self._set(component, "dead", f"{type(exc).__name__}: {exc}")
            log.critical("component died", exc_info=True, extra={"component": component.name})
            raise
        self._set(component, "stopped")

    def _failed(self, component: Component, exc: Exception, delay: float) -> None:
        error = f"{type(exc).__name__}: {exc}"
        component.restarts += 1
        RESTARTS.labels(component.name).inc()
        self._set(component, "restarting", error)
        log.error(
            "component failed; restarting",
            exc_info=exc,
            extra={"component": component.name, "retryInSeconds": delay, "error": error},
        )

    def _set(self, component: Component, state: State, error: str | None = None) -> None:
        with self._lock:
            component.state = state
            component.since = time.time()
            if error is not None:
                component.last_error = error
                component.last_error_at = component.since
        self.publish(force=True)

    def snapshot(self) -> dict[str, Any]:
        """This process and its components, as published."""
        with self._lock:
            components = [c.as_dict() for c in self.components]
        for component, shown in zip(self.components, components, strict=True):
            thread = component.thread
            if thread is not None and not thread.is_alive() and shown["state"] not in DOWN:
                if not self.stop.is_set():  # a thread gone without a word is down too
                    shown["state"] = "dead"
        return {
            "pid": os.getpid(),
            "role": self.role,
            "started": _iso(self.started),
            "updated": _iso(time.time()),
            "components": components,
        }

    def publish(self, force: bool = False) -> None:
        """Write this process's state file (at most every PUBLISH_EVERY s unless forced)."""
        if self.run_dir is None:
            return
        now = time.monotonic()
        if not force and now - self._published < PUBLISH_EVERY:
            return
        self._published = now
        path = self.run_dir / f"{os.getpid()}.json"
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{threading.get_ident()}.tmp")
            tmp.write_text(json.dumps(self.snapshot()))
            os.replace(tmp, path)
        except OSError as exc:  # the loops matter more than their report
            log.warning("cannot write the runtime state file", extra={"error": str(exc)})

    def close(self) -> None:
        """Remove this process's state file (at a clean stop)."""
        if self.run_dir is not None:
            (self.run_dir / f"{os.getpid()}.json").unlink(missing_ok=True)


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (signal 0 checks without sending)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def runtime_report(run_dir: Path, local: Supervisor | None = None) -> dict[str, Any]:
    """Every live process on the data directory and its components; `ready` is False
    while any component is down (True when none runs: nothing is down).

    Shape: {"ready": bool, "processes": [{"pid", "role", "started", "updated",
    "components": [{"name", "state", "restarts", "lastError", "lastErrorAt", "since"}]}]}.
    The local supervisor (this process) is read from memory, the others from their
    state files; files of processes that are gone are removed.
    """
    processes: list[dict[str, Any]] = []
    if local is not None:
        processes.append(local.snapshot())
    if run_dir.is_dir():
        for path in sorted(run_dir.glob("*.json")):
            pid = int(path.stem) if path.stem.isdigit() else None
            if pid is None or (local is not None and pid == os.getpid()):
                continue
            if not pid_alive(pid):
                path.unlink(missing_ok=True)
                continue
            try:
                processes.append(json.loads(path.read_text()))
            except (OSError, ValueError):
                continue  # being replaced right now: next time
    ready = all(c["state"] not in DOWN for p in processes for c in p["components"])
    return {"ready": ready, "processes": processes}


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return iso(epoch, "seconds")
