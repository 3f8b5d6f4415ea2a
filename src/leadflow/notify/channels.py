"""What the channels say about a lead: a Slack message (Block Kit) and an e-mail text.
The channels themselves are adapters (adapters/slack.py, adapters/smtp.py).

Lead data is untrusted text. In Slack it goes into `plain_text` objects (never parsed
for mentions, links or formatting), and everywhere, the fallback `text` included, it is
escaped as Slack asks (`&`, `<`, `>`) and defanged so that nothing in it can become a
mention or a link; Slack shows it as written. Every value is cut to Slack's limits.
In e-mail, line breaks in a header value are replaced, so a lead can neither add a
header nor make the message unsendable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Slack's limits (characters): a header's text, a section field's text, a section's text.
HEADER_LIMIT = 150
FIELD_LIMIT = 2000
SECTION_LIMIT = 3000
ELLIPSIS = "…"
_JOINER = "\u2060"  # WORD JOINER: invisible, but it breaks Slack's automatic parsing
# what Slack's automatic parsing turns into a mention or a link in mrkdwn text
_AUTOLINK = re.compile(r"[@#]|://|\bwww\.|\.(?=[a-z]{2,}\b)", re.IGNORECASE)
_LINE_BREAKS = re.compile(r"[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+")
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1b\x1f\x7f]")


def cut(text: str, limit: int) -> str:
    """`text` in at most `limit` characters, an ellipsis marking a cut."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def slack_escape(text: str) -> str:
    """Text for Slack mrkdwn that Slack shows as written and never parses.

    `&`, `<` and `>` are escaped as Slack asks (so `<!here>` or `<http://x|y>` stay
    text), and a word joiner goes after every `@` and `#`, inside `://` and `www.`, and
    before the dot of a domain, so no mention, channel, URL or e-mail address is linked
    automatically (`@channel` included).
    """
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _AUTOLINK.sub(lambda m: _defang(m.group(0)), escaped)


def _defang(token: str) -> str:
    if token == "://":
        return ":" + _JOINER + "//"
    if token.lower() == "www.":
        return token[:3] + _JOINER + "."
    return token + _JOINER if token in "@#" else _JOINER + token


def _cut_escaped(text: str, limit: int) -> str:
    """slack_escape(text) within `limit` characters, cut on the raw text (never inside
    an escape) with an ellipsis."""
    escaped = slack_escape(text)
    if len(escaped) <= limit:
        return escaped
    low, high = 0, len(text)  # the longest raw prefix whose escape fits beside the ellipsis
    while low < high:
        middle = (low + high + 1) // 2
        if len(slack_escape(text[:middle])) < limit:
            low = middle
        else:
            high = middle - 1
    return slack_escape(text[:low]) + ELLIPSIS


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": _cut_escaped(text, limit) or "—", "emoji": False}


def lead_label(lead: Mapping[str, Any]) -> str:
    """How a lead is named to a person: its name, else company, else e-mail."""
    for key in ("name", "company", "email", "phone"):
        value = lead.get(key)
        if isinstance(value, str) and value.strip():
            return one_line(value)
    return "unnamed lead"


def one_line(value: Any) -> str:
    """A value as one line of text: line breaks become spaces, controls go."""
    text = _CONTROLS.sub("", str(value))
    return " ".join(_LINE_BREAKS.sub(" ", text).split())


def lead_blocks(lead: Mapping[str, Any]) -> dict[str, Any]:
    """A Slack message naming the lead with its company, title, email and source."""
    label = lead_label(lead)
    fields = [
        ("Company", lead.get("company")),
        ("Title", lead.get("title")),
        ("Email", lead.get("email")),
        ("Phone", lead.get("phone")),
        ("Source", lead.get("sourceFile") or lead.get("source")),
    ]
    return {
        "text": _cut_escaped(f"New lead: {label}", SECTION_LIMIT),
        "blocks": [
            {"type": "header", "text": _plain(f"New lead: {label}", HEADER_LIMIT)},
            {
                "type": "section",
                "fields": [
                    _plain(f"{name}\n{one_line(value) if value else '—'}", FIELD_LIMIT)
                    for name, value in fields
                ],
            },
        ],
        "unfurl_links": False,
        "unfurl_media": False,
    }


def lead_text(lead: Mapping[str, Any]) -> str:
    """The e-mail body: one line per field."""
    lines = [
        f"{k}: {one_line(lead.get(k)) if lead.get(k) else '-'}"
        for k in ("name", "company", "title", "email", "phone")
    ]
    source = lead.get("sourceFile") or lead.get("source")
    lines.append(f"source: {one_line(source) if source else '-'}")
    return "\n".join(lines) + "\n"
