"""Fault injection: the database becomes unwritable in the middle of a job, then writable
again; the work resumes without a restart, and /readyz says what happened meanwhile.

The fault is injected at the adapter boundary (failing_db.FailingConnection): commits
fail with SQLite's "disk I/O error", as they did in the reliability probe, where a failed
commit killed the job worker thread for good.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from api_server import make_services
from failing_db import UNWRITABLE, inject
from fastapi.testclient import TestClient

from leadflow.api.app import create_app
from leadflow.bootstrap import Services, runtime_ports, upload_ports
from leadflow.jobs.runtime import build_runtime
from leadflow.jobs.supervisor import Supervisor
from leadflow.jobs.uploads import start_upload

LEADFLOW = Path(sys.executable).parent / "leadflow"
ROWS = 20_000


def wait_for(check: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting: {what}"
        time.sleep(0.02)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[Services, Supervisor, TestClient]]:
    services = make_services(
        tmp_path / "data",
        batch_size=50,
        visibility_timeout=1.0,  # a batch whose commit failed comes back soon
        restart_backoff=0.05,
        restart_backoff_max=0.3,
    )
    inject(services)
    stop = threading.Event()
    runtime = build_runtime(runtime_ports(services), stop, 1, "serve")
    app = create_app(services)
    app.state.supervisor = runtime
    threads = runtime.start()
    try:
        with TestClient(app) as client:
            yield services, runtime, client
    finally:
        UNWRITABLE.clear()
        stop.set()
        for thread in threads:
            thread.join(10)


def csv_file(rows: int) -> bytes:
    lines = ["First Name,Last Name,Email,Company"]
    lines += [f"Ann{n},Lee,ann{n}@example.com,Acme {n % 7}" for n in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def worker_state(runtime: Supervisor) -> dict[str, Any]:
    (state,) = [c for c in runtime.snapshot()["components"] if c["name"] == "worker-0"]
    return state


def test_an_unwritable_database_mid_job_then_writable_again_resumes_the_job(
    service: tuple[Services, Supervisor, TestClient],
) -> None:
    services, runtime, client = service
    wait_for(lambda: client.get("/readyz").status_code == 200, "ready at start")
    job_id = start_upload(upload_ports(services), "alice", "leads.csv", iter([csv_file(ROWS)]), {})

    def progress() -> dict[str, Any]:
        document = services.job_document(job_id, "alice")
        assert document is not None
        return document

    wait_for(lambda: progress()["progress"]["completedBatches"] >= 3, "the job under way")
    UNWRITABLE.set()  # the disk goes bad in the middle of the job
    wait_for(lambda: worker_state(runtime)["restarts"] >= 2, "the worker failing")
    done_during = progress()["progress"]["completedBatches"]
    assert done_during < ROWS // 50, "the fault should land in the middle of the job"
    ready = client.get("/readyz")
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "not_ready"
    (worker,) = [c for c in body["processes"][0]["components"] if c["name"] == "worker-0"]
    assert worker["state"] == "restarting" and "disk I/O error" in worker["lastError"]
    assert client.get("/healthz").status_code == 200  # liveness: the process is alive

    UNWRITABLE.clear()  # writable again: no restart of anything but the loops
    wait_for(lambda: progress()["status"] == "completed", "the job to complete")
    document = progress()
    assert document["summary"]["created"] == ROWS
    assert document["progress"]["completedBatches"] == ROWS // 50
    assert services.dead_letters.depth() == 0
    wait_for(lambda: client.get("/readyz").status_code == 200, "ready again")
    assert worker_state(runtime)["state"] == "running"
    assert worker_state(runtime)["restarts"] >= 2
    assert 'leadflow_component_restarts_total{component="worker-0"}' in client.get("/metrics").text


def test_leadflow_status_without_an_id_prints_the_runtime(
    service: tuple[Services, Supervisor, TestClient],
) -> None:
    services, runtime, client = service
    wait_for(lambda: client.get("/readyz").status_code == 200, "ready at start")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADFLOW_")}
    env.update(LEADFLOW_DATA_DIR=str(services.settings.data_dir), COLUMNS="250")

    def status(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(LEADFLOW), "status", *args], env=env, capture_output=True, text=True, timeout=60
        )

    ok = status("--json")
    assert ok.returncode == 0, ok.stderr
    report = json.loads(ok.stdout)
    assert report["ready"] is True
    (process,) = report["processes"]
    assert process["pid"] == os.getpid() and process["role"] == "serve"
    names = sorted(c["name"] for c in process["components"])
    assert names == ["inbox", "notifier", "sweeper", "worker-0"]

    UNWRITABLE.set()
    wait_for(lambda: worker_state(runtime)["state"] == "restarting", "the worker down")
    runtime.publish(force=True)
    down = status()
    assert down.returncode == 1
    assert "worker-0" in down.stdout and "restarting" in down.stdout
    assert "disk I/O error" in down.stdout
    assert "not ready" in down.stderr
    UNWRITABLE.clear()


def test_readyz_and_status_when_no_loop_runs(tmp_path: Path) -> None:
    services = make_services(tmp_path / "data")
    with TestClient(create_app(services)) as client:  # an API without loops: nothing down
        ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["processes"] == []
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADFLOW_")}
    env.update(LEADFLOW_DATA_DIR=str(services.settings.data_dir), COLUMNS="250")
    run = subprocess.run(
        [str(LEADFLOW), "status"], env=env, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 1
    assert "no leadflow serve or worker is running" in run.stderr
