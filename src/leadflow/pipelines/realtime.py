"""The real-time lead pipeline (seed 002) for one dropped file: cleanse and validate,
enrich with the offline provider, keep each enriched lead under `enriched/` in the blob
store (seed 002's system of record) and upsert it.

A file is applied at most once: its import id comes from its content, and its one batch
goes through the batch ledger, so a file reprocessed after a crash changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ..clock import utc_now
from ..notify.notifier import payloads
from ..notify.outbox import lead_entries
from ..ports import BatchLedger, BlobStore, LeadReadModel, Outbox
from ..providers.offline import OfflineProvider
from ..readers import open_records, read_options
from ..settings import Settings
from .importing import ImportOptions, ImportSpec, batch_counts, lead_batch, validate_batch
from .shaping import RecordShaper
from .summary import BatchCounts
from .upsert import WritePorts, write_batches


@dataclass
class FileResult:
    import_id: str
    counts: BatchCounts | None  # None: this very file was applied before
    enriched_keys: list[str]


@dataclass(frozen=True)
class RealtimePorts:
    """What the real-time pipeline uses (bootstrap.realtime_ports builds it).
    `notify`: whether a notification channel is configured (else nothing is queued)."""

    settings: Settings
    write: WritePorts  # ledgered: a file processed again writes nothing twice
    ledger: BatchLedger  # the file's row outcomes (the leads to notify)
    lead_reads: LeadReadModel
    blobs: BlobStore
    outbox: Outbox
    notify: bool


def file_import_id(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return f"inbox-{digest.hexdigest()[:32]}"


def process_lead_file(ports: RealtimePorts, owner: str, path: Path, name: str) -> FileResult:
    """Run one lead file; UnreadableFile when it is not a readable file of records."""
    import_id = file_import_id(path)
    stream = open_records(path, 100_000, read_options(ports.settings), name)
    batch = [pair for chunk in stream.batches() for pair in chunk]  # inbox files are small
    spec = ImportSpec(
        ImportOptions(owner=owner, source="inbox", region=ports.settings.default_region),
        import_id,
        name,
        tuple(stream.headers) if stream.headers else None,
        spreadsheet=stream.format in ("csv", "xlsx"),
        text_only=stream.text_only,
    )
    shaped = validate_batch(batch, spec, RecordShaper())
    (result,) = write_batches(ports.write, [lead_batch(spec, shaped, 0)])
    counts = batch_counts(result)
    # The file's leads, from its ledger entry: a file processed again (after a crash)
    # finds the same leads, and the same outbox keys, so nothing is notified twice.
    applied = ("created", "updated", "unchanged", "duplicate")
    outcomes = ports.ledger.outcomes(import_id)
    lead_ids = {lead_id for _, outcome, lead_id in outcomes if lead_id and outcome in applied}
    leads = [lead for i in sorted(lead_ids) if (lead := ports.lead_reads.get_lead(owner, i))]
    enricher = OfflineProvider(ports.settings.default_region)
    enriched_keys = []
    for lead in leads:  # seed 002's system of record: each enriched lead under enriched/
        contact = {"email": lead["email"], "phone": lead["phone"], "name": lead["name"]}
        lead["enrichment"] = {"offline": enricher.enrich(contact)}
        key = f"enriched/{owner}/{lead['leadId']}.json"
        ports.blobs.put_stream(key, [json.dumps(lead, ensure_ascii=False).encode()])
        enriched_keys.append(key)
    if ports.notify:  # off without a channel: nothing queued
        ports.outbox.add_many(owner, lead_entries(payloads(leads), import_id), utc_now())
    return FileResult(import_id, counts, enriched_keys)
