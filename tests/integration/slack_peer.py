"""A loopback Slack incoming webhook that rate-limits like Slack and can be taken down.

Slack takes about one message a second per webhook with short bursts over it, and
answers the rest with 429 and a Retry-After in whole seconds. This peer does the same
with a token bucket, and counts the messages that came in before a Retry-After it gave
had passed (what a well-behaved client never sends).
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class SlackPeer:
    rate: float = 1.0  # messages a second, refilled continuously
    burst: int = 3  # messages it takes at once
    retry_after: int | None = None  # fixed Retry-After; None: the time to the next token
    down: bool = False  # answer 503 to everything
    gone: bool = False  # answer 404 no_service to everything (a deleted webhook)
    received: list[dict[str, Any]] = field(default_factory=list)
    limited: int = 0  # 429 answers given
    early: int = 0  # messages that came before a Retry-After had passed
    failed: int = 0  # 503 answers given
    lock: threading.Lock = field(default_factory=threading.Lock)
    _tokens: float = -1.0
    _stamp: float = 0.0
    _quiet_until: float = 0.0

    def _take(self, now: float) -> float | None:
        """None when a token was taken, else seconds until the next one."""
        if self._tokens < 0:
            self._tokens, self._stamp = float(self.burst), now
        self._tokens = min(float(self.burst), self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        if self._tokens >= 1:
            self._tokens -= 1
            return None
        return (1 - self._tokens) / self.rate

    def answer(self, body: dict[str, Any]) -> tuple[int, dict[str, str], str]:
        now = time.monotonic()
        if not _valid_blocks(body):
            return 400, {}, "invalid_blocks"
        with self.lock:
            if self.down:
                self.failed += 1
                return 503, {}, "service_unavailable"
            if self.gone:
                return 404, {}, "no_service"
            if now < self._quiet_until:
                self.early += 1
            wait = self._take(now)
            if wait is not None:
                self.limited += 1
                seconds = self.retry_after if self.retry_after is not None else math.ceil(wait)
                self._quiet_until = max(self._quiet_until, now + seconds)
                return 429, {"Retry-After": str(seconds)}, "rate_limited"
            self.received.append(body)
            return 200, {}, "ok"

    def texts(self) -> list[str]:
        with self.lock:
            return [str(message["text"]) for message in self.received]


def _valid_blocks(body: dict[str, Any]) -> bool:
    """Slack's limits: header text 150, section field 2,000, section text 3,000."""
    for block in body.get("blocks", []):
        if block["type"] == "header" and len(block["text"]["text"]) > 150:
            return False
        if block["type"] == "section":
            fields = block.get("fields", [])
            if len(fields) > 10 or any(len(f["text"]) > 2000 for f in fields):
                return False
            if len(block.get("text", {}).get("text", "")) > 3000:
                return False
    return 0 < len(str(body.get("text", ""))) <= 40_000


def _handler(peer: SlackPeer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            status, headers, text = peer.answer(body)
            data = text.encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@contextmanager
def slack_peer(peer: SlackPeer) -> Iterator[str]:
    """Serve `peer` on 127.0.0.1; yields its webhook URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(peer))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/services/T0/B0/x"
    finally:
        server.shutdown()
        server.server_close()
