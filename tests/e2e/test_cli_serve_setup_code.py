"""`leadflow serve` on a fresh data directory prints the web app's one-time setup code,
and that code (and only it) creates the first user through the first-run form."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
from cli_runner import LEADFLOW


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_prints_the_setup_code_that_creates_the_first_user(tmp_path: Path) -> None:
    port = _free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LEADFLOW_")}
    environ.update(LEADFLOW_DATA_DIR=str(tmp_path / "data"), LEADFLOW_PORT=str(port), COLUMNS="200")
    server = subprocess.Popen(
        [str(LEADFLOW), "serve"],
        cwd=tmp_path,
        env=environ,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stderr is not None
        code = None
        deadline = time.monotonic() + 60
        while code is None and time.monotonic() < deadline:
            line = server.stderr.readline()
            match = re.search(r"setup code ([A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4})", line)
            code = match.group(1) if match else None
        assert code, "leadflow serve printed no setup code"
        assert (tmp_path / "data" / "setup-code").read_text().strip() == code
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
        page = None
        while page is None and time.monotonic() < deadline:
            try:
                page = client.get("/")
            except httpx.TransportError:
                time.sleep(0.1)
        assert page is not None and "Setup code" in page.text
        token = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
        assert token is not None
        form = {"csrf": token.group(1), "username": "admin", "password": "a-long-password"}
        created = client.post("/setup", data={**form, "code": code})
        assert created.status_code == 303 and created.headers["location"] == "/import"
        assert client.get("/leads").status_code == 200  # signed in
        assert not (tmp_path / "data" / "setup-code").exists()
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
