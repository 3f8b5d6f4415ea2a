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
    r"(?:\s+(?:added|created|this|last|today|in the)\b|[?.!]*$)"
)
_TITLE = re.compile(
    r"\b(?:list|show|who are|find|give me)\s+(?:me\s+)?(?:all\s+)?(?:the\s+|my\s+)?"
    rf"(.{{1,40}}?)s?\s+(?:{_ENDS}\b|$)"
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
