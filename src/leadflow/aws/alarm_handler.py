"""SNS (the DLQ alarm) -> a message to the Slack alert webhook.

CloudWatch publishes the alarm's state change as JSON; the message says which queue,
its new state and why. Without LEADFLOW_SLACK_ALERT_WEBHOOK_URL nothing is posted. A
failed post raises, so that SNS retries the invocation.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx

from ..adapters.slack import post_webhook
from ..notify.channels import slack_escape
from ..settings import Settings

log = logging.getLogger("leadflow.aws.alarm")
TIMEOUT = 10.0  # seconds for one post


class AlertNotDelivered(RuntimeError):
    """Slack did not take the alert; SNS retries the invocation."""


def alarm_text(message: str) -> str:
    """One line for Slack from a CloudWatch alarm notification (or any SNS message)."""
    try:
        alarm = json.loads(message)
    except ValueError:
        alarm = None
    if not isinstance(alarm, dict) or "AlarmName" not in alarm:
        return f":warning: leadflow alert: {slack_escape(message)}"
    state = str(alarm.get("NewStateValue", "?"))
    icon = ":rotating_light:" if state == "ALARM" else ":white_check_mark:"
    reason = slack_escape(str(alarm.get("NewStateReason", "")))
    return (
        f"{icon} {slack_escape(str(alarm['AlarmName']))} is {state}: {reason} "
        "(see `leadflow dlq list`; `leadflow dlq redrive` sends them back)"
    )


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    """The Lambda entry point; {"posted": n}."""
    url = Settings().slack_alert_webhook_url
    texts = [alarm_text(r["Sns"]["Message"]) for r in event.get("Records", []) if "Sns" in r]
    if url is None:
        for text in texts:
            log.warning("DLQ alarm (no LEADFLOW_SLACK_ALERT_WEBHOOK_URL): %s", text)
        return {"posted": 0}
    with httpx.Client(timeout=TIMEOUT) as http:
        for text in texts:
            delivery = post_webhook(http, url, {"text": text})
            if delivery.verdict != "sent":
                raise AlertNotDelivered(delivery.reason or "slack did not take the alert")
    return {"posted": len(texts)}
