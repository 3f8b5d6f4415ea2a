"""The supervisor: a loop that raises is logged, backed off and built afresh, forever."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from leadflow.jobs.supervisor import Supervisor, runtime_report


def wait_for(check: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline
        time.sleep(0.01)


class Flaky:
    """Fails `failures` times in a row (any exception type), then works."""

    built = 0

    def __init__(self, errors: list[BaseException], done: threading.Event) -> None:
        Flaky.built += 1
        self.errors, self.done = errors, done

    def step(self) -> float:
        if self.errors:
            raise self.errors.pop(0)
        self.done.set()
        return 0.01


def test_any_exception_restarts_the_loop_with_backoff_and_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    stop, done = threading.Event(), threading.Event()
    errors: list[BaseException] = [
        RuntimeError("disk I/O error"), KeyError("x"), RecursionError(), OverflowError("big"),
        ValueError("v"),
    ]  # fmt: skip
    supervisor = Supervisor(stop, role="test", backoff=0.01, max_backoff=0.04, run_dir=tmp_path)
    supervisor.add("flaky", lambda: Flaky(errors, done))
    Flaky.built = 0
    with caplog.at_level(logging.ERROR, logger="leadflow.supervisor"):
        threads = supervisor.start()
        assert done.wait(10)
        wait_for(lambda: supervisor.snapshot()["components"][0]["state"] == "running")
    (state,) = supervisor.snapshot()["components"]
    assert state["restarts"] == 5 and Flaky.built == 6  # a fresh loop after each failure
    assert state["lastError"] == "ValueError: v"
    failures = [r for r in caplog.records if r.getMessage() == "component failed; restarting"]
    assert len(failures) == 5
    assert [r.__dict__["retryInSeconds"] for r in failures] == [0.01, 0.02, 0.04, 0.04, 0.04]
    published = json.loads((tmp_path / f"{supervisor.snapshot()['pid']}.json").read_text())
    assert published["components"][0]["restarts"] == 5
    stop.set()
    for thread in threads:
        thread.join(5)
    assert supervisor.snapshot()["components"][0]["state"] == "stopped"
    supervisor.close()
    assert list(tmp_path.iterdir()) == []


def test_a_component_down_makes_the_report_not_ready(tmp_path: Path) -> None:
    stop = threading.Event()

    class Down:
        def step(self) -> float:
            raise ConnectionError("the database is gone")

    supervisor = Supervisor(stop, role="test", backoff=0.5, max_backoff=0.5, run_dir=tmp_path)
    supervisor.add("down", Down)
    threads = supervisor.start()
    try:
        wait_for(lambda: supervisor.snapshot()["components"][0]["state"] == "restarting")
        report = runtime_report(tmp_path, supervisor)
        assert report["ready"] is False
        (component,) = report["processes"][0]["components"]
        assert component["lastError"] == "ConnectionError: the database is gone"
        assert component["lastErrorAt"] is not None
        # another process reads the same from the state file
        assert runtime_report(tmp_path)["processes"][0]["components"][0]["state"] == "restarting"
    finally:
        stop.set()
        for thread in threads:
            thread.join(5)


def test_state_files_of_dead_processes_are_dropped(tmp_path: Path) -> None:
    (tmp_path / "999999999.json").write_text('{"components": []}')
    assert runtime_report(tmp_path) == {"ready": True, "processes": []}  # nothing is down
    assert list(tmp_path.iterdir()) == []
