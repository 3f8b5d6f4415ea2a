"""The offline chatbot: common questions recognized without a model."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

HELP = (
    'I can answer questions like: "how many leads from Acme?", "how many leads were '
    'added this week?", "list the CTOs added this week", "which companies have the '
    'most leads?". Configure an LLM (LEADFLOW_LLM_API_KEY) for free-form questions.'
)
_PERIODS = {
    "today": 1,
    "this week": 7,
    "last week": 7,
    "this month": 31,
    "last month": 31,
    "this year": 366,
}
_DAYS = re.compile(r"(?:in )?the last (\d{1,5}) days?")
_ENDS = r"(?:added|created|from|at|in|this|last|today)"
_COMPANY = re.compile(
    r"\b(?:from|at|in|of)\s+([a-z0-9][\w&.' -]{0,60}?)"
    r"(?:\s+(?:added|created|this|last|today|in the|were|was|are|is|that|who)\b|[?.!]*$)"
)
_TITLE = re.compile(
    r"\b(?:list|show|who are|find|give me)\s+(?:me\s+)?(?:all\s+)?(?:the\s+|my\s+)?"
    rf"(.{{1,40}}?)s?\s+(?:{_ENDS}\b|$)"
)


# questions about leads that have (or lack) an e-mail or a phone: no tool can filter so
_PRESENCE = re.compile(
    r"\b(?:without|with(?:\s+no)?|no|missing|lacking|ha(?:s|ve|ving)(?:\s+no)?|lack)\s+"
    r"(?:an?\s+|any\s+|the(?:ir)?\s+)?(e-?mail|phone)"
)


@dataclass
class Intent:
    tool: str
    args: dict[str, Any]


def _period(text: str) -> int | None:
    match = _DAYS.search(text)
    if match:
        return int(match.group(1))
    for phrase, days in _PERIODS.items():
        if phrase in text:
            return days
    return None


def unsupported(question: str) -> str | None:
    """Why a question cannot be answered offline, or None when it may be."""
    match = _PRESENCE.search(" ".join(question.lower().split()))
    if match is None:
        return None
    what = "an e-mail address" if match.group(1).startswith("e") else "a phone number"
    return f"I cannot tell which leads have {what} or lack one yet."


def describe(args: dict[str, Any]) -> str:
    """A tool's arguments in words: 'from Acme, titled CTO, added in the last 7 days'."""
    words = []
    if args.get("company"):
        words.append(f"from {args['company']}")
    if args.get("title"):
        words.append(f"titled {args['title']}")
    if args.get("since_days"):
        days = args["since_days"]
        words.append("added today" if days == 1 else f"added in the last {days} days")
    return ", ".join(words)


def parse(question: str) -> Intent | None:
    """The tool and arguments a common question asks for, or None."""
    text = " ".join(question.lower().split())
    args: dict[str, Any] = {}
    days = _period(text)
    if days:
        args["since_days"] = days
    if re.search(r"\b(which|what|top)\b.*\bcompan(y|ies)\b", text) and re.search(
        r"\bmost\b|\btop\b", text
    ):
        return Intent("top_companies", {"limit": 5})
    company = _COMPANY.search(text)
    if company and company.group(1).strip() not in ("the", "my", "all"):
        args["company"] = company.group(1).strip(" ?.!")
    if re.search(r"\bhow many\b|\bnumber of\b|\bcount\b", text):
        return Intent("count_leads", args)
    title = _TITLE.search(text + " ")
    if title:
        word = title.group(1).strip()
        if word not in ("lead", "leads", "contact", "contacts", "people", "all", ""):
            args["title"] = word
        return Intent("list_leads", args)
    return None
