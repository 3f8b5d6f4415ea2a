"""Redriven dead letters that are not job batches: orders, notifications and alarms.

Each one runs through what put it in the DLQ again. One that still cannot go through goes
back to the DLQ with the reason why (a fresh dead letter), so a redrive never loses the
original reason under "unknown message kind"; one that goes through is done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..clock import utc_now
from ..domain.orders import IncompleteOrder, parse_order
from ..ports import DeadLetters, Message, NotificationChannel, OrderStore, Outbox
from ..settings import Settings

log = logging.getLogger("leadflow.redrive")


@dataclass(frozen=True)
class RedrivePorts:
    """What redriven messages use (bootstrap.redrive_ports builds it)."""

    settings: Settings
    dead_letters: DeadLetters
    orders: OrderStore
    outbox: Outbox
    alert: NotificationChannel | None  # where a redriven alarm goes


def redrive_order(ports: RedrivePorts, message: Message) -> None:
    """Check the order again: stored when complete now, else back to the DLQ."""
    body = message.body
    source = str(body.get("source") or "redrive")
    outcome = parse_order(body.get("record"))
    if isinstance(outcome, IncompleteOrder):
        ports.dead_letters.add([dict(body)], message.owner, outcome.reason)
        return
    ports.orders.save(message.owner or "", source, [outcome], utc_now())


def redrive_notification(ports: RedrivePorts, message: Message) -> None:
    """Put the lead back in the outbox: the notifier sends it (or dead-letters it again
    with the channels' errors). Keyed by the dead letter, so a redelivered redrive adds
    nothing twice."""
    lead = message.body.get("lead")
    if not isinstance(lead, Mapping):
        raise ValueError("a notification message must carry its lead")
    key = f"redrive:{message.id}:{lead.get('leadId')}"
    ports.outbox.add_many(message.owner or "", {key: dict(lead)}, utc_now())


def redrive_alarm(ports: RedrivePorts, message: Message) -> None:
    """Send the alarm's text to the alert channel again; an error leaves it to the queue
    (retried, then back in the DLQ with that error)."""
    text = str(message.body.get("text") or "leadflow: an alarm was redriven")
    if ports.alert is None:
        raise RuntimeError("no alert channel is configured (LEADFLOW_SLACK_ALERT_WEBHOOK_URL)")
    result = ports.alert.send("leadflow DLQ alarm", text + "\n", {"text": text})
    if result.verdict != "sent":
        raise RuntimeError(result.reason or f"the alert channel said {result.verdict}")


REDRIVEN: dict[str, Callable[[RedrivePorts, Message], None]] = {
    "order": redrive_order,
    "notification": redrive_notification,
    "alarm": redrive_alarm,
}
