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
from ..ports import BlobStore, LeadStore, Outbox
from ..providers.offline import OfflineProvider
from ..readers import open_records, read_options
from ..settings import Settings
from .importing import (
    BatchJob,
    ImportOptions,
    batch_write,
    shape_batch,
    store_batches,
)
from .shaping import RecordShaper
from .summary import BatchCounts


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
    leads: LeadStore
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
    job = BatchJob(
        ImportOptions(owner=owner, source="inbox", region=ports.settings.default_region),
        import_id,
        name,
        tuple(stream.headers) if stream.headers else None,
        spreadsheet=stream.format in ("csv", "xlsx"),
        text_only=stream.text_only,
    )
    drafts, rejections = shape_batch(batch, job, RecordShaper())
    write = batch_write(job, (drafts, rejections), 0)
    (counts,) = store_batches(ports.leads, [write])
    # The file's leads, from its ledger entry: a file processed again (after a crash)
    # finds the same leads, and the same outbox keys, so nothing is notified twice.
    applied = ("created", "updated", "unchanged", "duplicate")
    outcomes = ports.leads.batch_outcomes(import_id)
    lead_ids = {lead_id for _, outcome, lead_id in outcomes if lead_id and outcome in applied}
    leads = [lead for i in sorted(lead_ids) if (lead := ports.leads.get_lead(owner, i))]
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
