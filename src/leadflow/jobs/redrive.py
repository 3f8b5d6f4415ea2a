"""Redriven dead letters that are not job batches: orders, notifications and alarms.

Each one runs through what put it in the DLQ again. One that still cannot go through goes
back to the DLQ with the reason why (a fresh dead letter), so a redrive never loses the
original reason under "unknown message kind"; one that goes through is done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

import httpx

from ..bootstrap import Services
from ..clock import utc_now
from ..domain.orders import IncompleteOrder, parse_order
from ..ports import Message

log = logging.getLogger("leadflow.redrive")
ALERT_TIMEOUT = 5.0  # seconds: the alert channel answers fast or counts as failing


def redrive_order(services: Services, message: Message) -> None:
    """Check the order again: stored when complete now, else back to the DLQ."""
    body = message.body
    source = str(body.get("source") or "redrive")
    outcome = parse_order(body.get("record"))
    if isinstance(outcome, IncompleteOrder):
        services.queue.bury([dict(body)], message.owner, outcome.reason)
        return
    services.orders.save(message.owner or "", source, [outcome], utc_now())


def redrive_notification(services: Services, message: Message) -> None:
    """Put the lead back in the outbox: the notifier sends it (or dead-letters it again
    with the channels' errors). Keyed by the dead letter, so a redelivered redrive adds
    nothing twice."""
    lead = message.body.get("lead")
    if not isinstance(lead, Mapping):
        raise ValueError("a notification message must carry its lead")
    key = f"redrive:{message.id}:{lead.get('leadId')}"
    services.outbox.add_many(message.owner or "", {key: dict(lead)}, utc_now())


def redrive_alarm(services: Services, message: Message) -> None:
    """Send the alarm's text to the alert channel again; an error leaves it to the queue
    (retried, then back in the DLQ with that error)."""
    settings = services.settings
    text = str(message.body.get("text") or "leadflow: an alarm was redriven")
    url = settings.slack_alert_webhook_url or settings.slack_webhook_url
    if url:
        response = httpx.post(url, json={"text": text}, timeout=ALERT_TIMEOUT)
        response.raise_for_status()
        return
    if settings.smtp_host and settings.email_to and settings.email_from:
        _send_alarm_email(services, text)
        return
    raise RuntimeError("no alert channel is configured (LEADFLOW_SLACK_ALERT_WEBHOOK_URL)")


def _send_alarm_email(services: Services, text: str) -> None:
    import smtplib
    from email.message import EmailMessage

    settings = services.settings
    mail = EmailMessage()
    mail["From"] = settings.email_from or ""
    mail["To"] = settings.email_to or ""
    mail["Subject"] = "leadflow DLQ alarm"
    mail.set_content(text + "\n")
    with smtplib.SMTP(settings.smtp_host or "", settings.smtp_port, timeout=10) as smtp:
        smtp.send_message(mail)


REDRIVEN: dict[str, Callable[[Services, Message], None]] = {
    "order": redrive_order,
    "notification": redrive_notification,
    "alarm": redrive_alarm,
}
