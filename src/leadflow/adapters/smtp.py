"""The NotificationChannel port over SMTP: one e-mail per message, to one recipient."""

from __future__ import annotations

import smtplib
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any

from ..notify.channels import cut, one_line
from ..ports import Delivery, Verdict


def send_email(
    host: str, port: int, sender: str, to: str, subject: str, body: str, timeout: float = 10.0
) -> Delivery:
    """Send one e-mail; header values are made one line first. Never raises."""
    message = EmailMessage()
    message["From"], message["To"] = one_line(sender), one_line(to)
    message["Subject"] = cut(one_line(subject), 200)
    message.set_content(body)
    try:
        with smtplib.SMTP(host, port, timeout=timeout) as smtp:
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        verdict: Verdict = "failed" if all(400 <= c < 500 for c in codes) else "refused"
        return Delivery(verdict, f"email: recipients refused {exc.recipients}")
    except smtplib.SMTPResponseException as exc:
        verdict = "failed" if 400 <= exc.smtp_code < 500 else "refused"
        return Delivery(verdict, f"email: SMTP {exc.smtp_code} {one_line(exc.smtp_error)}")
    except smtplib.SMTPNotSupportedError as exc:  # e.g. a non-ASCII address, no SMTPUTF8
        return Delivery("refused", f"email: {type(exc).__name__}: {exc}")
    except OSError as exc:  # refused, reset, timeout, disconnected (SMTPException too)
        return Delivery("failed", f"email: {type(exc).__name__}: {exc}")
    except (ValueError, UnicodeError) as exc:
        return Delivery("refused", f"email: {type(exc).__name__}: {exc}")
    return Delivery("sent")


class SmtpChannel:
    """E-mail from `sender` to `to` through one SMTP server; `blocks` are not used."""

    name = "email"

    def __init__(self, host: str, port: int, sender: str, to: str) -> None:
        self.host, self.port, self.sender, self.to = host, port, sender, to

    def send(self, subject: str, text: str, blocks: Mapping[str, Any] | None = None) -> Delivery:
        return send_email(self.host, self.port, self.sender, self.to, subject, text)
