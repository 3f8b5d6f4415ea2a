"""The fixed set of query tools the chatbot may use. Never SQL from a model: each tool
is a parameterized query, always scoped to the user asking."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ..clock import format_iso
from ..ports import LeadReadModel

SCHEMAS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "count_leads",
            "description": "How many of the user's leads match (all filters optional).",
            "parameters": {
                "type": "object",
                "properties": {
                    "company": {"type": "string", "description": "part of the company name"},
                    "title": {"type": "string", "description": "part of the job title"},
                    "since_days": {"type": "integer", "description": "created in the last N days"},
                },
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "list_leads",
            "description": "The user's newest leads that match (at most 50).",
            "parameters": {
                "type": "object",
                "properties": {
                    "company": {"type": "string"},
                    "title": {"type": "string"},
                    "since_days": {"type": "integer"},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 50},
                },
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "top_companies",
            "description": "Companies with the most leads, most first.",
            "parameters": {
                "type": "object",
                "properties": {"limit": {"type": "integer", "minimum": 1, "maximum": 20}},
            },
        },
    },
]


@dataclass
class ToolResult:
    summary: str
    rows: list[dict[str, Any]] | None = None


def _since(days: Any, now: dt.datetime) -> str | None:
    if not isinstance(days, int) or isinstance(days, bool) or days <= 0:
        return None
    start = now - dt.timedelta(days=min(days, 36_500))
    return format_iso(start)


def _text(value: Any) -> str | None:
    return value.strip()[:200] if isinstance(value, str) and value.strip() else None


def _limit(value: Any, default: int, top: int) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return max(1, min(value, top))
    return default


def run_tool(
    queries: LeadReadModel, owner: str, name: str, args: dict[str, Any], now: dt.datetime
) -> ToolResult:
    """Run one tool for `owner`; unknown tools and odd arguments are answered, not raised."""
    company, title = _text(args.get("company")), _text(args.get("title"))
    since = _since(args.get("since_days"), now)
    if name == "count_leads":
        count, _ = queries.find_leads(owner, company, title, since, limit=1)
        return ToolResult(f"{count} lead{'s' if count != 1 else ''}")
    if name == "list_leads":
        count, leads = queries.find_leads(
            owner, company, title, since, _limit(args.get("limit"), 20, 50)
        )
        rows = [
            {k: lead[k] for k in ("leadId", "name", "email", "title", "company", "createdAt")}
            for lead in leads
        ]
        return ToolResult(f"{count} lead{'s' if count != 1 else ''} match", rows)
    if name == "top_companies":
        top = queries.top_companies(owner, _limit(args.get("limit"), 5, 20))
        rows = [{"company": company_name, "leads": n} for company_name, n in top]
        return ToolResult("; ".join(f"{c}: {n}" for c, n in top) or "no companies yet", rows)
    return ToolResult(f"there is no tool called {name!r}")
