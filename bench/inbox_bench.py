"""Benchmark: seconds from a lead file's rename into the inbox to the Slack webhook request
arriving at a loopback peer, for 1,000 files dropped one after another and for seed 002's
burst (10 files with identical timestamps at once). Also checks that no notification is
lost or sent twice.

    .venv/bin/python bench/inbox_bench.py --files 1000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LEADFLOW = ROOT / ".venv" / "bin" / "leadflow"
arrivals: dict[str, list[float]] = {}
lock = threading.Lock()


class Webhook(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        now = time.time()
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        name = str(body.get("text", "")).removeprefix("New lead: ")
        with lock:
            arrivals.setdefault(name, []).append(now)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


def drop(folder: Path, name: str, lead: dict[str, str], mtime: float | None = None) -> float:
    tmp = folder / f".{name}.tmp"
    tmp.write_text(json.dumps(lead))
    if mtime is not None:
        os.utime(tmp, (mtime, mtime))
    moment = time.time()
    os.rename(tmp, folder / name)
    return moment


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--gap", type=float, default=0.02, help="seconds between drops")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEADFLOW_")}
        env.update(LEADFLOW_DATA_DIR=f"{tmp}/data", LEADFLOW_SLACK_WEBHOOK_URL=url,
                   LEADFLOW_INBOX_OWNER="bench", LEADFLOW_LOG_LEVEL="WARNING",
                   # a loopback peer without Slack's rate limit: measure latency, not pacing
                   LEADFLOW_SLACK_MESSAGES_PER_SECOND="1000")  # fmt: skip
        worker = subprocess.Popen([str(LEADFLOW), "worker"], env=env, stderr=subprocess.DEVNULL)
        folder = Path(tmp) / "data" / "inbox" / "leads"
        try:
            while not folder.exists():
                time.sleep(0.05)
            time.sleep(1.0)  # the watcher is listening
            dropped: dict[str, float] = {}
            for n in range(args.files):
                name = f"Lead {n:05d}"
                dropped[name] = drop(folder, f"lead-{n:05d}.json",
                                     {"name": name, "email": f"lead{n}@example.com"})  # fmt: skip
                time.sleep(args.gap)
            stamp = time.time() - 0.001
            burst = {}
            for n in range(10):
                name = f"Burst {n}"
                lead = {"name": name, "email": f"burst{n}@example.com"}
                burst[name] = drop(folder, f"burst-{n}.json", lead, stamp)
            deadline = time.time() + 30
            while time.time() < deadline:
                with lock:
                    if len(arrivals) >= len(dropped) + len(burst):
                        break
                time.sleep(0.05)
            time.sleep(1.0)  # anything sent twice would arrive now
        finally:
            worker.terminate()
            worker.wait(30)
            server.shutdown()

    def latencies(drops: dict[str, float]) -> list[float]:
        return [arrivals[n][0] - t for n, t in drops.items() if n in arrivals]

    steady, bursty = latencies(dropped), latencies(burst)
    every = steady + bursty
    doubled = sum(1 for times in arrivals.values() if len(times) > 1)
    print(
        json.dumps(
            {
                "benchmark": "inbox_to_webhook",
                "files": args.files,
                "burst_files": 10,
                "delivered": len(every),
                "lost": len(dropped) + len(burst) - len(every),
                "sent_twice": doubled,
                "ms": {
                    "p50": round(statistics.median(every) * 1000, 1),
                    "p99": round(percentile(every, 0.99) * 1000, 1),
                    "max": round(max(every) * 1000, 1),
                },
                "burst_ms": {"max": round(max(bursty) * 1000, 1) if bursty else None},
                "target_p99_ms": 300,
            }
        )
    )


if __name__ == "__main__":
    main()
