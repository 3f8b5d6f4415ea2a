"""A loopback peer speaking the OpenAI chat-completions protocol, steered by tests."""

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
class ChatScript:
    malformed: int = 0  # answer this many calls with content that is not the JSON asked for
    invent: bool = False  # add an email and a phone that no row contains
    delay: float = 0.0
    cap: int | None = None  # answer 429 while more calls than this are in flight
    statuses: list[int] = field(default_factory=list)  # answer these HTTP errors first
    rejected: int = 0
    calls: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def standardize(row: dict[str, Any], invent: bool) -> dict[str, Any]:
    first, _, last = str(row.get("Full Name") or row.get("name") or "").partition(" ")
    return {
        "firstName": first or None,
        "lastName": last or None,
        "title": row.get("Role") or None,
        "company": row.get("Org") or None,
        "email": "made.up@nowhere.test" if invent else row.get("Mail") or row.get("email"),
        "phone": "+1 202 555 0199" if invent else row.get("Tel") or row.get("phone"),
        "remarks": None,
    }


def _handler(script: ChatScript) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
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

        def _send(self, status: int, body: bytes, retry_after: str | None = None) -> None:
            self._leave()
            self.send_response(status)
            if retry_after is not None:
                self.send_header("Retry-After", retry_after)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with script.lock:
                status = script.statuses.pop(0) if script.statuses else None
            if status is not None:
                failure = b'{"error": {"message": "scripted failure"}}'
                self._send(status, failure, "2" if status == 429 else None)
                return
            with script.lock:
                if script.cap is not None and script.in_flight >= script.cap:
                    script.rejected += 1
                    rejected = True
                else:
                    rejected = False
            if rejected:
                self._send(429, b'{"error": {"message": "concurrency limit"}}', "1")
                return
            with script.lock:
                script.calls += 1
                script.requests.append(request)
                script.in_flight += 1
                self._counted = True
                script.max_in_flight = max(script.max_in_flight, script.in_flight)
                broken = script.malformed > 0
                script.malformed -= 1 if broken else 0
            try:
                time.sleep(script.delay)
                rows = json.loads(request["messages"][-1]["content"])["rows"]
                if broken:
                    content = "Sure! Here are your leads: " + json.dumps(rows)[:40]
                else:
                    leads = [standardize(row, script.invent) for row in rows]
                    content = json.dumps({"leads": leads})
                body = json.dumps(
                    {
                        "id": "chatcmpl-1",
                        "object": "chat.completion",
                        "model": request["model"],
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": content},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {"prompt_tokens": 50, "completion_tokens": 25, "total_tokens": 75},
                    }
                ).encode()
                self._send(200, body)
            finally:
                self._leave()

    return Handler


@contextmanager
def chat_peer(script: ChatScript) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(script))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
