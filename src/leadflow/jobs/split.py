"""The split step of an upload: read the uploaded file from the blob store as a stream and
queue it as batches of LEADFLOW_BATCH_SIZE rows.

The file is read through `BlobStore.open` (no local path: on S3 it is a stream that
cannot seek, which the readers spool; see readers/source.py). Every group of SEND_GROUP
batches becomes one part blob under `jobs/<jobId>/parts/`, written before the messages
that point at it; each message holds the part's key and its rows, never a record (see
jobs/parts.py for the format and why).

A large file takes longer than a lease: the lease is renewed as groups go out. If the
split runs twice (a worker died), parts are rewritten with the same content and batches
queued twice; the batch ledger makes the second copy of each a no-op.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..pipelines.mapping import InvalidMapping, check_mapped_columns
from ..pipelines.summary import column_report
from ..ports import BlobStore, Job, JobStore, Message, Queue
from ..readers import RecordStream, UnreadableFile, job_read_options, open_records
from ..settings import Settings
from .parts import PART_MAX_BYTES, SEND_GROUP, batch_line, part_key, pointer, write_part
from .status import ENDED, iso


def split_upload(
    jobs: JobStore,
    blobs: BlobStore,
    queue: Queue,
    settings: Settings,
    job_id: str,
    message: Message | None,
    finish: Callable[[Job], None],
    clock: Callable[[], float] = time.time,
) -> None:
    """Split the job's uploaded file into queued batches, then call `finish(job)` (a job
    whose batches all ran already, or an empty file, completes there).

    An unreadable file or a mapping that names a column the file lacks ends the job in
    `error` at once (no retry would fix it); a missing upload raises FileNotFoundError
    (the queue retries, then dead-letters the split).
    """
    job = jobs.get(job_id)
    if job is not None and job.status == "error" and jobs.reopen(job_id):
        job = jobs.get(job_id)  # its split was dead-lettered and is redriven
    if job is None or job.status in ENDED or job.blob_key is None:
        return
    stream_of_upload = blobs.open(job.blob_key)  # FileNotFoundError: retried, then DLQ
    try:
        start = job.start_time or iso(clock())
        if not jobs.update(job_id, status="processing", stage="file_processing", start_time=start):
            return  # cancelled meanwhile
        try:
            records = open_records(
                stream_of_upload,
                settings.batch_size,
                job_read_options(settings, job.options),
                job.file_name or job.blob_key.rsplit("/", 1)[-1],
            )
            with records:
                batches = _queue_batches(records, job, blobs, queue, settings, message)
        except (UnreadableFile, InvalidMapping) as exc:  # no retry will fix it: say so now
            error = {
                "message": " ".join(str(exc).split()),  # one line, whatever the parser said
                "code": "invalid_mapping" if isinstance(exc, InvalidMapping) else "unreadable_file",
                "timestamp": iso(clock()),
            }
            jobs.update(job_id, status="error", error=error)
            return
    finally:
        stream_of_upload.close()
    # a file without records completes at once (its summary: zeros, jobs/status.py)
    jobs.update(
        job_id,
        stage="batch_processing",
        total_batches=batches,
        total_leads=records.rows_read,
        warnings=records.warnings or None,
        columns=None
        if records.headers is None
        else column_report(records.headers, job.options.get("mapping")),
    )
    finish(job)


class _Group:
    """The batches of one part, gathered until the part is full."""

    def __init__(self) -> None:
        self.lines: list[bytes] = []
        self.size = 0
        self.batches: list[tuple[int, int]] = []  # (first row, last row)

    def add(self, batch: list[tuple[int, Any]], text_only: bool) -> None:
        line = batch_line([record for _, record in batch], text_only)
        self.lines.append(line)
        self.size += len(line)
        self.batches.append((batch[0][0], batch[-1][0]))

    def full(self) -> bool:
        return len(self.batches) >= SEND_GROUP or self.size >= PART_MAX_BYTES


def _queue_batches(
    records: RecordStream,
    job: Job,
    blobs: BlobStore,
    queue: Queue,
    settings: Settings,
    message: Message | None,
) -> int:
    """Write the parts and queue their batches; how many batches."""
    mapping = job.options.get("mapping")
    group = _Group()
    checked = False
    batches = 0

    def send(group: _Group) -> None:
        first = group.batches[0][0]
        key = part_key(job.job_id, first)
        meta = {"format": records.format, "textOnly": records.text_only, "headers": records.headers}
        write_part(blobs, key, group.batches, group.lines, meta)
        queue.send_many(
            [pointer("batch", job.job_id, key, a, b) for a, b in group.batches], job.owner
        )
        if message is not None:
            queue.change_visibility(message, settings.visibility_timeout)

    for batch in records.batches():
        if not checked and mapping and records.headers is not None:
            check_mapped_columns(mapping, records.headers)  # before any batch is queued
        checked = True
        batches += 1
        group.add(batch, records.text_only)
        if group.full():
            send(group)
            group = _Group()
    if group.batches:
        send(group)
    return batches
