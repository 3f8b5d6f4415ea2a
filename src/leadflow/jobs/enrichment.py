"""Enrichment jobs (seed 001): contacts split into batches of 100, run through a provider.

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

from ..bootstrap import Services
from ..providers import registry
from ..providers.base import Provider
from .status_store import iso

ENRICH_BATCH = 100  # seed 001: lists of up to 100k contacts, in batches of 100
MAX_CONTACTS = 100_000


def start_enrichment(
    services: Services, owner: str, contacts: Sequence[Mapping[str, Any]], provider: str
) -> str:
    """Open the job and queue its batches; the job id (UnknownProvider for a bad name)."""
    registry.create(provider, services.settings)  # fail now, not in a worker
    job_id = str(uuid.uuid4())
    status = services.status
    status.create(job_id, owner, "process", {"provider": provider})
    batches = [
        {
            "kind": "enrich",
            "jobId": job_id,
            "batchNo": start,
            "provider": provider,
            "records": list(contacts[start : start + ENRICH_BATCH]),
        }
        for start in range(0, len(contacts), ENRICH_BATCH)
    ]
    status.update(
        job_id,
        status="processing",
        stage="batch_processing",
        start_time=iso(status.clock()),
        total_batches=len(batches),
        total_leads=len(contacts),
    )
    for start in range(0, len(batches), 50):
        services.queue.send_many(batches[start : start + 50], owner)
    return job_id


def part_key(job_id: str, batch_no: int) -> str:
    return f"results/{job_id}/parts/{batch_no:09d}.json"


def run_enrichment_batch(services: Services, provider: Provider, body: Mapping[str, Any]) -> bool:
    """Enrich one batch: its part in the blob store, then its entry in the ledger; False
    when the ledger had it already (a redelivery)."""
    job_id, first = body["jobId"], int(body["batchNo"])
    records = body["records"]
    results = provider.enrich_batch(records)
    if len(results) != len(records):
        raise ValueError(f"provider {provider.name} gave {len(results)} results for {len(records)}")
    part = [
        {"row": first + i, "input": record, "enrichment": result}
        for i, (record, result) in enumerate(zip(records, results, strict=True))
    ]
    services.blobs.put_stream(part_key(job_id, first), [json.dumps(part).encode()])
    counts = {"received": len(records), "enriched": sum(1 for r in results if r)}
    return services.ledger.record(job_id, first, counts)


def write_enrichment_results(services: Services, job_id: str, batches: int) -> str:
    """Join the parts into result.csv and result.json; the key they share."""
    rows: list[dict[str, Any]] = []
    for first in range(0, batches * ENRICH_BATCH, ENRICH_BATCH):
        try:
            with services.blobs.open(part_key(job_id, first)) as f:
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
    services.blobs.put_stream(f"{key}.json", [json.dumps(rows).encode()])
    services.blobs.put_stream(f"{key}.csv", _csv(rows, list(inputs), list(extras)))
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
