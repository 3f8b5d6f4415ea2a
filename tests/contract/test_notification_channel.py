"""The NotificationChannel contract (ports.NotificationChannel) on every channel: memory,
a Slack webhook (a loopback HTTP peer) and SMTP (a loopback aiosmtpd server).

Each channel sends once and says how it went; it never raises for the peer's sake."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from leadflow.adapters.memory_channel import MemoryChannel
from leadflow.adapters.slack import SlackWebhookChannel
from leadflow.adapters.smtp import SmtpChannel
from leadflow.ports import Delivery, NotificationChannel


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Peer:
    """What the far side of a channel got, and how it answers (ok | refuse | busy)."""

    mode: str = "ok"
    got: list[dict[str, Any]] = field(default_factory=list)  # {subject?, text}


class _Webhook(BaseHTTPRequestHandler):
    peer: Peer

    def do_POST(self) -> None:  # noqa: N802 - the http.server name
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        answer = {"ok": (200, "ok"), "refuse": (404, "no_service"), "busy": (503, "down")}
        status, text = answer[self.peer.mode]
        if status == 200:
            self.peer.got.append({"text": body.get("text"), "blocks": body.get("blocks")})
        self.send_response(status)
        self.send_header("content-length", str(len(text)))
        self.end_headers()
        self.wfile.write(text.encode())

    def log_message(self, *args: Any) -> None:
        pass


class _Mailbox:
    def __init__(self, peer: Peer) -> None:
        self.peer = peer

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        if self.peer.mode == "refuse":
            return "550 no such user"
        if self.peer.mode == "busy":
            return "451 try again later"
        raw = envelope.content if isinstance(envelope.content, bytes) else b""
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        body = parsed.get_body()
        text = body.get_content() if body is not None else ""
        self.peer.got.append({"subject": str(parsed["Subject"]), "text": text})
        return "250 OK"


@pytest.fixture(params=["memory", "slack", "smtp"])
def channel(request: pytest.FixtureRequest) -> Iterator[tuple[NotificationChannel, Peer]]:
    peer = Peer()
    if request.param == "memory":
        memory = _ScriptedMemory(peer)
        yield memory, peer
    elif request.param == "slack":
        handler = type("Webhook", (_Webhook,), {"peer": peer})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield SlackWebhookChannel(f"http://127.0.0.1:{server.server_port}/hook"), peer
        finally:
            server.shutdown()
            server.server_close()
    else:
        port = free_port()
        controller = Controller(_Mailbox(peer), hostname="127.0.0.1", port=port)
        controller.start()
        try:
            yield SmtpChannel("127.0.0.1", port, "leadflow@acme.io", "sales@acme.io"), peer
        finally:
            controller.stop()


class _ScriptedMemory(MemoryChannel):
    """The memory channel answering as the peer's mode says (the fake of a remote peer)."""

    def __init__(self, peer: Peer) -> None:
        super().__init__("memory")
        self.peer = peer

    def send(self, subject: str, text: str, blocks: Any = None) -> Delivery:
        answers = {"refuse": Delivery("refused", "no"), "busy": Delivery("failed", "down")}
        self.answers = [answers[self.peer.mode]] if self.peer.mode in answers else []
        delivery = super().send(subject, text, blocks)
        if delivery.verdict == "sent":
            self.peer.got.append({"subject": subject, "text": text})
        return delivery


def test_a_message_is_sent_once(channel: tuple[NotificationChannel, Peer]) -> None:
    sender, peer = channel
    assert isinstance(sender.name, str) and sender.name
    delivery = sender.send("New lead: Ann", "name: Ann Lee\n")
    assert delivery.verdict == "sent"
    (got,) = peer.got
    assert "Ann" in got["text"]


def test_blocks_go_to_channels_that_show_them(channel: tuple[NotificationChannel, Peer]) -> None:
    sender, peer = channel
    blocks = {"text": "New lead: Ann", "blocks": [{"type": "divider"}]}
    assert sender.send("New lead: Ann", "name: Ann\n", blocks).verdict == "sent"
    (got,) = peer.got
    assert "Ann" in got["text"]


def test_a_refusal_is_refused_and_a_busy_peer_failed(
    channel: tuple[NotificationChannel, Peer],
) -> None:
    sender, peer = channel
    peer.mode = "refuse"
    refused = sender.send("s", "t")
    assert refused.verdict == "refused" and refused.reason
    peer.mode = "busy"
    failed = sender.send("s", "t")
    assert failed.verdict == "failed" and failed.reason
    assert peer.got == []


def test_an_unreachable_peer_is_a_failure_not_an_exception() -> None:
    port = free_port()  # nobody listens there
    for sender in (
        SlackWebhookChannel(f"http://127.0.0.1:{port}/hook"),
        SmtpChannel("127.0.0.1", port, "a@acme.io", "b@acme.io"),
    ):
        delivery = sender.send("s", "t")
        assert delivery.verdict == "failed" and delivery.reason, sender.name
