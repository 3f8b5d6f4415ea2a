"""Pure ASGI middleware (cheaper than BaseHTTPMiddleware): unexpected errors, header and
body size limits, and metrics."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter(
    "leadflow_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
LATENCY = Histogram(
    "leadflow_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


ACCESS = logging.getLogger("leadflow.access")
LOG = logging.getLogger("leadflow.api")


class ResponseStarted:
    """An ASGI `send` that remembers whether the response has started: a middleware that
    catches an error may answer only before that (afterwards it must let it through)."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self.send(message)


class _TooLarge(Exception):
    pass


def _error_body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, "details": None}}).encode()


async def _send_error(send: Send, status: int, code: str, message: str, close: bool) -> None:
    headers = [(b"content-type", b"application/json")]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": _error_body(code, message)})


class UnexpectedErrorMiddleware:
    """A bug answers a 500 envelope and the connection stays open for the next request.

    Starlette's own last-resort handler re-raises after answering, and the server then
    drops the connection: a keep-alive client saw its next request reset. Here the error
    is logged and answered, and not raised again. Once the response has started (a
    stream that fails half-way) nothing can be answered any more: the error is raised
    again so that the server aborts the connection and the client sees an incomplete
    transfer instead of a silently truncated file.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tracked = ResponseStarted(send)

        try:
            await self.app(scope, receive, tracked)
        except Exception:
            if tracked.started:
                LOG.exception("error after the response started", extra={"path": scope["path"]})
                raise
            LOG.exception("unexpected error", extra={"path": scope["path"]})
            await _send_error(
                send,
                500,
                "internal_error",
                "something went wrong on our side; it is logged",
                close=False,
            )


class HeaderLimitMiddleware:
    """431 when the request line and headers together are over `max_bytes`."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            size = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
            for name, value in scope.get("headers", ()):
                size += len(name) + len(value) + 4  # ": " and CRLF
            if size > self.max_bytes:
                await _send_error(
                    send,
                    431,
                    "headers_too_large",
                    f"the request headers are over the limit of {self.max_bytes} bytes",
                    close=True,
                )
                return
        await self.app(scope, receive, send)


class BodyLimitMiddleware:
    """413 for bodies over the limit, by Content-Length or by counting streamed bytes."""

    def __init__(self, app: ASGIApp, max_bytes: int, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.default_max = max_bytes
        self.larger = larger or {}  # path -> its own limit (file uploads)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope["path"], self.default_max)
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_large = int(value) > limit
                except ValueError:
                    too_large = False
                if too_large:
                    await self._reject(send, limit)
                    return
        seen = 0
        tracked = ResponseStarted(send)

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counting_receive, tracked)
        except _TooLarge:
            if not tracked.started:
                await self._reject(send, limit)

    async def _reject(self, send: Send, limit: int) -> None:
        # The rest of the body is not read: closing the connection is what keeps the next
        # request from being parsed out of this one's leftover bytes.
        await _send_error(
            send,
            413,
            "payload_too_large",
            f"the request body is over the limit of {limit} bytes",
            close=True,
        )


class MetricsMiddleware:
    """Counts and times requests by route template (not raw path: ids would explode it),
    and writes the access log line when `access_log` is on."""

    def __init__(self, app: ASGIApp, access_log: bool = True) -> None:
        self.app = app
        self.access_log = access_log
        # route templates and statuses are few, so these stay small
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._histograms: dict[tuple[str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            route: Any = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            seconds = time.perf_counter() - started
            counter = self._counters.get((method, template, status))
            if counter is None:  # labels() takes a lock and builds a key: once per series
                counter = REQUESTS.labels(method, template, str(status))
                self._counters[(method, template, status)] = counter
            histogram = self._histograms.get((method, template))
            if histogram is None:
                histogram = LATENCY.labels(method, template)
                self._histograms[(method, template)] = histogram
            counter.inc()
            histogram.observe(seconds)
            if self.access_log and ACCESS.isEnabledFor(logging.INFO):
                client = scope.get("client")
                # The record is made here and handed to the logger, as ACCESS.info() would,
                # minus its search of the call stack for a source line no log line shows.
                ACCESS.handle(
                    ACCESS.makeRecord(
                        ACCESS.name,
                        logging.INFO,
                        __file__,
                        0,
                        "%s %s %d",
                        (method, scope["path"], status),
                        None,
                        extra={
                            "route": template,
                            "status": status,
                            "ms": round(seconds * 1000, 2),
                            "client": client[0] if client else None,
                        },
                    )
                )
