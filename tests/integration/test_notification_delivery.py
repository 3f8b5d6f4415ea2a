"""Notifications under real conditions: a Slack peer that rate-limits like Slack, leads
whose text would break a header, a channel that refuses, no channel at all, and Slack
and SMTP flapping during a burst. A real SMTP server (aiosmtpd) and a loopback webhook."""

from __future__ import annotations

import email
import email.policy
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from api_server import live_api
from slack_peer import SlackPeer, slack_peer
from test_notifications import Mailbox, drain, drop, free_port, settings

import leadflow.notify.notifier as notifier_module
from leadflow.bootstrap import inbox_ports
from leadflow.jobs.inbox import Inbox


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


def subjects(mailbox: Mailbox) -> list[str]:
    return [
        str(email.message_from_bytes(m.content, policy=email.policy.default)["Subject"])
        for m in mailbox.messages
    ]


def leads(count: int, prefix: str = "Lead") -> list[dict[str, str]]:
    return [
        {"name": f"{prefix} {i:03d}", "email": f"{prefix.lower()}{i}@x.io"} for i in range(count)
    ]


def test_a_burst_is_paced_to_slacks_rate_and_draws_no_429(
    tmp_path: Path, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    peer = SlackPeer(rate=1.0, burst=3)  # like Slack: 1 message a second, short bursts
    with (
        slack_peer(peer) as url,
        live_api(
            tmp_path / "d", **{**settings(url, port), "slack_messages_per_second": 1.0}
        ) as api,
    ):
        inbox = Inbox(inbox_ports(api.services))
        drop(inbox, "burst.ndjson", leads(12))
        inbox.run_once()
        assert drain(inbox) == {"sent": 12}
        channels = api.services.outbox.db.conn.execute("SELECT DISTINCT channel FROM outbox")
        assert [row[0] for row in channels] == ["slack"]
    assert peer.limited == 0 and peer.early == 0
    assert sorted(peer.texts()) == [f"New lead: Lead {i:03d}" for i in range(12)]
    assert mailbox.messages == []  # Slack stayed the channel


def test_a_429_is_waited_in_full_and_slack_stays_the_channel(
    tmp_path: Path, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    # a webhook much slower than our pace: it answers 429 with Retry-After: 2
    peer = SlackPeer(rate=0.5, burst=1, retry_after=2)
    with slack_peer(peer) as url, live_api(tmp_path / "d", **settings(url, port)) as api:
        inbox = Inbox(inbox_ports(api.services))
        drop(inbox, "three.ndjson", leads(3))
        inbox.run_once()
        assert drain(inbox) == {"sent": 3}
        attempts = api.services.outbox.db.conn.execute("SELECT max(attempts) FROM outbox")
        assert attempts.fetchone()[0] == 1  # a rate limit is not a failed attempt
    assert peer.limited >= 1  # it did rate-limit us...
    assert peer.early == 0  # ...and nothing came before its Retry-After had passed
    assert len(peer.received) == 3 and mailbox.messages == []


def test_a_very_long_company_still_reaches_slack(tmp_path: Path) -> None:
    peer = SlackPeer(rate=100.0, burst=100)  # answers invalid_blocks over Slack's limits
    company = "Acme & Sons <International> " * 84  # 2,352 characters
    with slack_peer(peer) as url, live_api(tmp_path / "d", **settings(url, None)) as api:
        inbox = Inbox(inbox_ports(api.services))
        drop(inbox, "long.ndjson", [{"name": "N" * 300, "email": "a@x.io", "company": company}])
        inbox.run_once()
        assert drain(inbox) == {"sent": 1}
    (message,) = peer.received
    shown = message["blocks"][1]["fields"][0]["text"].replace("&amp;", "&")
    assert shown.startswith("Company\nAcme & Sons &lt;International&gt; Acme")
    assert shown.endswith("…")


def test_a_line_break_in_a_name_blocks_nothing_and_the_mail_is_sent(
    tmp_path: Path, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    records = [
        # a first name keeps its line break through the import (a full name does not)
        {"firstName": "Eve\r\nBcc: victim@evil.io", "lastName": "Z", "email": "eve@x.io"},
        {"company": "Acme Corp", "email": "nameless@acme.io"},
        {"email": "only@mail.io"},
        {"name": "Bo Ray", "email": "bo@x.io"},
    ]
    with live_api(tmp_path / "d", **settings(None, port)) as api:
        inbox = Inbox(inbox_ports(api.services))
        drop(inbox, "leads.ndjson", records)
        inbox.run_once()
        assert drain(inbox) == {"sent": 4}
    assert sorted(subjects(mailbox)) == sorted(
        [
            "New lead: Eve Bcc: victim@evil.io Z",
            "New lead: Acme Corp",
            "New lead: only@mail.io",
            "New lead: Bo Ray",
        ]
    )
    for message in mailbox.messages:
        assert message.rcpt_tos == ["sales@test.io"]  # no header came from the lead
        parsed = email.message_from_bytes(message.content, policy=email.policy.default)
        assert parsed["Bcc"] is None


def test_a_clean_file_after_a_restart_is_processed_and_every_lead_e_mailed(
    tmp_path: Path, smtp: tuple[Mailbox, int]
) -> None:
    # Before: the CR/LF made the e-mail raise ValueError inside the file's processing, so
    # that file was rejected and its entries stuck in `sending`; after a restart the
    # stuck entry was claimed again while a clean file was processed, and rejected it.
    mailbox, port = smtp
    with live_api(tmp_path / "d", **settings(None, port)) as api:
        inbox = Inbox(inbox_ports(api.services))
        bad = {"firstName": "Eve\r\nBcc: x@evil.io", "lastName": "Z", "email": "eve@x.io"}
        drop(inbox, "a.ndjson", [bad, {"name": "Bo Ray", "email": "bo@x.io"}])
        inbox.run_once()
        restarted = Inbox(inbox_ports(api.services))
        drop(restarted, "clean.ndjson", [{"name": "Cy Dee", "email": "cy@x.io"}])
        restarted.run_once()
        assert drain(restarted) == {"sent": 3}
        assert list((inbox.root / "leads" / "rejected").iterdir()) == []
        assert len(list((inbox.root / "leads" / "processed").iterdir())) == 2
    assert sorted(subjects(mailbox)) == [
        "New lead: Bo Ray", "New lead: Cy Dee", "New lead: Eve Bcc: x@evil.io Z"
    ]  # fmt: skip


def test_a_file_is_processed_whatever_its_notifications_do(tmp_path: Path) -> None:
    # Slack refuses every message for good (a deleted webhook) and there is no e-mail
    peer = SlackPeer(gone=True)
    with slack_peer(peer) as url, live_api(tmp_path / "d", **settings(url, None)) as api:
        outbox = api.services.outbox
        # an entry left `sending` by a process that died before the restart
        outbox.add_many("alice", {"old:1": {"leadId": "old", "name": "Old\r\nLead"}}, "t")
        outbox.claim(now=1.0)
        inbox = Inbox(inbox_ports(api.services))
        drop(inbox, "clean.ndjson", leads(2))
        inbox.run_once()
        processed = list((inbox.root / "leads" / "processed").iterdir())
        assert [p.name.endswith("clean.ndjson") for p in processed] == [True]
        assert list((inbox.root / "leads" / "rejected").iterdir()) == []
        assert drain(inbox) == {"dead": 3}
        letters = api.services.dead_letters.list("alice")
    assert len(letters) == 3
    assert all("slack: HTTP 404" in (letter.last_error or "") for letter in letters)


def test_without_a_channel_notifications_are_off(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notifier_module, "_announced_off", False)
    with (
        caplog.at_level(logging.WARNING, logger="leadflow.notify"),
        live_api(tmp_path / "d", inbox_owner="alice") as api,
    ):
        inbox = Inbox(inbox_ports(api.services))
        Inbox(inbox_ports(api.services))  # a second start in the same process says nothing again
        for name in ("a", "b"):
            drop(inbox, f"{name}.ndjson", leads(3, name.upper()))
            inbox.run_once()
        assert len(list((inbox.root / "leads" / "processed").iterdir())) == 2
        assert api.services.outbox.counts() == {}
        assert api.services.dead_letters.depth() == 0
    off = [r for r in caplog.records if "notifications are off" in r.getMessage()]
    assert len(off) == 1


def test_slack_and_smtp_flapping_deliver_each_lead_once_or_dead_letter_it(
    tmp_path: Path,
) -> None:
    mailbox = Mailbox()
    smtp_port = free_port()
    controller: Controller | None = None  # a stopped controller cannot start again
    peer = SlackPeer(rate=1000.0, burst=1000)
    # Each step: (Slack up?, SMTP up?), applied between notifier passes during a burst.
    up, down = True, False
    schedule = [(up, up), (down, up), (down, down), (up, down), (down, down),
                (up, up), (down, up), (up, down), (down, down), (up, up)]  # fmt: skip
    smtp_up = False
    names: list[str] = []
    with (
        slack_peer(peer) as url,
        live_api(
            tmp_path / "d",
            **settings(url, smtp_port),
            notify_attempts=4,
            dlq_alarm_threshold=1000,
        ) as api,
    ):
        inbox = Inbox(inbox_ports(api.services))
        for step, (slack_on, smtp_on) in enumerate(schedule * 2):
            peer.down = not slack_on
            if smtp_on and not smtp_up:
                controller = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
                controller.start()
            elif smtp_up and not smtp_on and controller is not None:
                controller.stop()
            smtp_up = smtp_on
            batch = leads(5, f"F{step:02d}x")
            names += [lead["name"] for lead in batch]
            drop(inbox, f"f{step:02d}.ndjson", batch)
            inbox.run_once()
            for _ in range(3):
                inbox.notifier.run_once()
        # both channels stay down: whatever is left runs out of attempts
        peer.down = True
        if smtp_up and controller is not None:
            controller.stop()
        counts = drain(inbox)
        rows = api.services.outbox.db.conn.execute(
            "SELECT payload, status, channel, last_error FROM outbox"
        ).fetchall()
        letters = api.services.dead_letters.list("alice", 10_000)
    assert set(counts) <= {"sent", "dead"} and sum(counts.values()) == len(names)
    by_slack = [t.removeprefix("New lead: ") for t in peer.texts()]
    by_mail = [s.removeprefix("New lead: ") for s in subjects(mailbox)]
    delivered = by_slack + by_mail
    assert len(delivered) == len(set(delivered))  # nobody told twice
    dead = {json.loads(p)["name"]: error for p, status, _, error in rows if status == "dead"}
    sent = {json.loads(p)["name"]: channel for p, status, channel, _ in rows if status == "sent"}
    assert set(delivered) == set(sent) and not set(sent) & set(dead)
    assert set(sent) | set(dead) == set(names)  # every lead: delivered once, or dead
    assert {n for n, c in sent.items() if c == "slack"} == set(by_slack)
    assert {letter.body["lead"]["name"] for letter in letters} == set(dead)
    assert all("slack" in error and "email" in error for error in dead.values())
    assert sent and peer.failed > 0  # both things happened during the burst
    assert by_mail and by_slack


class RefusingMailbox(Mailbox):
    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: object, session: object, envelope: object, address: str, options: object
    ) -> str:
        return "550 5.1.1 no such mailbox"


def test_a_recipient_the_server_refuses_is_dead_lettered_at_once(tmp_path: Path) -> None:
    port = free_port()
    controller = Controller(RefusingMailbox(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with live_api(tmp_path / "d", **settings(None, port)) as api:
            inbox = Inbox(inbox_ports(api.services))
            drop(inbox, "one.ndjson", leads(2))
            inbox.run_once()
            assert drain(inbox) == {"dead": 2}
            letters = api.services.dead_letters.list("alice")
            attempts = api.services.outbox.db.conn.execute("SELECT max(attempts) FROM outbox")
            assert attempts.fetchone()[0] == 1  # no retry can help: not tried again
    finally:
        controller.stop()
    assert all("550" in (letter.last_error or "") for letter in letters)
