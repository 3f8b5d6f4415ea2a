"""Kill -9 a worker in the middle of a job: the job still ends with exactly the right counts.

Delivery is at least once (the killed worker's messages come back when their lease runs
out); the batch ledger makes each batch take effect once, so nothing is lost or doubled.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from cli_runner import LEADFLOW, last_json_line

from leadflow.bootstrap import bootstrap, upload_ports
from leadflow.jobs.uploads import start_upload
from leadflow.settings import Settings


def messy_csv(path: Path, rows: int) -> None:
    rng = random.Random(5)
    lines = ["First Name,Last Name,E-mail,Phone,Company"]
    for n in range(rows):
        k = rng.randrange(n) if n > 10 and rng.random() < 0.1 else n
        email = f" User{k}@Example.COM " if k != n else f"user{k}@example.com"
        if rng.random() < 0.01:
            email = f"user{k}@@broken"
        phone = f"(415) 555-{k % 10000:04d}" if rng.random() < 0.5 else ""
        lines.append(f"Ann{k},Lee,{email},{phone},Acme {k % 7}")
    path.write_text("\n".join(lines) + "\n")


def environment(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADFLOW_")}
    env.update(LEADFLOW_DATA_DIR=str(data_dir), LEADFLOW_VISIBILITY_TIMEOUT="1")
    return env


def batches_done(db: Path, job_id: str) -> int:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT count(*) FROM job_batches WHERE job_id = ?", (job_id,))
        return int(row.fetchone()[0])


def test_a_killed_worker_loses_and_doubles_nothing(tmp_path: Path) -> None:
    source = tmp_path / "leads.csv"
    messy_csv(source, 20_000)
    expected_run = subprocess.run(
        [str(LEADFLOW), "import", str(source), "--json", "--owner", "alice"],
        env=environment(tmp_path / "reference"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert expected_run.returncode == 0, expected_run.stderr
    expected = last_json_line(expected_run.stdout)

    data = tmp_path / "data"
    services = bootstrap(Settings(data_dir=data, batch_size=100))
    with source.open("rb") as f:
        job_id = start_upload(upload_ports(services), "alice", "leads.csv", iter(f.read, b""), {})
    db = data / "leadflow.db"

    first = subprocess.Popen([str(LEADFLOW), "worker"], env=environment(data))
    deadline = time.monotonic() + 60
    while batches_done(db, job_id) < 40 and time.monotonic() < deadline:
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    killed_at = batches_done(db, job_id)
    assert 0 < killed_at < 200, "the kill should land in the middle of the job"

    second = subprocess.Popen([str(LEADFLOW), "worker"], env=environment(data))
    try:
        deadline = time.monotonic() + 90
        document = services.job_document(job_id, "alice")
        while document is not None and document["status"] != "completed":
            assert time.monotonic() < deadline, document
            time.sleep(0.2)
            document = services.job_document(job_id, "alice")
        # Batches the killed worker applied but never acknowledged come back when their
        # lease ends; the ledger turns them into no-ops and the queue drains.
        while services.queue.depth() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(30) == 0  # SIGTERM: finish the message in hand, exit cleanly
    assert document is not None
    assert document["progress"]["completedBatches"] == 200
    counts = {k: expected[k] for k in document["summary"]}
    assert document["summary"] == counts
    with sqlite3.connect(db) as conn:
        leads = conn.execute("SELECT count(*) FROM leads").fetchone()[0]
        errors = conn.execute("SELECT count(*) FROM schema_errors").fetchone()[0]
    assert leads == expected["created"]
    assert errors == expected["invalid"]
    assert services.queue.depth() == 0 and services.dead_letters.depth() == 0
    print(json.dumps({"killedAfterBatches": killed_at, "summary": document["summary"]}))
