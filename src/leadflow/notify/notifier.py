"""Send the outbox: Slack first, e-mail when Slack fails after its retries, the DLQ when
both fail; and the DLQ alarm, once per crossing of the threshold.

Each entry is sent at most once by a live process: it is claimed before sending and
marked sent right after. (A process killed between Slack's 200 and that mark would,
after the claim times out, send the entry again: webhooks take no idempotency key.)
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from ..bootstrap import Services
from ..providers.client import ProviderClient, ProviderError
from .channels import lead_blocks, lead_text, send_email, send_slack
from .outbox import Entry, SqliteOutbox

log = logging.getLogger("leadflow.notify")
ALARM = "dlq_depth"


class Notifier:
    def __init__(self, services: Services, outbox: SqliteOutbox) -> None:
        self.services = services
        self.outbox = outbox
        # a webhook answers in well under a second: a slow one falls back to e-mail soon
        self.slack = ProviderClient("slack", timeout=5.0, attempts=3, backoff=0.2, max_backoff=2.0)
        # its own client: a lead webhook that is down (circuit open) must not mute alarms
        self.alerts = ProviderClient(
            "slack-alerts", timeout=5.0, attempts=3, backoff=0.2, max_backoff=2.0
        )
        self._lock = threading.Lock()

    def run_once(self) -> int:
        """Send what is pending; check the alarm; how many entries were handled."""
        with self._lock:  # one sender per process: entries are claimed in order
            entries = self.outbox.claim()
            for entry in entries:
                self._deliver(entry)
            self.check_alarm()
            return len(entries)

    def _deliver(self, entry: Entry) -> None:
        settings = self.services.settings
        lead = entry.payload
        errors = []
        if settings.slack_webhook_url:
            try:
                send_slack(self.slack, settings.slack_webhook_url, lead_blocks(lead))
                self.outbox.finish(entry, "sent", "slack", None)
                return
            except ProviderError as exc:
                errors.append(f"slack: {exc}")
        if settings.smtp_host and settings.email_to and settings.email_from:
            try:
                subject = f"New lead: {lead.get('name') or lead.get('email')}"
                send_email(settings.smtp_host, settings.smtp_port, settings.email_from,
                           settings.email_to, subject, lead_text(lead))  # fmt: skip
                self.outbox.finish(entry, "sent", "email", "; ".join(errors) or None)
                return
            except OSError as exc:
                errors.append(f"email: {exc}")
        error = "; ".join(errors) or "no notification channel is configured"
        self.services.queue.bury([{"kind": "notification", "lead": lead}], entry.owner, error)
        self.outbox.finish(entry, "dead", None, error)
        log.warning(
            "notification dead-lettered", extra={"leadId": lead.get("leadId"), "error": error}
        )

    def check_alarm(self) -> None:
        """One alert when the DLQ goes above the threshold; again only after it fell back."""
        settings = self.services.settings
        depth = self.services.queue.dlq_depth()
        above = depth > settings.dlq_alarm_threshold
        if not self.outbox.set_alarm(ALARM, above) or not above:
            return
        limit = settings.dlq_alarm_threshold
        text = f"leadflow: the dead-letter queue holds {depth} messages (threshold {limit})"
        try:
            if settings.slack_alert_webhook_url:
                self.alerts.post(settings.slack_alert_webhook_url, {"text": text})
            elif settings.smtp_host and settings.email_to and settings.email_from:
                send_email(settings.smtp_host, settings.smtp_port, settings.email_from,
                           settings.email_to, "leadflow DLQ alarm", text + "\n")  # fmt: skip
        except (ProviderError, OSError):
            log.exception("the DLQ alarm could not be sent")


def payloads(leads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    keep = ("leadId", "name", "company", "title", "email", "phone", "source", "sourceFile")
    return [{k: lead.get(k) for k in keep} for lead in leads]
