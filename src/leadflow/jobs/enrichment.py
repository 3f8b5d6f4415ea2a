"""Enrichment jobs (seed 001): contacts split into batches of 100, run through a provider.

The contacts are written to part blobs (jobs/parts.py: SEND_GROUP batches, 5,000
contacts, a part) before the batches are queued; a batch message points at its part and
rows and carries no contact, so it stays small (SQS: 256 KB) however large the contacts.
Each batch's results are written to the blob store, then entered in the batch ledger; a
redelivered batch rewrites the same part and is not counted twice. When every batch is
in, the parts are joined into the job's result file, enrichment columns beside the input.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ..ports import BatchLedger, BlobStore, JobStore, Queue
from ..providers import registry
from ..providers.base import Provider
from ..settings import Settings
from .parts import SEND_GROUP, PartCache, batch_line, pointer, write_part
from .parts import part_key as input_part_key
from .status import iso, new_job

ENRICH_BATCH = 100  # seed 001: lists of up to 100k contacts, in batches of 100
MAX_CONTACTS = 100_000


def start_enrichment(
    settings: Settings,
    jobs: JobStore,
    queue: Queue,
    blobs: BlobStore,
    owner: str,
    contacts: Sequence[Mapping[str, Any]],
    provider: str,
    now: float,
) -> str:
    """Open the job and queue its batches; the job id (UnknownProvider for a bad name).
    `now`: epoch seconds."""
    registry.create(provider, settings)  # fail now, not in a worker
    job_id = str(uuid.uuid4())
    jobs.create(new_job(job_id, owner, "enrichment", {"provider": provider}, now))
    total_batches = -(-len(contacts) // ENRICH_BATCH)
    jobs.update(
        job_id,
        status="processing",
        stage="batch_processing",
        start_time=iso(now),
        total_batches=total_batches,
        total_leads=len(contacts),
    )
    part_rows = SEND_GROUP * ENRICH_BATCH
    for part_start in range(0, len(contacts), part_rows):
        last_row = min(part_start + part_rows, len(contacts)) - 1
        batches = [
            (first, min(first + ENRICH_BATCH, last_row + 1) - 1)
            for first in range(part_start, last_row + 1, ENRICH_BATCH)
        ]
        key = input_part_key(job_id, part_start)
        lines = [batch_line(contacts[a : b + 1], plain=True) for a, b in batches]
        write_part(blobs, key, batches, lines, {"plain": True})
        queue.send_many(
            [pointer("enrich", job_id, key, a, b, provider=provider) for a, b in batches], owner
        )
    return job_id


def part_key(job_id: str, batch_no: int) -> str:
    return f"results/{job_id}/parts/{batch_no:09d}.json"


def run_enrichment_batch(
    blobs: BlobStore,
    ledger: BatchLedger,
    provider: Provider,
    body: Mapping[str, Any],
    parts: PartCache,
) -> bool:
    """Enrich one batch (the contacts its message points at, read through `parts`): its
    results in the blob store, then its entry in the ledger; False when the ledger had
    it already (a redelivery)."""
    job_id, first = body["jobId"], int(body["batchNo"])
    records = [record for _, record in parts.batch(body)[1]]
    results = provider.enrich_batch(records)
    if len(results) != len(records):
        raise ValueError(f"provider {provider.name} gave {len(results)} results for {len(records)}")
    part = [
        {"row": first + i, "input": record, "enrichment": result}
        for i, (record, result) in enumerate(zip(records, results, strict=True))
    ]
    blobs.put_stream(part_key(job_id, first), [json.dumps(part).encode()])
    counts = {"received": len(records), "enriched": sum(1 for r in results if r)}
    return ledger.record(job_id, first, counts)


def write_enrichment_results(blobs: BlobStore, job_id: str, batches: int) -> str:
    """Join the parts into result.csv and result.json; the key they share."""
    rows: list[dict[str, Any]] = []
    for first in range(0, batches * ENRICH_BATCH, ENRICH_BATCH):
        try:
            with blobs.open(part_key(job_id, first)) as f:
                rows.extend(json.load(f))
        except FileNotFoundError:
            continue  # a dead-lettered batch: its rows come once it is redriven
    inputs: dict[str, None] = {}
    extras: dict[str, None] = {}
    for row in rows:
        if isinstance(row["input"], dict):
            inputs.update(dict.fromkeys(row["input"]))
        extras.update(dict.fromkeys(row["enrichment"]))
    key = f"results/{job_id}/result"
    blobs.put_stream(f"{key}.json", [json.dumps(rows).encode()])
    blobs.put_stream(f"{key}.csv", _csv(rows, list(inputs), list(extras)))
    return key


def _csv(rows: list[dict[str, Any]], inputs: list[str], extras: list[str]) -> Iterator[bytes]:
    from ..domain.spreadsheet_safety import neutralize

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["row", *inputs, *(f"enriched_{name}" for name in extras)])
    for row in rows:
        source = row["input"] if isinstance(row["input"], dict) else {}
        cells = [_cell(source.get(name)) for name in inputs]
        cells += [_cell(row["enrichment"].get(name)) for name in extras]
        writer.writerow([row["row"], *(neutralize(c) for c in cells)])
    yield buffer.getvalue().encode()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)
