"""Benchmark: the web app's leads page and status poll, beside the JSON API's answers.

An owner with --leads leads (1,048,576 by default, imported once through the leads
pipeline and kept in bench/out/web-<n>/ for the next runs) and a completed upload job.
A real server runs on loopback; each figure is the time from request to full answer,
measured by the client (an upper bound of the server time: loopback adds well under a
millisecond). The peers are the API calls that read the same data: GET /v1/leads
(first page) for the leads page, GET /v1/status/{id} for the job panel's poll.

Targets (issue 12): leads page first screen <= 300 ms, status poll p50 <= 5 ms.
Prints one JSON object.

    .venv/bin/python bench/web_bench.py
    .venv/bin/python bench/web_bench.py --leads 100000 --requests 200
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from leadflow.api.app import create_app
from leadflow.bootstrap import Services, bootstrap, upload_ports, worker_ports
from leadflow.jobs.uploads import start_upload
from leadflow.jobs.worker import Worker
from leadflow.pipelines.importing import ImportOptions, import_file
from leadflow.security import hash_password, issue_token
from leadflow.settings import Settings
from leadflow.web.sessions import SESSION_COOKIE

ROOT = Path(__file__).resolve().parent.parent
OWNER = "bench"


def _settings(data_dir: Path) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=data_dir, rate_limit=0, access_log=False, workers=0
    )


def _prepare(data_dir: Path, leads: int) -> tuple[Services, float]:
    """The data directory with `leads` leads for OWNER (imported once); the import's s."""
    ready = data_dir / "ready"
    seconds = 0.0
    if not ready.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        source = data_dir / "leads.csv"
        with source.open("w") as out:
            out.write("First Name,Last Name,Email,Phone,Company,Title\n")
            out.writelines(
                f"First{n},Last{n},person{n}@example{n % 1000}.com,+1415555{n % 10000:04},"
                f"Company {n % 5000},Title {n % 50}\n"
                for n in range(leads)
            )
        services = bootstrap(_settings(data_dir), bulk=True)
        started = time.perf_counter()
        import_file(services.write_ports(ledgered=False), source, ImportOptions(owner=OWNER))
        seconds = time.perf_counter() - started
        source.unlink()
        ready.write_text(str(leads))
    services = bootstrap(_settings(data_dir))
    return services, seconds


def _completed_job(services: Services) -> str:
    """A small upload job, run to completion by a worker in this process."""
    body = b"name,email\nAda,ada@bench.example\n"
    job_id = start_upload(upload_ports(services), OWNER, "poll.csv", [body], {"pipeline": "leads"})
    stop = threading.Event()
    worker = Worker(worker_ports(services), stop)
    deadline = time.monotonic() + 60
    while services.jobs.get(job_id, OWNER).status != "completed":  # type: ignore[union-attr]
        if not worker.run_once():
            time.sleep(0.05)
        if time.monotonic() > deadline:
            raise RuntimeError("the poll job did not complete")
    return job_id


def _timed(client: httpx.Client, path: str, n: int, headers: dict[str, str]) -> list[float]:
    client.get(path, headers=headers)  # warm
    times = []
    for _ in range(n):
        started = time.perf_counter()
        answer = client.get(path, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            raise RuntimeError(f"{path} answered {answer.status_code}")
    return times


def _stats(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 2),
        "max_ms": round(ordered[-1], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=1_048_576)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    data_dir = ROOT / "bench" / "out" / f"web-{args.leads}"
    services, import_seconds = _prepare(data_dir, args.leads)
    job_id = _completed_job(services)
    config = uvicorn.Config(
        create_app(services), host="127.0.0.1", port=0, log_config=None, lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    # a session as the sign-in form issues it: it carries the password's mark
    if services.users.password_hash(OWNER) is None:
        services.users.add_user(OWNER, hash_password("bench-Pa55word"), "2026-01-01T00:00:00Z")
    token = issue_token(services.secret, OWNER, 3600, services.users.password_hash(OWNER))
    cookie = {"Cookie": f"{SESSION_COOKIE}={token}"}
    bearer = {"Authorization": f"Bearer {token}"}
    result: dict[str, Any] = {"leads": services.lead_reads.count_leads(OWNER)}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        started = time.perf_counter()
        first = client.get("/leads", headers=cookie)
        result["leads_page_cold_ms"] = round((time.perf_counter() - started) * 1000, 2)
        assert first.status_code == 200 and "person" in first.text, first.status_code
        page = _stats(_timed(client, "/leads", args.requests, cookie))
        api_page = _stats(_timed(client, "/v1/leads", args.requests, bearer))
        poll = _stats(_timed(client, f"/jobs/{job_id}/panel", args.requests * 5, cookie))
        api_poll = _stats(_timed(client, f"/v1/status/{job_id}", args.requests * 5, bearer))
    server.should_exit = True
    thread.join(timeout=10)
    result.update(
        {
            "leads_page": {**page, "target_ms": 300, "ok": page["max_ms"] <= 300},
            "leads_page_peer_api": api_page,
            "leads_page_ratio_to_api_p50": round(page["p50_ms"] / api_page["p50_ms"], 2),
            "status_poll": {**poll, "target_p50_ms": 5, "ok": poll["p50_ms"] <= 5},
            "status_poll_peer_api": api_poll,
            "status_poll_ratio_to_api_p50": round(poll["p50_ms"] / api_poll["p50_ms"], 2),
            "import_seconds_first_run": round(import_seconds, 1) if import_seconds else None,
        }
    )
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
