"""Import a file in-process: the leads or opt-in pipeline over a stream of batches.

This process reads the file and hands raw batches to a small pool of worker processes;
each worker validates and normalizes its batch (the CPU-heavy part) and writes it with
upsert.write_batches (in one SQLite session), so both cores work. A shared lock hands
the SQLite write lock from one worker to the next without SQLite's sleep-and-retry.
Batches may finish in any order: the merge rules make the last occurrence of a key win
regardless (domain.merge).
Small files skip the pool, which would cost more than it saves.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from ..clock import utc_now
from ..domain.lead import LeadDraft, Rejection
from ..domain.limits import InputLimits, preview, record_limit_reason
from ..domain.merge import ImportMode, MergePolicy, last_occurrences
from ..ports import WriteContext
from ..readers import RecordStream, open_records
from ..readers.base import Batch, InvalidLine
from .mapping import check_mapped_columns
from .shaping import RecordShaper, shape_leads, shape_optin
from .standardize import standardize_batch
from .summary import BatchCounts, ImportSummary, column_report, row_warnings_message
from .upsert import BatchResult, LeadBatch, LedgerEntry, WritePorts, write_batches

Shaped = tuple[list[LeadDraft], list[Rejection]]
ProgressCallback = Callable[[RecordStream, ImportSummary], None]
PortsFactory = Callable[[], WritePorts]
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
    chunk_rows: int = 10_000
    workers: int = 0  # 0: one per core when the file is large enough; 1: no pool
    standardizer: Any = None  # a Provider (the LLM) that maps messy rows to lead fields
    limits: InputLimits | None = None  # records in memory (API bodies) checked against these


@dataclass(frozen=True, slots=True)
class ImportSpec:
    """How to read, validate and write the batches of one import (its options, id, file
    and columns): everything a worker needs besides the batch itself."""

    options: ImportOptions
    import_id: str
    source_file: str | None
    headers: tuple[str, ...] | None
    spreadsheet: bool  # CSV or XLSX: cells map booleans and lists explicitly
    text_only: bool = False  # CSV: every value is a string


def validate_batch(batch: Batch, spec: ImportSpec, shaper: RecordShaper) -> Shaped:
    """Validate and normalize one batch of raw records for the import's pipeline: its
    lead drafts and its rejections."""
    if spec.options.standardizer is not None:
        batch = standardize_batch(batch, spec.options.standardizer, shaper)
        spec = replace(spec, headers=None, text_only=False)  # records are the model's now
    if spec.options.pipeline is PipelineName.OPTIN:
        return shape_optin(batch, shaper, spec.spreadsheet, spec.headers)
    return shape_leads(batch, shaper, spec.options.region, spec.headers, spec.text_only)


def lead_batch(spec: ImportSpec, shaped: Shaped, batch_no: int | None = None) -> LeadBatch:
    """One validated batch as write_batches takes it: its drafts, its rejections, the
    counts known before the write, and its ledger entry.

    With a `batch_no` the batch goes through the import's ledger (a queue message that may
    be redelivered: applied at most once, its rows receipted). Without one nothing is
    recorded (an in-process import: its counts come straight from its write).
    """
    options = spec.options
    drafts, rejections = shaped
    base = {"received": len(drafts) + len(rejections), "valid": len(drafts)}
    base["invalid"] = len(rejections)
    base["rowWarnings"] = sum(1 for d in drafts if d.warnings)
    decided: list[tuple[int, str, str | None]] = [(r.row, "invalid", None) for r in rejections]
    if options.pipeline is PipelineName.OPTIN:
        survivors, losers = last_occurrences(drafts)
        base["duplicates"] = len(losers)
        drafts = [d for d in survivors if d.opt_in]
        base["ignored"] = len(survivors) - len(drafts)
        decided += [(d.row, "duplicate", None) for d in losers]
        decided += [(d.row, "ignored", None) for d in survivors if not d.opt_in]
    ctx = WriteContext(
        owner=options.owner,
        import_id=spec.import_id,
        batch_id=str(uuid.uuid4()),
        source=options.source,
        source_file=spec.source_file,
        now=utc_now(),
    )
    entry = LedgerEntry(spec.import_id, batch_no) if batch_no is not None else None
    return LeadBatch(ctx, drafts, options.mode, options.policy, rejections, entry, base, decided)


def batch_counts(result: BatchResult | None) -> BatchCounts | None:
    """A batch's counts as the import summary adds them (None: a redelivered batch)."""
    if result is None:
        return None
    return BatchCounts(**{k: v for k, v in result.counts.items() if k in _COUNT_NAMES})


_COUNT_NAMES = frozenset(BatchCounts.__dataclass_fields__)


def _write_one(
    ports: WritePorts,
    spec: ImportSpec,
    shaped: Shaped,
    lock: AbstractContextManager[Any] | None = None,
) -> BatchCounts | None:
    return batch_counts(write_batches(ports, [lead_batch(spec, shaped)], lock)[0])


# --- worker processes -------------------------------------------------------------
_worker: dict[str, Any] = {}


def _worker_init(ports_factory: PortsFactory, lock: Any) -> None:
    _worker["ports"] = ports_factory()
    _worker["lock"] = lock
    _worker["shapers"] = {}


def _worker_run(batch: Batch, spec: ImportSpec) -> BatchCounts | None:
    key = tuple(sorted((spec.options.mapping or {}).items()))
    shaper = _worker["shapers"].setdefault(key, RecordShaper(spec.options.mapping))
    shaped = validate_batch(batch, spec, shaper)
    return _write_one(_worker["ports"], spec, shaped, _worker["lock"])


def _pool_size(options: ImportOptions, file_size: int) -> int:
    if options.workers == 1:
        return 0
    if options.workers == 0 and file_size < _PARALLEL_MIN_BYTES:
        return 0
    return options.workers or max(2, os.cpu_count() or 1)


def _import_batches(
    ports: WritePorts,
    ports_factory: PortsFactory | None,
    stream: RecordStream,
    spec: ImportSpec,
    workers: int,
) -> Iterator[BatchCounts | None]:
    """Counts of each batch, from this process or from a bounded window of pool tasks."""
    if workers == 0 or ports_factory is None:
        shaper = RecordShaper(spec.options.mapping)
        for batch in stream.batches():
            spec = _with_headers(spec, stream)
            yield _write_one(ports, spec, validate_batch(batch, spec, shaper))
        return
    context = multiprocessing.get_context("fork")
    lock = context.Lock()
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_worker_init,
        initargs=(ports_factory, lock),
    ) as pool:
        window: deque[Future[BatchCounts | None]] = deque()
        for batch in stream.batches():
            spec = _with_headers(spec, stream)
            window.append(pool.submit(_worker_run, batch, spec))
            while len(window) > workers:  # bounded: never the whole file in flight
                yield window.popleft().result()
        while window:
            yield window.popleft().result()


def _with_headers(spec: ImportSpec, stream: RecordStream) -> ImportSpec:
    """Spreadsheet headers are known once the reader has read the first row; then the
    explicit mapping's columns are checked against them (InvalidMapping), before any
    batch is written."""
    if spec.headers is None and stream.headers is not None:
        if spec.options.mapping:
            check_mapped_columns(spec.options.mapping, stream.headers)
        return replace(spec, headers=tuple(stream.headers))
    return spec


def import_file(
    ports: WritePorts,
    path: Path,
    options: ImportOptions,
    on_progress: ProgressCallback | None = None,
    stream: RecordStream | None = None,
    ports_factory: PortsFactory | None = None,
) -> ImportSummary:
    """Run a pipeline over a file; rejected rows go to the schema-error log.

    `ports_factory` builds the ports in a worker process; without it the import runs in
    this process only. Each batch runs once, in this run: its counts come straight from
    its write, and nothing goes to the batch ledger and no row receipts are written
    (they exist for redelivered queue messages; nobody would read an in-process
    import's).
    """
    started = time.perf_counter()
    stream = stream or open_records(path, options.chunk_rows)
    summary = ImportSummary(importId=str(uuid.uuid4()))
    spec = ImportSpec(
        options=options,
        import_id=summary.importId,
        source_file=path.name,
        headers=None,
        spreadsheet=stream.format in ("csv", "xlsx"),
        text_only=stream.text_only,
    )
    workers = _pool_size(options, path.stat().st_size)
    for counts in _import_batches(ports, ports_factory, stream, spec, workers):
        if counts is not None:
            summary.add(counts)
        if on_progress is not None:
            on_progress(stream, summary)
    summary.warnings = list(stream.warnings)
    if summary.rowWarnings:
        summary.warnings.append(row_warnings_message(summary.rowWarnings))
    if stream.headers is not None:
        summary.columns = column_report(stream.headers, options.mapping)
    summary.seconds = time.perf_counter() - started
    return summary


def import_records(
    ports: WritePorts, records: Sequence[Any], options: ImportOptions, source_file: str | None
) -> tuple[ImportSummary, list[Rejection]]:
    """Run a pipeline over records already in memory (an API request body).

    With `options.limits`, a record over a limit is rejected with its reason.
    """
    if options.limits is not None:
        records = [_within_limits(record, options.limits) for record in records]
    summary = ImportSummary(importId=str(uuid.uuid4()))
    spec = ImportSpec(options, summary.importId, source_file, None, spreadsheet=False)
    shaped = validate_batch(list(enumerate(records)), spec, RecordShaper(options.mapping))
    counts = _write_one(ports, spec, shaped)
    assert counts is not None  # no ledger, so never a replay
    summary.add(counts)
    return summary, shaped[1]


def _within_limits(record: Any, limits: InputLimits) -> Any:
    """The record, or an InvalidLine (a preview and the reason) when it is over a limit."""
    reason = record_limit_reason(record, limits)
    if reason is None:
        return record
    return InvalidLine(preview(json.dumps(record, default=str)[:2000]), reason)
