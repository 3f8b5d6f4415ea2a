"""A loopback HTTP peer standing in for a remote enrichment provider; tests steer it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class PeerScript:
    """What the peer does: a queue of canned failures, then answers; and its record."""

    failures: list[tuple[int, dict[str, str], str]] = field(default_factory=list)
    delay: float = 0.0
    keyed: bool = False
    cap: int | None = None  # 429 when more requests than this are in flight
    webhook: bool = False  # answer like a Slack incoming webhook: 200 "ok", keep the body
    received: list[Any] = field(default_factory=list)
    calls: int = 0
    rejected: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _handler(script: PeerScript) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        _counted = False

        def _leave(self) -> None:
            # A request stops counting as in flight BEFORE its answer is written: once the
            # client has read the answer it may send its next request at once, and that one
            # must not meet this one still counted (a race that made max_in_flight flaky).
            if self._counted:
                self._counted = False
                with script.lock:
                    script.in_flight -= 1

        def _send(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
            self._leave()
            data = body.encode()
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with script.lock:
                script.calls += 1
                script.in_flight += 1
                self._counted = True
                script.max_in_flight = max(script.max_in_flight, script.in_flight)
                over_cap = script.cap is not None and script.in_flight > script.cap
                failure = script.failures.pop(0) if script.failures and not over_cap else None
            try:
                if over_cap:
                    with script.lock:
                        script.rejected += 1
                    self._send(429, '{"error": "too many"}', {"Retry-After": "0"})
                    return
                if failure is not None:
                    status, headers, body = failure
                    self._send(status, body, headers)
                    return
                time.sleep(script.delay)
                if script.webhook:
                    with script.lock:
                        script.received.append(payload)
                    self._send(200, "ok")
                    return
                contacts = payload["contacts"]
                if script.keyed:
                    results = [
                        {"key": c.get("email"), "score": len(str(c.get("email", "")))}
                        for c in reversed(contacts)
                    ]
                else:
                    results = [{"score": i, "seen": c.get("email")} for i, c in enumerate(contacts)]
                self._send(200, json.dumps({"results": results}))
            finally:
                self._leave()

    return Handler


@contextmanager
def provider_peer(script: PeerScript) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(script))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/enrich"
    finally:
        server.shutdown()
        server.server_close()
