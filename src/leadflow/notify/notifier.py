"""Send the outbox: Slack first, e-mail when Slack fails, a later retry while a channel
may come back, the DLQ with the reasons when none will; and the DLQ alarm, once per
crossing of the threshold.

- Slack is paced per webhook (LEADFLOW_SLACK_MESSAGES_PER_SECOND). A 429 is honoured in
  full: the webhook gets nothing until its Retry-After has passed, and the entries wait
  for Slack (a rate limit is not a failure, so they do not go by e-mail).
- Slack failing (5xx, refused connection, timeout) sends that entry by e-mail and rests
  Slack for a moment, so a dead webhook does not make each entry wait its timeout.
- One entry that cannot be sent never holds up the others: each is handled on its own,
  waits for its retry after the ones behind it, and ends `sent` or `dead`.
- `run_once` sleeps at most a second in all, through short gaps of the pace: entries
  that must wait longer get a due time in the outbox, and a later call (the inbox
  watcher calls it about twice a second) sends them.

Each entry is sent at most once by a live process: it is claimed before sending and
marked sent right after. (A process killed between Slack's 200 and that mark would,
after the claim times out, send the entry again: webhooks take no idempotency key. A
webhook that times out after Slack took the message gives the same duplicate by e-mail.)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..ports import DeadLetters, NotificationChannel, Outbox, OutboxEntry
from ..providers.client import ProviderClient, ProviderError
from ..settings import Settings
from .channels import lead_blocks, lead_label, lead_text

log = logging.getLogger("leadflow.notify")
ALARM = "dlq_depth"
MAX_RETRY_SECONDS = 600.0
# run_once sleeps through pacing gaps this short, at most MAX_PACING_SLEEP in all; longer
# waits go back to the outbox with a due time for a later call
SHORT_WAIT = 0.25
MAX_PACING_SLEEP = 1.0
_announced_off = False


def notifications_enabled(settings: Settings) -> bool:
    """True when a channel is configured: a Slack webhook, or e-mail with sender and
    recipient through SMTP (or, on the aws backend without an SMTP host, SES)."""
    return bool(
        settings.slack_webhook_url
        or (
            (settings.smtp_host or settings.backend == "aws")
            and settings.email_to
            and settings.email_from
        )
    )


class WebhookPacer:
    """Per webhook URL: at most `rate` messages a second, none during a 429's Retry-After."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 1.0 / rate
        self.clock = clock
        self._next: dict[str, float] = {}  # url -> monotonic time the next message may go

    def wait(self, url: str) -> float:
        """Seconds until a message may go to `url` (0: now)."""
        return max(0.0, self._next.get(url, 0.0) - self.clock())

    def sent(self, url: str) -> None:
        self._next[url] = max(self._next.get(url, 0.0), self.clock() + self.interval)

    def pause(self, url: str, seconds: float) -> None:
        self._next[url] = max(self._next.get(url, 0.0), self.clock() + seconds)


@dataclass(frozen=True)
class NotifierPorts:
    """What the notifier uses (bootstrap.notifier_ports builds it)."""

    settings: Settings
    outbox: Outbox
    dead_letters: DeadLetters
    slack: NotificationChannel | None  # leads go here first
    email: NotificationChannel | None  # when Slack fails (and DLQ alarms without Slack alerts)


class Notifier:
    def __init__(self, ports: NotifierPorts) -> None:
        global _announced_off
        self.ports = ports
        self.outbox = ports.outbox
        settings = ports.settings
        self.enabled = ports.slack is not None or ports.email is not None
        if not self.enabled and not _announced_off:
            _announced_off = True  # once per process, not once per lead
            log.warning(
                "notifications are off: no channel is configured (set "
                "LEADFLOW_SLACK_WEBHOOK_URL, or LEADFLOW_SMTP_HOST with LEADFLOW_EMAIL_FROM "
                "and LEADFLOW_EMAIL_TO)"
            )
        self.pacer = WebhookPacer(settings.slack_messages_per_second)
        self.max_attempts = settings.notify_attempts
        self.retry_seconds = settings.notify_retry_seconds
        self._slack_rests_until = 0.0  # monotonic: Slack failed, e-mail goes first till then
        # its own client: a lead webhook that is down must not mute alarms
        self.alerts = ProviderClient(
            "slack-alerts", timeout=5.0, attempts=3, backoff=0.2, max_backoff=2.0
        )
        self._lock = threading.Lock()

    @property
    def email_configured(self) -> bool:
        return self.ports.email is not None

    def run_once(self) -> int:
        """Send what is due (sleeping through short pacing gaps, a second at most); check
        the alarm; how many entries were tried."""
        with self._lock:  # one sender per process: entries are claimed in order
            tried = 0
            if self.enabled:
                entries = self.outbox.claim()
                budget = time.monotonic() + MAX_PACING_SLEEP
                for index, entry in enumerate(entries):
                    wait = self._slack_wait()
                    if 0 < wait <= SHORT_WAIT and time.monotonic() + wait <= budget:
                        time.sleep(wait)  # a short gap of the pace: cheaper than a round trip
                        wait = self._slack_wait()
                    if wait > 0:  # Slack's turn has not come: the rest wait for it
                        self.outbox.retry_at(entries[index:], time.time() + wait, None, False)
                        break
                    self._deliver_safely(entry)
                    tried += 1
            self.check_alarm()
            return tried

    def _slack_wait(self) -> float:
        """Seconds before the next entry may be tried (0 when e-mail would take it)."""
        if self.ports.slack is None:
            return 0.0
        resting = self._slack_rests_until - time.monotonic()
        if resting > 0:
            return 0.0 if self.email_configured else resting
        return self.pacer.wait(self.ports.slack.name)

    def _deliver_safely(self, entry: OutboxEntry) -> None:
        try:
            self._deliver(entry)
        except Exception as exc:  # a bug for one entry must not hold up the others
            log.exception("notification failed", extra={"leadId": entry.payload.get("leadId")})
            try:
                self._bury(entry, f"internal error: {type(exc).__name__}: {exc}")
            except Exception:  # the store itself fails: the claim runs out, it comes back
                log.exception("notification could not be dead-lettered")

    def _deliver(self, entry: OutboxEntry) -> None:
        lead = entry.payload
        reasons: list[str] = []
        may_recover = False
        slack, email = self.ports.slack, self.ports.email
        subject, text = f"New lead: {lead_label(lead)}", lead_text(lead)
        if slack is not None and time.monotonic() >= self._slack_rests_until:
            result = slack.send(subject, text, lead_blocks(lead))
            self.pacer.sent(slack.name)
            if result.verdict == "sent":
                self.outbox.finish(entry, "sent", "slack", None)
                return
            if result.verdict == "rate_limited":  # Slack stays the channel: wait in full
                wait = result.retry_after or 0.0
                self.pacer.pause(slack.name, wait)
                self.outbox.retry_at([entry], time.time() + wait, result.reason, counts=False)
                log.info("slack rate limit", extra={"retryAfter": wait})
                return
            reasons.append(result.reason or "slack: failed")
            if result.verdict == "failed":
                may_recover = True
                self._slack_rests_until = time.monotonic() + self.retry_seconds
        elif slack is not None:
            reasons.append("slack: resting after a failure moments ago")
            may_recover = True
        if email is not None:
            result = email.send(subject, text)
            if result.verdict == "sent":
                self.outbox.finish(entry, "sent", "email", "; ".join(reasons) or None)
                return
            reasons.append(result.reason or "email: failed")
            may_recover = may_recover or result.verdict == "failed"
        error = "; ".join(reasons)
        if may_recover and entry.attempts < self.max_attempts:
            delay = min(self.retry_seconds * 2 ** (entry.attempts - 1), MAX_RETRY_SECONDS)
            self.outbox.retry_at([entry], time.time() + delay, error)
            return
        self._bury(entry, f"after {entry.attempts} attempts: {error}")

    def _bury(self, entry: OutboxEntry, error: str) -> None:
        lead = entry.payload
        self.ports.dead_letters.add([{"kind": "notification", "lead": lead}], entry.owner, error)
        self.outbox.finish(entry, "dead", None, error)
        log.warning(
            "notification dead-lettered", extra={"leadId": lead.get("leadId"), "error": error}
        )

    def check_alarm(self) -> None:
        """One alert when the DLQ goes above the threshold; again only after it fell back."""
        settings = self.ports.settings
        depth = self.ports.dead_letters.depth()
        above = depth > settings.dlq_alarm_threshold
        if not self.outbox.set_alarm(ALARM, above) or not above:
            return
        limit = settings.dlq_alarm_threshold
        text = f"leadflow: the dead-letter queue holds {depth} messages (threshold {limit})"
        if settings.slack_alert_webhook_url:
            try:
                self.alerts.post(settings.slack_alert_webhook_url, {"text": text})
            except ProviderError:
                log.exception("the DLQ alarm could not be sent")
        elif self.ports.email is not None:
            result = self.ports.email.send("leadflow DLQ alarm", text + "\n")
            if result.verdict != "sent":
                log.error("the DLQ alarm could not be sent", extra={"error": result.reason})


def payloads(leads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    keep = ("leadId", "name", "company", "title", "email", "phone", "source", "sourceFile")
    return [{k: lead.get(k) for k in keep} for lead in leads]
