"""Benchmark: bounded wrk load on POST /v1/records of a real `leadflow serve`, on loopback.

Starts the server on a free 127.0.0.1 port with a fresh data directory (rate limiting off),
logs in, warms up, then runs wrk for --duration seconds with --connections connections and
one thread. Every request carries 10 seed-000 records with emails no other request uses,
so each one is 10 real inserts. Afterwards it checks that the leads were stored: GET
/v1/leads answers and the `leads` table holds 10 x the 2xx answers (warm-up included).

Then, side by side with the same wrk script and connections, it measures the peer: a
minimal FastAPI endpoint (bench/records_peer.py) that upserts the same 10 records into
SQLite, and reports leadflow's throughput as a ratio of the peer's (target: 0.7 or more).

Prints one JSON object: requests/s, latency percentiles (ms), non-2xx answers, stored and
expected leads, the peer's figures and the ratio, and whether the targets were met.

    .venv/bin/python bench/api_load.py
    .venv/bin/python bench/api_load.py --connections 32 --duration 30
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from proctree import cpu_seconds, free_port

ROOT = Path(__file__).resolve().parent.parent
LEADFLOW = ROOT / ".venv" / "bin" / "leadflow"
HOST = "127.0.0.1"
USER = "bench"
RECORDS_PER_REQUEST = 10
TARGETS = {"rps_min": 1000, "p99_max_ms": 50, "ratio_to_peer_min": 0.7}
PEER = ROOT / "bench" / "records_peer.py"

# One Lua state per wrk thread: `counter` numbers that thread's requests, and the run tag
# (a script argument) keeps the warm-up's emails apart from the measured run's.
LUA = """\
counter = 0
local tag = "run"
local threads = {}

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer @TOKEN@"

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  if args[1] then tag = args[1] end
end

function request()
  counter = counter + 1
  local records = {}
  for i = 1, @RECORDS@ do
    records[i] = string.format(
      '{"name":"Bench User %d-%d","email":"bench.%s.%d.%d@example.com",'
        .. '"optIn":true,"interests":["datascience","python"]}',
      counter, i, tag, counter, i)
  end
  return wrk.format(nil, nil, nil, "[" .. table.concat(records, ",") .. "]")
end

function done(summary, latency, requests)
  local sent = 0
  for _, thread in ipairs(threads) do
    sent = sent + thread:get("counter")
  end
  io.write(string.format("bench_sent %d\\n", sent))
end
"""

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


@dataclass
class WrkResult:
    requests: int
    requests_per_second: float
    latency_ms: dict[str, float]
    non_2xx: int
    socket_errors: dict[str, int]
    sent: int
    output: str

    @property
    def ok_requests(self) -> int:
        return self.requests - self.non_2xx


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", value)
    if match is None:
        raise ValueError(f"unexpected wrk time {value!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> WrkResult:
    """Requests/sec, the latency distribution, totals and error lines of `wrk --latency`."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    total = re.search(r"^\s*(\d+) requests in ", output, re.M)
    if rps is None or total is None:
        raise SystemExit(f"could not parse wrk output:\n{output}")
    latency = {
        f"p{pct}": round(_ms(value), 3)
        for pct, value in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", output, re.M)
    }
    if len(latency) != 4:
        raise SystemExit(f"no latency distribution in wrk output:\n{output}")
    non_2xx = re.search(r"^\s*Non-2xx or 3xx responses:\s+(\d+)", output, re.M)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    sent = re.search(r"^bench_sent (\d+)", output, re.M)
    return WrkResult(
        requests=int(total.group(1)),
        requests_per_second=float(rps.group(1)),
        latency_ms=latency,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=dict(
            zip(("connect", "read", "write", "timeout"), map(int, errors.groups()), strict=True)
        )
        if errors
        else dict.fromkeys(("connect", "read", "write", "timeout"), 0),
        sent=int(sent.group(1)) if sent else 0,
        output=output,
    )


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk not found; trying `apt-get install -y wrk` once", file=sys.stderr)
    try:
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, stdout=sys.stderr)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise SystemExit(
            f"wrk is required (Debian package `wrk`) and `apt-get install -y wrk` failed: {exc}"
        ) from None
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is still not on PATH after `apt-get install -y wrk`")
    return found


def run_wrk(
    wrk: str, url: str, script: Path, connections: int, seconds: int, tag: str
) -> WrkResult:
    command = [
        wrk,
        "--threads",
        "1",
        "--connections",
        str(connections),
        "--duration",
        f"{seconds}s",
        "--latency",
        "--script",
        str(script),
        url,
        "--",
        tag,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        raise SystemExit(f"wrk failed with exit code {done.returncode}:\n{done.stderr}")
    return parse_wrk(done.stdout)


def wait_healthy(client: httpx.Client, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(
                f"leadflow serve exited with code {server.returncode}:\n{log.read_text()}"
            )
        try:
            if client.get("/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"leadflow serve did not answer /healthz within 20 s:\n{log.read_text()}")


def stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def server_2xx(client: httpx.Client) -> int:
    """2xx answers to POST /v1/records the server itself counted (Prometheus counter)."""
    pattern = re.compile(
        r'^leadflow_http_requests_total\{(?=[^}]*method="POST")(?=[^}]*route="/v1/records")'
        r'(?=[^}]*status="2\d\d")[^}]*\}\s+([\d.e+]+)$',
        re.M,
    )
    text = client.get("/metrics").text
    return int(sum(float(value) for value in pattern.findall(text)))


def cpu_ms_per_request(pid: int, run: Callable[[], WrkResult]) -> tuple[WrkResult, float]:
    """Runs `run` and divides the server's CPU time by the requests it answered.

    On a shared, busy machine requests/s swing with the neighbours' load; the CPU each
    request costs the server barely does, so the ratio is also given from it.
    """
    before = cpu_seconds(pid)
    result = run()
    spent = cpu_seconds(pid) - before
    return result, 1000 * spent / max(1, result.requests)


def run_peer(
    wrk: str, script: Path, tmp: Path, connections: int, seconds: int, warmup: int
) -> tuple[WrkResult, int, float]:
    """wrk against the minimal FastAPI peer; its result and the rows it stored."""
    port = free_port()
    log = tmp / "peer.log"
    with log.open("wb") as log_file:
        peer = subprocess.Popen(
            [sys.executable, str(PEER), "--port", str(port), "--db", str(tmp / "peer.db")],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        with httpx.Client(base_url=f"http://{HOST}:{port}", timeout=10) as client:
            deadline = time.monotonic() + 20
            while True:
                try:
                    if client.get("/count").status_code == 200:
                        break
                except httpx.TransportError:
                    if time.monotonic() > deadline or peer.poll() is not None:
                        raise SystemExit(f"the peer did not start:\n{log.read_text()}") from None
                    time.sleep(0.1)
            url = f"http://{HOST}:{port}/records"
            if warmup:
                run_wrk(wrk, url, script, connections, warmup, "peerwarm")
            result, cpu_ms = cpu_ms_per_request(
                peer.pid, lambda: run_wrk(wrk, url, script, connections, seconds, "peer")
            )
            time.sleep(0.5)
            stored = int(client.get("/count").json()["leads"])
    finally:
        stop(peer)
    return result, stored, cpu_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=int, default=10, help="seconds of measured load")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unreported warm-up")
    parser.add_argument("--no-peer", action="store_true", help="skip the minimal-peer run")
    args = parser.parse_args()
    if args.connections < 1 or args.duration < 1 or args.warmup < 0:
        parser.error("--connections and --duration must be >= 1, --warmup >= 0")
    wrk = ensure_wrk()
    with tempfile.TemporaryDirectory(prefix="leadflow-bench-") as tmp:
        data = Path(tmp) / "data"
        env = dict(os.environ, LEADFLOW_DATA_DIR=str(data), LEADFLOW_RATE_LIMIT="0")
        password = secrets.token_urlsafe(24)
        added = subprocess.run(
            [str(LEADFLOW), "users", "add", USER],
            input=password + "\n",
            capture_output=True,
            text=True,
            env=env,
        )
        if added.returncode != 0:
            raise SystemExit(
                f"`leadflow users add {USER}` failed ({added.returncode}):\n"
                f"{added.stdout}{added.stderr}"
            )
        port = free_port()
        base = f"http://{HOST}:{port}"
        log = Path(tmp) / "serve.log"
        with log.open("wb") as log_file:
            server = subprocess.Popen(
                [str(LEADFLOW), "serve", "--host", HOST, "--port", str(port)],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=env,
            )
        try:
            with httpx.Client(base_url=base, timeout=10) as client:
                wait_healthy(client, server, log)
                answer = client.post(
                    "/v1/auth/token", json={"username": USER, "password": password}
                )
                if answer.status_code != 200:
                    raise SystemExit(f"login failed: {answer.status_code} {answer.text}")
                token = answer.json()["access_token"]
                if not re.fullmatch(r"[A-Za-z0-9_.-]+", token):
                    raise SystemExit("unexpected characters in the access token")
                script = Path(tmp) / "records.lua"
                script.write_text(
                    LUA.replace("@TOKEN@", token).replace("@RECORDS@", str(RECORDS_PER_REQUEST))
                )
                url = f"{base}/v1/records"
                runs = []
                if args.warmup:
                    runs.append(run_wrk(wrk, url, script, args.connections, args.warmup, "warm"))
                result, cpu_ms = cpu_ms_per_request(
                    server.pid,
                    lambda: run_wrk(wrk, url, script, args.connections, args.duration, "load"),
                )
                runs.append(result)
                time.sleep(0.5)  # let requests wrk abandoned at its deadline finish
                leads = client.get(
                    "/v1/leads", params={"limit": 1}, headers={"Authorization": f"Bearer {token}"}
                )
                if leads.status_code != 200 or not leads.json().get("items"):
                    raise SystemExit(
                        f"GET /v1/leads?limit=1 failed: {leads.status_code} {leads.text}"
                    )
                answered = server_2xx(client)
        finally:
            stop(server)
        peer, peer_stored, peer_cpu_ms = (None, 0, 0.0)
        if not args.no_peer:
            peer, peer_stored, peer_cpu_ms = run_peer(
                wrk, script, Path(tmp), args.connections, args.duration, args.warmup
            )
        db = sqlite3.connect(data / "leadflow.db")
        try:
            stored = db.execute("SELECT count(*) FROM leads").fetchone()[0]
        finally:
            db.close()
    expected = RECORDS_PER_REQUEST * sum(run.ok_requests for run in runs)
    # wrk does not count requests still in flight at its deadline; the server answers them.
    unanswered = sum(run.sent - run.requests for run in runs)
    socket_errors = sum(result.socket_errors.values())
    leads_verified = stored == expected or (
        stored == RECORDS_PER_REQUEST * answered
        and expected <= stored <= expected + RECORDS_PER_REQUEST * unanswered
    )
    ratio = result.requests_per_second / peer.requests_per_second if peer else None
    meets = (
        (ratio is None or ratio >= TARGETS["ratio_to_peer_min"])
        and result.requests_per_second >= TARGETS["rps_min"]
        and result.latency_ms["p99"] <= TARGETS["p99_max_ms"]
        and result.non_2xx == 0
        and socket_errors == 0
        and leads_verified
    )
    print(
        json.dumps(
            {
                "benchmark": "api_records",
                "connections": args.connections,
                "duration_s": args.duration,
                "requests": result.requests,
                "requests_per_second": round(result.requests_per_second, 1),
                "latency_ms": result.latency_ms,
                "non_2xx": result.non_2xx,
                "socket_errors": result.socket_errors,
                "records_per_request": RECORDS_PER_REQUEST,
                "warmup_s": args.warmup,
                "warmup_requests": runs[0].requests if args.warmup else 0,
                "warmup_non_2xx": runs[0].non_2xx if args.warmup else 0,
                "stored_leads": stored,
                "expected_leads": expected,
                "server_2xx": answered,
                "unanswered_requests": unanswered,
                "leads_verified": leads_verified,
                "peer": None
                if peer is None
                else {
                    "what": "minimal FastAPI endpoint upserting the 10 records into SQLite",
                    "requests_per_second": round(peer.requests_per_second, 1),
                    "latency_ms": peer.latency_ms,
                    "non_2xx": peer.non_2xx,
                    "stored_rows": peer_stored,
                    "cpu_ms_per_request": round(peer_cpu_ms, 3),
                },
                "cpu_ms_per_request": round(cpu_ms, 3),
                "ratio_to_peer": None if ratio is None else round(ratio, 2),
                "ratio_to_peer_by_cpu": round(peer_cpu_ms / cpu_ms, 2) if peer else None,
                "targets": TARGETS,
                "meets_targets": meets,
            }
        )
    )


if __name__ == "__main__":
    main()
