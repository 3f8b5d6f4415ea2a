"""Seed 002's notifications: Slack first, e-mail when Slack fails, the DLQ when both do,
one alarm per crossing; a loopback Slack peer and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from api_server import live_api
from provider_peer import PeerScript, provider_peer

from leadflow.adapters.slack import SlackWebhookChannel
from leadflow.bootstrap import inbox_ports, realtime_ports
from leadflow.jobs.inbox import Inbox


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(envelope)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


def drop(inbox: Inbox, name: str, records: list[dict[str, str]]) -> None:
    tmp = inbox.root / "leads" / f"{name}.tmp"
    tmp.write_text("\n".join(json.dumps(r) for r in records))
    os.rename(tmp, inbox.root / "leads" / name)
    old = time.time() - 1
    os.utime(inbox.root / "leads" / name, (old, old))


LEADS = [
    {"name": "Ann Lee", "email": "ann@acme.io", "company": "Acme", "title": "CTO"},
    {"name": "Bo Ray", "email": "bo@globex.com", "company": "Globex"},
]


def settings(url: str | None, smtp_port: int | None) -> dict[str, Any]:
    values: dict[str, Any] = {
        "slack_webhook_url": url,
        "inbox_owner": "alice",
        "slack_messages_per_second": 100.0,  # these peers take any pace
        "notify_retry_seconds": 0.01,
    }
    if smtp_port is not None:
        values.update(smtp_host="127.0.0.1", smtp_port=smtp_port, email_from="leadflow@test.io",
                      email_to="sales@test.io")  # fmt: skip
    return values


def drain(inbox: Inbox) -> dict[str, int]:
    """Run the notifier until no entry is pending or being sent; the outbox's counts."""
    outbox = inbox.ports.notifier.outbox
    give_up = time.monotonic() + 60  # a guard against a hang, not a speed check
    while set(outbox.counts()) & {"pending", "sending"} and time.monotonic() < give_up:
        if not inbox.notifier.run_once():
            time.sleep(0.02)
    return outbox.counts()


def test_each_lead_gives_one_slack_message(tmp_path: Path) -> None:
    script = PeerScript(webhook=True)
    with provider_peer(script) as url, live_api(tmp_path / "d", **settings(url, None)) as api:
        inbox = Inbox(inbox_ports(api.services))
        drop(inbox, "leads.ndjson", LEADS)
        inbox.run_once()
        drop(inbox, "again.ndjson", LEADS)  # the same content again: nothing new to say
        inbox.run_once()
        assert drain(inbox) == {"sent": 2}
    assert script.calls == 2
    message = script.received[0]
    assert message["text"] == "New lead: Ann Lee"
    fields = json.dumps(message["blocks"], ensure_ascii=False).replace("\u2060", "")
    assert all(word in fields for word in ("Acme", "CTO", "ann@acme.io", "leads.ndjson"))


def test_slack_down_gives_email(tmp_path: Path, smtp: tuple[Mailbox, int]) -> None:
    mailbox, port = smtp
    script = PeerScript(failures=[(500, {}, "down")] * 100, webhook=True)
    with provider_peer(script) as url, live_api(tmp_path / "d", **settings(url, port)) as api:
        inbox = Inbox(inbox_ports(api.services))
        drop(inbox, "leads.ndjson", LEADS)
        inbox.run_once()
        assert drain(inbox) == {"sent": 2}
    assert len(mailbox.messages) == 2
    body = mailbox.messages[0].content.decode()
    assert "Subject: New lead: Ann Lee" in body and "company: Acme" in body


def test_both_down_give_the_dlq_and_exactly_one_alarm(tmp_path: Path) -> None:
    script = PeerScript(failures=[(500, {}, "down")] * 100, webhook=True)
    alarm = PeerScript(webhook=True)
    with (
        provider_peer(script) as url,
        provider_peer(alarm) as alarm_url,
        live_api(
            tmp_path / "d",
            **settings(url, free_port()),  # nothing listens on that SMTP port
            slack_alert_webhook_url=alarm_url,
            notify_attempts=2,
        ) as api,
    ):
        inbox = Inbox(inbox_ports(api.services))
        drop(inbox, "a.ndjson", LEADS)
        inbox.run_once()
        assert drain(inbox) == {"dead": 2}
        assert alarm.calls == 0  # 2 in the DLQ: not above the threshold of 2
        drop(inbox, "b.ndjson", [{"name": "Cy", "email": "cy@x.io"}])
        inbox.run_once()
        drop(inbox, "c.ndjson", [{"name": "Di", "email": "di@x.io"}])
        inbox.run_once()
        drain(inbox)
        assert api.services.dead_letters.depth() == 4
        assert alarm.calls == 1  # one alert for the crossing, not one per message
        api.services.dead_letters.purge()
        inbox.notifier.check_alarm()  # back below: the alarm is re-armed
        for name in ("d", "e", "f"):
            drop(inbox, f"{name}.ndjson", [{"name": name, "email": f"{name}@x.io"}])
            inbox.run_once()
            drain(inbox)
        assert alarm.calls == 2
        letter = api.services.dead_letters.list("alice")[0]
    assert "slack: HTTP 500" in (letter.last_error or "")
    assert "email: ConnectionRefusedError" in (letter.last_error or "")
    assert "after 2 attempts" in (letter.last_error or "")
    assert letter.body["kind"] == "notification"


def test_a_restart_half_way_sends_nothing_twice(tmp_path: Path) -> None:
    script = PeerScript(webhook=True)
    with provider_peer(script) as url, live_api(tmp_path / "d", **settings(url, None)) as api:
        inbox = Inbox(inbox_ports(api.services))
        drop(inbox, "leads.ndjson", LEADS)
        # the file is applied and its outbox entries written, then the process "dies"
        # before anything is sent: process without the notifier
        claimed = inbox.claim("leads", inbox.ready()[0][1])
        assert claimed is not None
        from leadflow.pipelines.realtime import process_lead_file

        process_lead_file(realtime_ports(api.services), "alice", claimed, "leads.ndjson")
        # a new process: the file comes back (its worker is gone) and runs again
        restarted = Inbox(inbox_ports(api.services))
        os.rename(claimed, claimed.with_name("999999999-leads.ndjson"))
        restarted.recover()
        restarted.run_once()
        assert drain(restarted) == {"sent": 2}
    assert script.calls == 2  # one message per lead, not four


def test_a_slow_slack_still_gets_its_message_and_a_stuck_one_gives_email(
    tmp_path: Path, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    slow = PeerScript(webhook=True, delay=0.3)
    with provider_peer(slow) as url, live_api(tmp_path / "a", **settings(url, port)) as api:
        inbox = Inbox(inbox_ports(api.services))
        drop(inbox, "one.json", LEADS[:1])
        inbox.run_once()
        assert drain(inbox) == {"sent": 1}
    assert slow.calls == 1 and mailbox.messages == []
    stuck = PeerScript(webhook=True, delay=2.0)
    with provider_peer(stuck) as url, live_api(tmp_path / "b", **settings(url, port)) as api:
        inbox = Inbox(inbox_ports(api.services))
        slack = inbox.notifier.ports.slack
        assert isinstance(slack, SlackWebhookChannel)
        slack.http = httpx.Client(timeout=0.2)  # a webhook that hangs: e-mail
        drop(inbox, "one.json", LEADS[:1])
        inbox.run_once()
        assert drain(inbox) == {"sent": 1}
    assert len(mailbox.messages) == 1
