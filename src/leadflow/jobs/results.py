"""A finished job's result file: every row's outcome and lead id, as CSV and JSON.

Batches may run in any order, so a batch labels rows with what it saw: when a key's rows
fall in different batches the earlier row may say "created" and the later "duplicate".
The file tells it as one pass over the file would: per lead, its last row carries the
lead's outcome and the earlier ones are duplicates.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from ..bootstrap import Services

PRIMARY = ("created", "updated")


def relabel(outcomes: Iterable[tuple[int, str, str | None]]) -> list[tuple[int, str, str | None]]:
    """Outcomes by row, each lead's last row carrying its outcome."""
    rows = sorted(outcomes)
    groups: dict[str, list[int]] = {}
    for position, (_, outcome, lead_id) in enumerate(rows):
        if lead_id is not None and outcome in (*PRIMARY, "duplicate"):
            groups.setdefault(lead_id, []).append(position)
    for positions in groups.values():
        labels = {rows[p][1] for p in positions}
        primary = next((label for label in PRIMARY if label in labels), "duplicate")
        for p in positions:
            row, _, lead_id = rows[p]
            rows[p] = (row, primary if p == positions[-1] else "duplicate", lead_id)
    return rows


def write_results(services: Services, job_id: str, owner: str) -> str:
    """Store the result files of a job; the key they share (add .csv or .json)."""
    outcomes = relabel(services.leads.batch_outcomes(job_id))
    reasons = {
        e["index"]: "; ".join(f"{x['field']}: {x['message']}" for x in e["errors"])
        for e in services.leads.list_schema_errors(owner, limit=10**9, import_id=job_id)
    }
    key = f"results/{job_id}/result"
    services.blobs.put_stream(f"{key}.csv", _csv(outcomes, reasons))
    services.blobs.put_stream(f"{key}.json", _json(outcomes, reasons))
    return key


def _documents(
    outcomes: list[tuple[int, str, str | None]], reasons: dict[int, str]
) -> Iterator[dict[str, Any]]:
    for row, outcome, lead_id in outcomes:
        yield {"row": row, "outcome": outcome, "leadId": lead_id, "reason": reasons.get(row)}


def _csv(outcomes: list[tuple[int, str, str | None]], reasons: dict[int, str]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["row", "outcome", "leadId", "reason"])
    for n, doc in enumerate(_documents(outcomes, reasons), start=1):
        writer.writerow([doc["row"], doc["outcome"], doc["leadId"] or "", doc["reason"] or ""])
        if n % 10_000 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def _json(outcomes: list[tuple[int, str, str | None]], reasons: dict[int, str]) -> Iterator[bytes]:
    yield b"["
    for n, doc in enumerate(_documents(outcomes, reasons)):
        yield (b"," if n else b"") + json.dumps(doc, ensure_ascii=False).encode()
    yield b"]"
