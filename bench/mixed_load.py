"""Benchmark: 8 clients for 30 s against a real `leadflow serve`, mixing the routes
people use at once: POST /v1/records (10 records), POST /v1/uploads (a 20-row CSV),
GET /v1/status/{id} polls and GET /v1/leads searches.

Every record and upload row has an email no other uses, so each accepted one must become
exactly one stored lead. After the load it waits for the upload jobs to finish, then
checks accepted = stored (records saved + upload rows created = rows in `leads`).

Prints one JSON object: total and per-route requests/s, p50/p99 latency (ms) per route,
errors, and the accepted/stored check.

    .venv/bin/python bench/mixed_load.py
    .venv/bin/python bench/mixed_load.py --clients 8 --duration 30
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import secrets
import sqlite3
import subprocess
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import httpx

from proctree import free_port

ROOT = Path(__file__).resolve().parent.parent
LEADFLOW = ROOT / ".venv" / "bin" / "leadflow"
HOST = "127.0.0.1"
USER = "bench"
MIX = (("records", 4), ("search", 3), ("status", 2), ("upload", 1))
UPLOAD_ROWS = 20
SEARCHES = ("bench", "müller", "example.com", "+1415", "acme", "zz-nothing")


class Tally:
    """Latencies and outcomes per route, shared by the client threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.saved = 0
        self.uploaded_rows = 0
        self.jobs: list[str] = []

    def add(self, route: str, seconds: float, ok: bool) -> None:
        with self.lock:
            self.latency[route].append(seconds)
            if not ok:
                self.errors[route] += 1


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def client_loop(base: str, token: str, n: int, stop: float, tally: Tally) -> None:
    rng = random.Random(n)
    counter = itertools.count()
    routes = [name for name, weight in MIX for _ in range(weight)]
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        while time.monotonic() < stop:
            route = rng.choice(routes)
            i = next(counter)
            started = time.perf_counter()
            if route == "records":
                body = [
                    {
                        "name": f"Bench Müller {n}-{i}-{j}",
                        "email": f"bench.{n}.{i}.{j}@example.com",
                        "optIn": True,
                        "interests": ["crm"],
                    }
                    for j in range(10)
                ]
                response = client.post("/v1/records", json=body)
                ok = response.status_code == 200
                if ok:
                    with tally.lock:
                        tally.saved += response.json()["saved"]
            elif route == "upload":
                lines = ["Name,Email,Phone,Company"] + [
                    f"Up Load {n}-{i}-{j},up.{n}.{i}.{j}@bücher.de,+1415555{j:04d},Acme"
                    for j in range(UPLOAD_ROWS)
                ]
                files = {"file": (f"u{n}-{i}.csv", "\n".join(lines).encode())}
                response = client.post("/v1/uploads", files=files)
                ok = response.status_code == 202
                if ok:
                    with tally.lock:
                        tally.jobs.append(response.json()["uploadId"])
                        tally.uploaded_rows += UPLOAD_ROWS
            elif route == "status":
                with tally.lock:
                    job = rng.choice(tally.jobs) if tally.jobs else None
                if job is None:
                    continue
                response = client.get(f"/v1/status/{job}")
                ok = response.status_code == 200
            else:
                params = {"q": rng.choice(SEARCHES), "limit": 50}
                response = client.get("/v1/leads", params=params)
                ok = response.status_code == 200
            tally.add(route, time.perf_counter() - started, ok)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="leadflow-mixed-") as tmp:
        data = Path(tmp) / "data"
        env = dict(os.environ, LEADFLOW_DATA_DIR=str(data), LEADFLOW_RATE_LIMIT="0")
        password = secrets.token_urlsafe(18)
        subprocess.run(
            [str(LEADFLOW), "users", "add", USER],
            input=password + "\n",
            text=True,
            env=env,
            check=True,
            capture_output=True,
        )
        port = free_port()
        base = f"http://{HOST}:{port}"
        log = (Path(tmp) / "serve.log").open("wb")
        server = subprocess.Popen(
            [str(LEADFLOW), "serve", "--host", HOST, "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        tally = Tally()
        try:
            with httpx.Client(base_url=base, timeout=60) as client:
                for _ in range(300):
                    try:
                        if client.get("/healthz").status_code == 200:
                            break
                    except httpx.TransportError:
                        time.sleep(0.1)
                token = client.post(
                    "/v1/auth/token", json={"username": USER, "password": password}
                ).json()["access_token"]
                stop = time.monotonic() + args.duration
                threads = [
                    threading.Thread(target=client_loop, args=(base, token, n, stop, tally))
                    for n in range(args.clients)
                ]
                started = time.monotonic()
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                elapsed = time.monotonic() - started
                headers = {"Authorization": f"Bearer {token}"}
                deadline = time.monotonic() + 300
                pending = list(tally.jobs)
                created = 0
                while pending and time.monotonic() < deadline:
                    still = []
                    for job in pending:
                        status = client.get(f"/v1/status/{job}", headers=headers).json()
                        if status["status"] in ("completed", "error", "cancelled"):
                            created += int(status.get("summary", {}).get("created", 0))
                        else:
                            still.append(job)
                    pending = still
                    if pending:
                        time.sleep(0.5)
        finally:
            server.terminate()
            server.wait(timeout=60)
            log.close()
        with sqlite3.connect(data / "leadflow.db") as db:
            stored = db.execute("SELECT count(*) FROM leads").fetchone()[0]
    accepted = tally.saved + tally.uploaded_rows
    routes = {
        route: {
            "requests": len(values),
            "per_second": round(len(values) / elapsed, 1),
            "p50_ms": round(percentile(values, 0.50), 2),
            "p99_ms": round(percentile(values, 0.99), 2),
            "errors": tally.errors.get(route, 0),
        }
        for route, values in sorted(tally.latency.items())
    }
    total = sum(len(values) for values in tally.latency.values())
    print(
        json.dumps(
            {
                "benchmark": "mixed_load",
                "clients": args.clients,
                "duration_s": round(elapsed, 1),
                "requests": total,
                "requests_per_second": round(total / elapsed, 1),
                "routes": routes,
                "records_saved": tally.saved,
                "upload_rows": tally.uploaded_rows,
                "upload_rows_created": created,
                "uploads_unfinished": len(pending),
                "accepted": accepted,
                "stored": stored,
                "accepted_equals_stored": accepted == stored,
            }
        )
    )


if __name__ == "__main__":
    main()
