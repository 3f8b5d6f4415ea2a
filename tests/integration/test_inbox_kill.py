"""Fault injection: kill -9 of `leadflow serve` during an inbox burst of 200 files.

Every file ends in processed/ or rejected/, every lead is stored, and every lead is
notified exactly once through the loopback Slack peer, allowing the one documented window
(notify/notifier.py): a kill between Slack's answer and the entry's sent mark sends that
one entry again after its claim times out.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
from provider_peer import PeerScript, provider_peer

LEADFLOW = Path(sys.executable).parent / "leadflow"
FILES = 200
PER_FILE = 2
BAD_EVERY = 25  # every 25th file is a cut-off JSON document: rejected


def name(n: int) -> str:
    return f"f{n:03d}.json" if n % BAD_EVERY == BAD_EVERY - 1 else f"f{n:03d}.ndjson"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Callable[[], bool], what: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting: {what}"
        time.sleep(0.05)


def serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [str(LEADFLOW), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def ready() -> bool:
        assert process.poll() is None, "leadflow serve exited"
        try:
            return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(ready, "leadflow serve to be ready", 60)
    return process


def tag(file: int, lead: int) -> str:
    return f"Co{file:03d}n{lead}"


def ended(inbox: Path) -> list[str]:
    return [
        p.name.split("-", 1)[1]
        for where in ("processed", "rejected")
        for p in (inbox / where).iterdir()
        if not p.name.endswith(".reason.txt")
    ]


def outbox(db: Path) -> dict[str, int]:
    with sqlite3.connect(db, timeout=30) as conn:
        return dict(conn.execute("SELECT status, count(*) FROM outbox GROUP BY status"))


def test_kill_9_during_an_inbox_burst_loses_nothing_and_notifies_once(tmp_path: Path) -> None:
    script = PeerScript(webhook=True, delay=0.01)
    data = tmp_path / "data"
    inbox = data / "inbox" / "leads"
    with provider_peer(script) as slack:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEADFLOW_")}
        env.update(
            LEADFLOW_DATA_DIR=str(data),
            LEADFLOW_SLACK_WEBHOOK_URL=slack,
            # the loopback peer has no rate limit: pacing at Slack's 1 a second would take
            # 368 s for the burst's leads
            LEADFLOW_SLACK_MESSAGES_PER_SECOND="1000",
            LEADFLOW_INBOX_RECOVER_SECONDS="0.5",
            LEADFLOW_RESTART_BACKOFF="0.1",
            LEADFLOW_ACCESS_LOG="false",
        )
        port = free_port()
        first = serve(env, port)
        try:
            for n in range(FILES):  # the burst: written whole, then renamed into place
                tmp = inbox / f"{name(n)}.tmp"
                if n % BAD_EVERY == BAD_EVERY - 1:
                    tmp.write_text('[{"name": "Cut Off", "email": "cut@exam')
                else:
                    leads = [
                        {
                            "name": f"Ann {tag(n, j)}",
                            "email": f"{tag(n, j).lower()}@example.com",
                            "company": tag(n, j),
                        }  # fmt: skip
                        for j in range(PER_FILE)
                    ]
                    tmp.write_text("\n".join(json.dumps(lead) for lead in leads) + "\n")
                os.rename(tmp, inbox / name(n))
            wait_for(lambda: len(ended(inbox)) >= 40, "the burst under way", 120)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        killed_at = len(ended(inbox))
        assert killed_at < FILES, "the kill should land in the middle of the burst"

        second = serve(env, port)
        db = data / "leadflow.db"
        try:
            wait_for(lambda: len(ended(inbox)) == FILES, "every file to end", 120)
            # entries claimed by the killed process come back when their claim times out
            wait_for(lambda: set(outbox(db)) == {"sent"}, "every notification sent", 150)
            report = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10).json()
        finally:
            second.send_signal(signal.SIGTERM)  # a clean stop (uvicorn re-raises it at exit)
            assert second.wait(30) in (0, -signal.SIGTERM)

    assert sorted(ended(inbox)) == [name(n) for n in range(FILES)]
    assert not [p for p in (data / "inbox").glob("*/processing/**/*") if p.is_file()]
    assert [p.name for p in inbox.iterdir() if p.is_file()] == []
    bad = {name(n) for n in range(FILES) if n % BAD_EVERY == BAD_EVERY - 1}
    rejected = {
        p.name.split("-", 1)[1] for p in (inbox / "rejected").iterdir()
        if not p.name.endswith(".reason.txt")
    }  # fmt: skip
    assert rejected == bad
    expected = {tag(n, j) for n in range(FILES) if name(n) not in bad
                for j in range(PER_FILE)}  # fmt: skip
    with sqlite3.connect(db) as conn:
        stored = {row[0] for row in conn.execute("SELECT company FROM leads")}
    assert stored == expected
    sent = Counter(
        found for message in script.received
        for found in set(re.findall(r"Co\d{3}n\d", json.dumps(message)))
    )  # fmt: skip
    assert set(sent) == expected  # every lead notified
    doubled = {lead: count for lead, count in sent.items() if count > 1}
    assert sum(doubled.values()) - len(doubled) <= 1, doubled  # at most the one window
    assert report["ready"] is True
    print(json.dumps({"filesEndedAtKill": killed_at, "doubledNotifications": doubled}))
