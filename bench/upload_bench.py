"""Benchmark: a 100k-row upload through the API until its status says completed, beside
`leadflow import` of the same file in the same run; then GET /v1/status latency.

Starts `leadflow serve` on loopback with LEADFLOW_WORKERS embedded workers (default 0)
plus --processes standalone `leadflow worker` processes, uploads the file, polls the
status every 50 ms, and prints one JSON object.

    .venv/bin/python bench/upload_bench.py --rows 100000 --processes 2
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))

from messy_csv import write_messy_csv  # noqa: E402
from proctree import environment, free_port, run  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LEADFLOW = ROOT / ".venv" / "bin" / "leadflow"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--processes", type=int, default=2, help="standalone workers")
    parser.add_argument("--threads", type=int, default=0, help="workers inside serve")
    parser.add_argument("--polls", type=int, default=500, help="status reads to time")
    args = parser.parse_args()
    source = ROOT / "bench" / "out" / f"messy-{args.rows}.csv"
    source.parent.mkdir(parents=True, exist_ok=True)
    if not source.exists():
        write_messy_csv(source, args.rows)

    with tempfile.TemporaryDirectory() as tmp:
        reference = run(
            [str(LEADFLOW), "import", str(source), "--json", "--owner", "bench"],
            env=environment(LEADFLOW_DATA_DIR=f"{tmp}/reference"),
        )
        expected = json.loads(reference.stdout.strip().splitlines()[-1])
        data = f"{tmp}/data"
        port = free_port()
        env = environment(
            LEADFLOW_DATA_DIR=data,
            LEADFLOW_RATE_LIMIT="0",
            LEADFLOW_WORKERS=str(args.threads),
            LEADFLOW_ACCESS_LOG="false",
        )
        password = secrets.token_urlsafe(12)
        subprocess.run([str(LEADFLOW), "users", "add", "bench"], input=password, text=True,
                       env=env, check=True, capture_output=True)  # fmt: skip
        log = open(f"{tmp}/serve.log", "w")  # noqa: SIM115
        server = subprocess.Popen(
            [str(LEADFLOW), "serve", "--port", str(port)], env=env, stdout=log, stderr=log
        )
        workers = [
            subprocess.Popen([str(LEADFLOW), "worker"], env=env, stdout=log, stderr=log)
            for _ in range(args.processes)
        ]
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    if httpx.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not start")
                time.sleep(0.1)
            token = httpx.post(
                f"{base}/v1/auth/token", json={"username": "bench", "password": password}
            ).json()["access_token"]
            client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"})
            started = time.perf_counter()
            with source.open("rb") as f:
                job_id = client.post("/v1/uploads", files={"file": (source.name, f)}).json()[
                    "uploadId"
                ]
            while True:
                status = client.get(f"/v1/status/{job_id}").json()
                if status["status"] in ("completed", "error", "cancelled"):
                    break
                time.sleep(0.05)
            upload_s = time.perf_counter() - started
            latencies = []
            for _ in range(args.polls):
                t = time.perf_counter()
                client.get(f"/v1/status/{job_id}").raise_for_status()
                latencies.append((time.perf_counter() - t) * 1000)
        finally:
            for process in [server, *workers]:
                process.terminate()
            for process in [server, *workers]:
                process.wait(30)
            log.close()
    latencies.sort()
    summary = status["summary"]
    print(
        json.dumps(
            {
                "benchmark": "upload",
                "rows": args.rows,
                "workers": {"processes": args.processes, "threads_in_serve": args.threads},
                "upload_to_completed_seconds": round(upload_s, 3),
                "in_process_import_seconds": round(reference.seconds, 3),
                "ratio": round(upload_s / reference.seconds, 2),
                "status": status["status"],
                "same_counts_as_import": all(summary[k] == expected[k] for k in summary),
                "summary": summary,
                "status_poll_ms": {
                    "p50": round(statistics.median(latencies), 2),
                    "p99": round(latencies[int(len(latencies) * 0.99) - 1], 2),
                },
                "cpu_count": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
