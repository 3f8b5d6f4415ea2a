"""The two channels: a Slack incoming webhook (Block Kit) and SMTP e-mail."""

from __future__ import annotations

import smtplib
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any

from ..providers.client import ProviderClient


def lead_blocks(lead: Mapping[str, Any]) -> dict[str, Any]:
    """A readable Slack message: the lead's name, company, title, email and source."""
    name = lead.get("name") or lead.get("email") or "A new lead"
    fields = [
        ("Company", lead.get("company")),
        ("Title", lead.get("title")),
        ("Email", lead.get("email")),
        ("Source", lead.get("sourceFile") or lead.get("source")),
    ]
    return {
        "text": f"New lead: {name}",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": f"New lead: {name}"[:150]}},
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": f"*{label}*\n{value or '—'}"}
                    for label, value in fields
                ],
            },
        ],
    }


def send_slack(client: ProviderClient, url: str, message: Mapping[str, Any]) -> None:
    """POST to the webhook, with the client's retries; ProviderError when it fails."""
    client.post(url, message)


def send_email(host: str, port: int, sender: str, to: str, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message.set_content(body)
    with smtplib.SMTP(host, port, timeout=10) as smtp:
        smtp.send_message(message)


def lead_text(lead: Mapping[str, Any]) -> str:
    lines = [f"{k}: {lead.get(k) or '-'}" for k in ("name", "company", "title", "email", "phone")]
    lines.append(f"source: {lead.get('sourceFile') or lead.get('source') or '-'}")
    return "\n".join(lines) + "\n"
