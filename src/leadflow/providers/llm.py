"""The LLM provider: an OpenAI-compatible chat-completions endpoint (DeepSeek's by
default) standardizes messy rows into lead fields, ten rows a call, calls in parallel.

The model is asked for JSON and its answer is checked: one object per row, the seven
fields as text, and never an email or a phone that is not in the row it came from (a
model that "fills in" contact details would put invented data into a CRM). A malformed
answer is asked again; one that stays malformed fails the batch, which the queue retries
and finally dead-letters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from prometheus_client import Counter

from .client import ProviderClient, ProviderError

FIELDS = ("firstName", "lastName", "title", "company", "email", "phone", "remarks")
ROWS_PER_CALL = 10  # seed 004: batches of 10
TOKENS = Counter("leadflow_provider_tokens_total", "LLM tokens used", ["provider"])
_DIGITS = re.compile(r"\D+")
SYSTEM_PROMPT = (
    "You standardize CRM rows. For each input row return an object with exactly these "
    f"keys: {', '.join(FIELDS)}. Use null when the row does not say. Never invent an "
    'email or a phone number. Answer with JSON only: {"leads": [one object per input '
    "row, in the same order]}."
)


class MalformedAnswer(ProviderError):
    """The model's answer was not the JSON we asked for."""


class LlmProvider:
    name = "llm"
    cacheable = True

    def __init__(
        self,
        client: ProviderClient,
        base_url: str,
        model: str,
        api_key: str | None,
        concurrency: int = 8,
        repairs: int = 2,
    ) -> None:
        self.client = client
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.concurrency = concurrency
        self.repairs = repairs

    def enrich_batch(self, contacts: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        chunks = [
            list(contacts[start : start + ROWS_PER_CALL])
            for start in range(0, len(contacts), ROWS_PER_CALL)
        ]
        if len(chunks) <= 1:
            return [row for chunk in chunks for row in self.standardize(chunk)]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(chunks))) as pool:
            return [row for rows in pool.map(self.standardize, chunks) for row in rows]

    def standardize(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """One call (plus repairs) for up to ten rows; checked against the rows."""
        last: MalformedAnswer | None = None
        for _ in range(1 + self.repairs):
            answer = self.client.post_json(self.url, self._request(rows), self.headers)
            usage = answer.get("usage") if isinstance(answer, dict) else None
            if isinstance(usage, dict) and isinstance(usage.get("total_tokens"), int):
                TOKENS.labels(self.name).inc(usage["total_tokens"])
            try:
                leads = parse_answer(answer, len(rows))
            except MalformedAnswer as exc:
                last = exc
                continue
            return [
                keep_only_what_the_row_says(lead, row)
                for lead, row in zip(leads, rows, strict=True)
            ]
        raise MalformedAnswer(f"the model's answer stayed malformed: {last}")

    def _request(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        return {
            "model": self.model,
            "temperature": 0,
            "response_format": {"type": "json_object"},
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": json.dumps({"rows": list(rows)}, default=str)},
            ],
        }


def parse_answer(answer: Any, expected: int) -> list[dict[str, Any]]:
    """The leads in a chat-completions answer; MalformedAnswer when they are not there."""
    try:
        content = answer["choices"][0]["message"]["content"]
        document = json.loads(content)
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise MalformedAnswer(f"no JSON content in the answer: {exc}") from None
    leads = document.get("leads") if isinstance(document, dict) else document
    if not isinstance(leads, list) or len(leads) != expected:
        raise MalformedAnswer(f"expected {expected} leads, got {type(leads).__name__}")
    cleaned = []
    for lead in leads:
        if not isinstance(lead, dict):
            raise MalformedAnswer("a lead is not an object")
        values: dict[str, Any] = {}
        for field in FIELDS:
            value = lead.get(field)
            if value is not None and not isinstance(value, str):
                raise MalformedAnswer(f"{field} is not text")
            values[field] = value.strip() if isinstance(value, str) and value.strip() else None
        cleaned.append(values)
    return cleaned


def keep_only_what_the_row_says(lead: dict[str, Any], row: Mapping[str, Any]) -> dict[str, Any]:
    """Drop an email or phone the row does not contain (flagged in `rejected`)."""
    text = " ".join(str(v) for v in _values(row)).lower()
    digits = _DIGITS.sub("", text)
    rejected = []
    email = lead.get("email")
    if email and email.lower() not in text:
        lead["email"] = None
        rejected.append("email")
    phone = lead.get("phone")
    phone_digits = _DIGITS.sub("", phone or "")
    if phone and (len(phone_digits) < 5 or phone_digits.lstrip("0")[-7:] not in digits):
        lead["phone"] = None
        rejected.append("phone")
    if rejected:
        lead["rejected"] = rejected
    return lead


def _values(value: Any) -> list[Any]:
    if isinstance(value, Mapping):
        return [item for v in value.values() for item in _values(v)]
    if isinstance(value, list):
        return [item for v in value for item in _values(v)]
    return [value]
