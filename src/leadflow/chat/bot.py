"""POST /v1/chat's answer: the LLM with tools when one is configured, else the intents."""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from ..ports import LeadReadModel
from ..providers.client import ProviderClient, ProviderError
from . import intents
from .tools import SCHEMAS, run_tool

SYSTEM = (
    "You answer questions about the user's CRM leads using only the tools given. "
    "Call a tool when the question needs data; then answer in one or two sentences. "
    "The tools cannot tell which leads have or lack an email or a phone: if asked, say "
    "so. If no tool fits, say what you can answer. Never name tools or their parameters."
)
FELL_BACK = "The language model did not answer, so the offline parser answered: "
MAX_ROUNDS = 3
log = logging.getLogger("leadflow.chat")


@dataclass
class Answer:
    answer: str
    rows: list[dict[str, Any]] | None = None
    tools: list[str] = field(default_factory=list)


def answer_offline(queries: LeadReadModel, owner: str, question: str, now: dt.datetime) -> Answer:
    """The offline parser's answer: a common question recognized, or what it can answer."""
    cannot = intents.unsupported(question)
    if cannot is not None:
        return Answer(f"{cannot} {intents.HELP}")
    intent = intents.parse(question)
    if intent is None:
        return Answer(f"I cannot answer that without an LLM. {intents.HELP}")
    result = run_tool(queries, owner, intent.tool, intent.args, now)
    described = intents.describe(intent.args)
    prefix = {"count_leads": "You have", "list_leads": "Found", "top_companies": "Top companies:"}
    text = f"{prefix[intent.tool]} {result.summary}" + (f" ({described})" if described else "")
    return Answer(text + ".", result.rows, [intent.tool])


def answer(
    client: ProviderClient | None,
    url: str,
    model: str,
    headers: dict[str, str],
    queries: LeadReadModel,
    owner: str,
    question: str,
    now: dt.datetime,
) -> Answer:
    """The model's answer when one is configured (`client`), else the offline parser's;
    when the model fails, the offline parser's, saying so."""
    if client is not None:
        try:
            return answer_with_llm(client, url, model, headers, queries, owner, question, now)
        except ProviderError as exc:
            log.warning("chat model failed; offline parser answers", extra={"error": str(exc)})
    offline = answer_offline(queries, owner, question, now)
    if client is not None:
        offline.answer = FELL_BACK + offline.answer
    return offline


def answer_with_llm(
    client: ProviderClient,
    url: str,
    model: str,
    headers: dict[str, str],
    queries: LeadReadModel,
    owner: str,
    question: str,
    now: dt.datetime,
) -> Answer:
    """Chat completions with function calling: the model picks tools, we run them."""
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": question},
    ]
    rows: list[dict[str, Any]] | None = None
    used: list[str] = []
    for _ in range(MAX_ROUNDS):
        reply = client.post_json(
            url,
            {"model": model, "messages": messages, "tools": SCHEMAS, "temperature": 0},
            headers,
        )
        try:
            message = reply["choices"][0]["message"]
        except (KeyError, IndexError, TypeError):
            raise ProviderError("the model's answer has no message") from None
        calls = message.get("tool_calls") or []
        if not calls:
            return Answer(str(message.get("content") or "").strip() or "(no answer)", rows, used)
        messages.append(message)
        for call in calls:
            function = call.get("function", {})
            name = str(function.get("name", ""))
            try:
                args = json.loads(function.get("arguments") or "{}")
            except ValueError:
                args = {}
            result = run_tool(queries, owner, name, args if isinstance(args, dict) else {}, now)
            used.append(name)
            if result.rows is not None:
                rows = result.rows
            content = json.dumps({"summary": result.summary, "rows": result.rows}, default=str)
            messages.append({"role": "tool", "tool_call_id": call.get("id"), "content": content})
    return Answer(
        "I could not finish that question in a few steps; please ask it more simply.", rows, used
    )
