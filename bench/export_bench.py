"""Benchmark: GET /v1/leads/export as CSV and as XLSX, over HTTP, on realistic leads.

Fills a fresh data directory with --rows leads (accents, IDN emails, phones, companies,
remarks, attributes), serves it with `leadflow serve` on a free loopback port, and
downloads each format --repeat times. Prints one JSON object: the best seconds of each
format, the XLSX/CSV ratio (target: at most 2.0), the server's CPU seconds for each
(steadier than wall time on a busy machine) and their ratio, the sizes, and the server's
peak resident memory while exporting (it must stay bounded, not grow with the rows).

    .venv/bin/python bench/export_bench.py
    .venv/bin/python bench/export_bench.py --rows 50000 --repeat 3
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from proctree import cpu_seconds, free_port

ROOT = Path(__file__).resolve().parent.parent
LEADFLOW = ROOT / ".venv" / "bin" / "leadflow"
HOST = "127.0.0.1"
USER = "bench"
TARGET_RATIO = 2.0

FIRST = ["José", "Zoë", "Łukasz", "Søren", "Ana", "Jürgen", "Chloé", "Björn", "Ines", "Nuño"]
LAST = ["Müller", "García", "Nowak", "Ødegaard", "Smith", "Dubois", "Öztürk", "Kovač", "Lee"]
DOMAINS = ["bücher.de", "example.com", "müller.ch", "acme.io", "exämple.org", "xn--caf-dma.fr"]
COMPANIES = ["Café Crème SARL", "Bücher & Söhne GmbH", "Acme Corp", "Ørsted A/S", "-12.5"]


def leads(count: int, seed: int = 7) -> list[dict[str, str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        rows.append(
            {
                "First Name": first,
                "Last Name": last,
                "Email": f"{first.lower()}.{last.lower()}.{i}@{rng.choice(DOMAINS)}",
                "Phone": f"+1 415 555 {rng.randrange(10_000):04d}"
                if i % 3
                else f"(0{rng.randrange(100, 999)}) {rng.randrange(1_000_000):06d}",
                "Company": rng.choice(COMPANIES),
                "Title": rng.choice(["CEO", "Directeur général", "Geschäftsführer", ""]),
                "Notes": rng.choice(["", "Rückruf am Montag", "=1+1", "VIP ★", "-2+3"]),
                "Lead Source": rng.choice(["Messe München", "Website", "Référence"]),
            }
        )
    return rows


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class PeakRss:
    """Samples a process's resident memory every 20 ms while active."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(0.02)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def fill(data: Path, count: int) -> None:
    """Import `count` leads for the bench user, in-process (as `leadflow import` would)."""
    code = (
        "import json, sys\n"
        "from leadflow.bootstrap import bootstrap\n"
        "from leadflow.pipelines.importing import ImportOptions, import_records\n"
        "from leadflow.settings import Settings\n"
        "rows = json.load(sys.stdin)\n"
        "services = bootstrap(Settings(), bulk=True)\n"
        "ports = services.write_ports(ledgered=False)\n"
        f"import_records(ports, rows, ImportOptions(owner='{USER}'), 'bench.csv')\n"
    )
    env = dict(os.environ, LEADFLOW_DATA_DIR=str(data))
    subprocess.run(
        [sys.executable, "-c", code], input=json.dumps(leads(count)), text=True, env=env, check=True
    )


def timed_download(client: httpx.Client, fmt: str, token: str) -> tuple[float, int]:
    started = time.perf_counter()
    size = 0
    headers = {"Authorization": f"Bearer {token}"}
    with client.stream("GET", "/v1/leads/export", params={"format": fmt}, headers=headers) as r:
        if r.status_code != 200:
            raise SystemExit(f"export {fmt} answered {r.status_code}: {r.read()[:300]!r}")
        for chunk in r.iter_bytes():
            size += len(chunk)
    return time.perf_counter() - started, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="leadflow-export-bench-") as tmp:
        data = Path(tmp) / "data"
        fill(data, args.rows)
        env = dict(os.environ, LEADFLOW_DATA_DIR=str(data), LEADFLOW_RATE_LIMIT="0")
        env["LEADFLOW_ACCESS_LOG"] = "false"
        subprocess.run(
            [str(LEADFLOW), "users", "add", USER],
            input="bench-password-1\n",
            text=True,
            env=env,
            check=True,
            capture_output=True,
        )
        port = free_port()
        server = subprocess.Popen(
            [str(LEADFLOW), "serve", "--host", HOST, "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            with httpx.Client(base_url=f"http://{HOST}:{port}", timeout=600) as client:
                for _ in range(200):
                    try:
                        if client.get("/healthz").status_code == 200:
                            break
                    except httpx.TransportError:
                        time.sleep(0.1)
                token = client.post(
                    "/v1/auth/token", json={"username": USER, "password": "bench-password-1"}
                ).json()["access_token"]
                idle_mb = rss_mb(server.pid)
                times: dict[str, list[float]] = {"csv": [], "xlsx": []}
                cpu: dict[str, list[float]] = {"csv": [], "xlsx": []}
                sizes: dict[str, int] = {}
                with PeakRss(server.pid) as peak:
                    for _ in range(args.repeat):
                        for fmt in ("csv", "xlsx"):
                            before = cpu_seconds(server.pid)
                            seconds, sizes[fmt] = timed_download(client, fmt, token)
                            cpu[fmt].append(cpu_seconds(server.pid) - before)
                            times[fmt].append(seconds)
                check = client.get(
                    "/v1/leads/export",
                    params={"format": "xlsx"},
                    headers={"Authorization": f"Bearer {token}"},
                )
        finally:
            server.terminate()
            server.wait(timeout=30)
    from openpyxl import load_workbook

    rows = load_workbook(io.BytesIO(check.content), read_only=True).worksheets[0].max_row
    csv_s, xlsx_s = min(times["csv"]), min(times["xlsx"])
    ratio = xlsx_s / csv_s
    print(
        json.dumps(
            {
                "benchmark": "export",
                "leads": args.rows,
                "csv_seconds": round(csv_s, 3),
                "xlsx_seconds": round(xlsx_s, 3),
                "ratio_xlsx_to_csv": round(ratio, 2),
                "target_ratio_max": TARGET_RATIO,
                "meets_target": ratio <= TARGET_RATIO and rows == args.rows + 1,
                "xlsx_rows_with_header": rows,
                "csv_bytes": sizes["csv"],
                "xlsx_bytes": sizes["xlsx"],
                # the server's CPU seconds per download: steadier than wall time on a busy
                # machine (the CSV's also include streaming it, the XLSX's writing it first)
                "server_cpu_seconds": {
                    "csv": round(min(cpu["csv"]), 2),
                    "xlsx": round(min(cpu["xlsx"]), 2),
                },
                "cpu_ratio_xlsx_to_csv": round(min(cpu["xlsx"]) / min(cpu["csv"]), 2),
                "server_rss_mb": {"idle": round(idle_mb, 1), "peak": round(peak.peak, 1)},
                "all_seconds": {k: [round(v, 3) for v in vs] for k, vs in times.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
