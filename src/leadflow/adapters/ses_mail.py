"""The NotificationChannel port on Amazon SES: the e-mail fallback when leadflow runs on
AWS (`name` "email", like the SMTP channel it stands in for).

One SendEmail per message, plain text, from a verified sender to one recipient. SES's
answers become Delivery verdicts: throttling (the sandbox allows one message a second)
is `rate_limited`; a rejected message or an unverified sender/recipient is `refused`
(no retry can fix it); anything else from SES or the network is `failed` (may work
later). It never raises for SES's sake.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..notify.channels import cut, one_line
from ..ports import Delivery

THROTTLED = ("Throttling", "ThrottlingException", "TooManyRequestsException")
REFUSED = (
    "MessageRejected",
    "MailFromDomainNotVerifiedException",
    "ConfigurationSetDoesNotExistException",
    "InvalidParameterValue",
    "ValidationError",
)
RATE_LIMIT_WAIT = 1.0  # s: SES's sandbox sends one message a second

__all__ = ["SesChannel"]


class SesChannel:
    """E-mail from `sender` to `to` through SES; `blocks` (Slack's) are not used."""

    name = "email"

    def __init__(self, ses: Any, sender: str, to: str) -> None:
        self.ses = ses
        self.sender = sender
        self.to = to

    def send(self, subject: str, text: str, blocks: Mapping[str, Any] | None = None) -> Delivery:
        """Send one e-mail (subject made one line, at most 200 characters)."""
        try:
            self.ses.send_email(
                Source=one_line(self.sender),
                Destination={"ToAddresses": [one_line(self.to)]},
                Message={
                    "Subject": {"Data": cut(one_line(subject), 200), "Charset": "UTF-8"},
                    "Body": {"Text": {"Data": text, "Charset": "UTF-8"}},
                },
            )
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            reason = f"ses: {code} {one_line(error.get('Message', ''))}".rstrip()
            if code in THROTTLED or "rate exceeded" in reason.lower():
                return Delivery("rate_limited", reason, RATE_LIMIT_WAIT)
            if code in REFUSED:
                return Delivery("refused", reason)
            return Delivery("failed", reason)
        except BotoCoreError as exc:  # no connection, timeout, bad endpoint
            return Delivery("failed", f"ses: {type(exc).__name__}: {exc}")
        return Delivery("sent")
