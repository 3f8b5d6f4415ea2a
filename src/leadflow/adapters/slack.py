"""The NotificationChannel port over a Slack incoming webhook (one POST per message)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from ..notify.channels import one_line
from ..ports import Delivery
from ..providers.client import retry_after_seconds

TIMEOUT = 5.0  # seconds: a webhook answers in well under a second; a slow one counts as down


def post_webhook(http: httpx.Client, url: str, message: Mapping[str, Any]) -> Delivery:
    """POST one message to a Slack incoming webhook, once; never raises for the peer."""
    try:
        response = http.post(url, json=dict(message))
    except httpx.HTTPError as exc:
        return Delivery("failed", f"slack: {type(exc).__name__}: {exc}")
    status = response.status_code
    if status < 300:
        return Delivery("sent")
    reason = f"slack: HTTP {status} {one_line(response.text)[:200]}".rstrip()
    if status == 429:
        wait = retry_after_seconds(response.headers.get("retry-after"))
        return Delivery("rate_limited", reason, 1.0 if wait is None else wait)
    if status >= 500 or status in (408, 425):
        return Delivery("failed", reason)
    return Delivery("refused", reason)  # invalid_blocks, no_service, channel_not_found...


class SlackWebhookChannel:
    """One webhook URL; `blocks` is sent as the whole Slack message, else `{"text": text}`."""

    name = "slack"

    def __init__(self, url: str, http: httpx.Client | None = None) -> None:
        self.url = url
        self.http = http or httpx.Client(timeout=TIMEOUT)

    def send(self, subject: str, text: str, blocks: Mapping[str, Any] | None = None) -> Delivery:
        return post_webhook(self.http, self.url, blocks if blocks is not None else {"text": text})
