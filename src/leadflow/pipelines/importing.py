"""Import a file in-process: the leads or opt-in pipeline over a stream of batches.

Reading and storing stay in this process, one transaction per chunk; validation and
normalization (the CPU-heavy part: email and phone checks) run in a pool of worker
processes when the file is large enough to pay for it, so both cores work.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from ..domain.lead import LeadDraft, Rejection
from ..domain.merge import ImportMode, MergePolicy, last_occurrences
from ..ports import LeadStore, WriteContext
from ..readers import RecordStream, open_records
from ..readers.base import Batch
from .shaping import RecordShaper, shape_leads, shape_optin
from .summary import ImportSummary
from .upsert import upsert_drafts

Shaped = tuple[list[LeadDraft], list[Rejection]]
ProgressCallback = Callable[[RecordStream, ImportSummary], None]
_PARALLEL_MIN_BYTES = 2 * 1024 * 1024  # below this a worker pool costs more than it saves


class PipelineName(StrEnum):
    LEADS = "leads"
    OPTIN = "optin"


@dataclass(frozen=True, slots=True)
class ImportOptions:
    owner: str
    pipeline: PipelineName = PipelineName.LEADS
    mode: ImportMode = ImportMode.CREATE_AND_UPDATE
    policy: MergePolicy = MergePolicy.REPLACE
    mapping: Mapping[str, str] | None = None
    region: str = "US"
    source: str = "upload"
    chunk_rows: int = 5000
    workers: int = 0  # 0: one per core beyond the first; 1: no pool


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# Worker processes keep one shaper each so header lookups are learned once.
_worker_shaper: RecordShaper | None = None


def _shape(batch: Batch, options: ImportOptions, spreadsheet: bool) -> Shaped:
    global _worker_shaper
    if _worker_shaper is None or _worker_shaper.explicit != dict(options.mapping or {}):
        _worker_shaper = RecordShaper(options.mapping)
    if options.pipeline is PipelineName.OPTIN:
        return shape_optin(batch, _worker_shaper, spreadsheet)
    return shape_leads(batch, _worker_shaper, options.region)


def _pool_size(options: ImportOptions, file_size: int) -> int:
    if options.workers == 1:
        return 0
    if options.workers == 0 and file_size < _PARALLEL_MIN_BYTES:
        return 0
    return options.workers or max(1, (os.cpu_count() or 1) - 1)


def _shaped_batches(
    stream: RecordStream, options: ImportOptions, file_size: int
) -> Iterator[Shaped]:
    """Shaped batches in file order, from a bounded window of pool tasks when parallel."""
    spreadsheet = stream.format in ("csv", "xlsx")
    workers = _pool_size(options, file_size)
    if workers == 0:
        for batch in stream.batches():
            yield _shape(batch, options, spreadsheet)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        window: deque[Future[Shaped]] = deque()
        for batch in stream.batches():
            window.append(pool.submit(_shape, batch, options, spreadsheet))
            if len(window) > workers * 2:  # bounded: never the whole file in flight
                yield window.popleft().result()
        while window:
            yield window.popleft().result()


def import_file(
    store: LeadStore,
    path: Path,
    options: ImportOptions,
    on_progress: ProgressCallback | None = None,
    stream: RecordStream | None = None,
) -> ImportSummary:
    """Run a pipeline over a file; rejected rows go to the schema-error log."""
    started = time.perf_counter()
    stream = stream or open_records(path, options.chunk_rows)
    summary = ImportSummary(importId=str(uuid.uuid4()))
    for shaped in _shaped_batches(stream, options, path.stat().st_size):
        store_batch(store, options, summary, shaped, path.name)
        if on_progress is not None:
            on_progress(stream, summary)
    summary.warnings = list(stream.warnings)
    summary.seconds = time.perf_counter() - started
    return summary


def store_batch(
    store: LeadStore,
    options: ImportOptions,
    summary: ImportSummary,
    shaped: Shaped,
    source_file: str | None,
) -> None:
    """Count, log the rejections, and upsert the drafts of one shaped batch."""
    drafts, rejections = shaped
    now = utc_now()
    summary.received += len(drafts) + len(rejections)
    summary.valid += len(drafts)
    summary.invalid += len(rejections)
    store.log_schema_errors(options.owner, options.source, summary.importId, rejections, now)
    if options.pipeline is PipelineName.OPTIN:
        survivors, losers = last_occurrences(drafts)
        summary.duplicates += len(losers)
        drafts = [d for d in survivors if d.opt_in]
        summary.ignored += len(survivors) - len(drafts)
    ctx = WriteContext(
        owner=options.owner,
        import_id=summary.importId,
        batch_id=str(uuid.uuid4()),
        source=options.source,
        source_file=source_file,
        now=now,
    )
    plan = upsert_drafts(store, ctx, drafts, options.mode, options.policy)
    summary.add_plan(plan)
