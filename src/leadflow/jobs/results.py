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
from collections import Counter
from collections.abc import Iterable

from ..ports import BatchLedger, BlobStore, SchemaErrorLog

PRIMARY = ("created", "updated", "unchanged")


def relabel(outcomes: Iterable[tuple[int, str, str | None]]) -> list[tuple[int, str, str | None]]:
    """Outcomes by row, each lead's last row carrying its outcome."""
    rows = sorted(outcomes)
    seen = Counter(lead for _, outcome, lead in rows if lead is not None and outcome in _MERGED)
    repeated = {lead for lead, count in seen.items() if count > 1}  # usually few
    if not repeated:
        return rows
    groups: dict[str, list[int]] = {}
    for position, (_, outcome, lead_id) in enumerate(rows):
        if lead_id in repeated and outcome in _MERGED:
            groups.setdefault(lead_id, []).append(position)
    for positions in groups.values():
        labels = [rows[p][1] for p in positions]
        # created wins; else the last row that updated or left the lead (the file's last
        # row a batch saw holds what the import did to the lead in the end)
        merged = [label for label in labels if label in PRIMARY]
        primary = "created" if "created" in merged else (merged or ["duplicate"])[-1]
        for p in positions:
            row, _, lead_id = rows[p]
            rows[p] = (row, primary if p == positions[-1] else "duplicate", lead_id)
    return rows


_MERGED = frozenset({*PRIMARY, "duplicate"})


def write_results(
    ledger: BatchLedger, schema_errors: SchemaErrorLog, blobs: BlobStore, job_id: str, owner: str
) -> str:
    """Store the result files of a job; the key they share (add .csv or .json)."""
    outcomes = relabel(ledger.outcomes(job_id))
    reasons = {
        e["index"]: "; ".join(f"{x['field']}: {x['message']}" for x in e["errors"])
        for e in schema_errors.list(owner, limit=10**9, import_id=job_id)
    }
    key = f"results/{job_id}/result"
    # whole-file encodes: one C-level call each, several times faster than row by row
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["row", "outcome", "leadId", "reason"])
    writer.writerows(
        (row, outcome, lead or "", reasons.get(row, "")) for row, outcome, lead in outcomes
    )
    blobs.put_stream(f"{key}.csv", [buffer.getvalue().encode()])
    documents = [
        {"row": row, "outcome": outcome, "leadId": lead, "reason": reasons.get(row)}
        for row, outcome, lead in outcomes
    ]
    blobs.put_stream(f"{key}.json", [json.dumps(documents, ensure_ascii=False).encode()])
    return key
