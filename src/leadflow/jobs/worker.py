"""Workers: take messages off the queue and run them; splitting files and running batches.

Delivery is at least once; the effect is exactly once: a batch's leads and its counts
commit together in the batch ledger, so a redelivered batch (a worker killed after the
commit but before the ack) changes nothing. A worker stopping (SIGTERM) finishes the
message in hand; one killed leaves its lease to run out, and the message runs again.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from pathlib import Path
from typing import Any

from ..bootstrap import Services
from ..domain.merge import ImportMode, MergePolicy
from ..pipelines.importing import (
    BatchJob,
    ImportOptions,
    PipelineName,
    batch_write,
    shape_batch,
    store_batches,
)
from ..pipelines.shaping import RecordShaper
from ..pipelines.summary import column_report
from ..ports import Message
from ..providers import registry
from ..providers.base import Provider
from ..providers.cached import CachedProvider
from ..providers.client import CircuitOpen
from ..readers import UnreadableFile, open_records
from ..readers.json_reader import InvalidLine
from .enrichment import run_enrichment_batch, write_enrichment_results
from .metrics import BATCHES, JOB_SECONDS
from .results import write_results
from .status_store import ENDED, Job, iso

log = logging.getLogger("leadflow.worker")
SEND_GROUP = 50  # batch messages queued per transaction while splitting
CIRCUIT_WAIT = 30.0  # seconds a message waits when its provider's circuit is open
_INVALID = "$invalid"  # how a line that is not JSON travels inside a batch message


class Worker:
    def __init__(self, services: Services, stop: threading.Event | None = None) -> None:
        self.services = services
        self.stop = stop or threading.Event()
        self._shapers: dict[tuple[tuple[str, str], ...], RecordShaper] = {}
        self._providers: dict[str, Provider] = {}

    def run(self, idle_wait: float = 0.2) -> None:
        """Work until `stop` is set; the message in hand is always finished first."""
        while not self.stop.is_set():
            if self.run_once() == 0:
                self.stop.wait(idle_wait)

    def run_once(self, max_messages: int = 50) -> int:
        """Receive and handle up to `max_messages`; how many were received.

        The batches among them are written in one transaction (the store sees large
        transactions, not one per 100 rows); if that fails, each is tried on its own so
        that one bad batch does not take the others towards the DLQ with it.
        """
        queue = self.services.queue
        messages = queue.receive(max_messages, self.services.settings.visibility_timeout)
        received = len(messages)
        batches = [m for m in messages if m.body.get("kind") == "batch"]
        if len(batches) > 1 and not self.stop.is_set():
            try:
                self.run_batches([m.body for m in batches])
            except Exception:
                log.warning("a group of batches failed; trying them one by one", exc_info=True)
            else:
                BATCHES.labels("done").inc(len(batches))
                queue.delete_many(batches)
                messages = [m for m in messages if m not in batches]
        for position, message in enumerate(messages):
            if self.stop.is_set():
                for unhandled in messages[position:]:  # give the rest back at once
                    queue.release(unhandled, 0)  # not attempted: not counted
                break
            try:
                self.handle(message)
            except CircuitOpen:
                # The provider is down, not the message: wait out the cool-down without
                # using up the message's tries, so a dead provider fills no DLQ.
                log.warning(
                    "provider circuit open; message released", extra={"messageId": message.id}
                )
                queue.release(message, CIRCUIT_WAIT)
                for unhandled in messages[position + 1 :]:
                    queue.release(unhandled, 0)  # not attempted: not counted
                break
            except Exception as exc:  # any failure: the queue retries, then dead-letters
                log.exception("message failed", extra={"messageId": message.id})
                BATCHES.labels("failed").inc()
                self._failed(message, exc)
            else:
                BATCHES.labels("done").inc()
                queue.delete(message)
        return received

    def handle(self, message: Message) -> None:
        body = message.body
        if body.get("kind") == "split":
            self.split(body["jobId"], message)
        elif body.get("kind") == "batch":
            self.run_batch(body)
        elif body.get("kind") == "enrich":
            job = self.services.status.get_job(body["jobId"])
            if job is None or job.status in ENDED:
                return
            run_enrichment_batch(self.services, self._provider(body["provider"]), body)
            self._finish_if_done(job.job_id)
        else:
            raise ValueError(f"unknown message kind {body.get('kind')!r}")

    def split(self, job_id: str, message: Message | None = None) -> None:
        """Read the uploaded file and queue it as batches of LEADFLOW_BATCH_SIZE rows.

        A large file takes longer than a lease: the lease is renewed as batches go out.
        If the split runs twice (a worker died), batches are queued twice, and the
        batch ledger makes the second copy of each a no-op.
        """
        status = self.services.status
        job = status.get_job(job_id)
        if job is None or job.status in ENDED or job.blob_key is None:
            return
        path = self.services.blobs.local_path(job.blob_key)
        if path is None:
            raise FileNotFoundError(f"the uploaded file of job {job_id} is missing")
        start = job.start_time or iso(status.clock())
        if not status.update(
            job_id, status="processing", stage="file_processing", start_time=start
        ):
            return  # cancelled meanwhile
        try:
            self._split_file(job, path, message)
        except UnreadableFile as exc:  # no retry will make it readable: say so at once
            error = {
                "message": str(exc),
                "code": "UNREADABLE_FILE",
                "timestamp": iso(status.clock()),
            }
            status.update(job_id, status="error", error=error)

    def _split_file(self, job: Job, path: Path, message: Message | None) -> None:
        status = self.services.status
        job_id = job.job_id
        stream = open_records(path, self.services.settings.batch_size)
        text_only = stream.format == "csv"
        pending: list[dict[str, Any]] = []
        batches = rows = 0
        for batch in stream.batches():
            batches += 1
            rows += len(batch)
            pending.append(
                {
                    "kind": "batch",
                    "jobId": job_id,
                    "batchNo": batch[0][0],
                    "format": stream.format,
                    "headers": stream.headers,
                    # CSV cells are strings already: only other formats need converting
                    "records": [r for _, r in batch]
                    if text_only
                    else [_portable(r) for _, r in batch],
                }
            )
            if len(pending) >= SEND_GROUP:
                self.services.queue.send_many(pending, job.owner)
                pending = []
                if message is not None:
                    self.services.queue.change_visibility(
                        message, self.services.settings.visibility_timeout
                    )
        if pending:
            self.services.queue.send_many(pending, job.owner)
        status.update(
            job_id,
            stage="batch_processing",
            total_batches=batches,
            total_leads=rows,
            warnings=stream.warnings or None,
            columns=None
            if stream.headers is None
            else column_report(stream.headers, job.options.get("mapping")),
        )
        self._finish_if_done(job_id)

    def run_batch(self, body: dict[str, Any]) -> None:
        """Validate, normalize and upsert one batch, once, unless its job was cancelled."""
        self.run_batches([body])

    def run_batches(self, bodies: list[dict[str, Any]]) -> None:
        """Shape each batch, then write them all in one transaction, each at most once.

        Batches of a cancelled or forgotten job are skipped: running batches finish,
        queued ones do not run.
        """
        writes = []
        jobs: dict[str, Job] = {}
        for body in bodies:
            job = jobs.get(body["jobId"]) or self.services.status.get_job(body["jobId"])
            if job is None or job.status in ENDED:
                continue
            jobs[job.job_id] = job
            batch_job = self._batch_job(job, body)
            first = int(body["batchNo"])
            batch = [(first + i, _restored(r)) for i, r in enumerate(body["records"])]
            shaped = shape_batch(batch, batch_job, self._shaper(batch_job.options))
            writes.append(batch_write(batch_job, shaped, first))
        if writes:
            store_batches(self.services.leads, writes)
        for job_id in jobs:
            self._finish_if_done(job_id)

    def _batch_job(self, job: Job, body: dict[str, Any]) -> BatchJob:
        options = job.options
        import_options = ImportOptions(
            owner=job.owner,
            pipeline=PipelineName(options.get("pipeline", "leads")),
            mode=ImportMode(options.get("mode", ImportMode.CREATE_AND_UPDATE)),
            policy=MergePolicy(options.get("merge", MergePolicy.REPLACE)),
            mapping=options.get("mapping"),
            region=self.services.settings.default_region,
            source="upload",
            standardizer=self._provider("llm") if options.get("standardize") == "llm" else None,
        )
        fmt = body.get("format")
        headers = body.get("headers")
        return BatchJob(
            options=import_options,
            import_id=job.job_id,
            source_file=job.file_name,
            headers=tuple(headers) if headers else None,
            spreadsheet=fmt in ("csv", "xlsx"),
            text_only=fmt == "csv",
        )

    def _finish_if_done(self, job_id: str) -> None:
        """Once every batch is in: write the result files, then mark the job completed."""
        job = self.services.status.all_batches_done(job_id)
        if job is not None:
            if job.kind == "process":
                key = write_enrichment_results(self.services, job_id, job.total_batches or 0)
            else:
                key = write_results(self.services, job_id, job.owner)
            if self.services.status.complete(job_id, key) and job.start_time:
                JOB_SECONDS.observe(max(0.0, self.services.status.clock() - _epoch(job.start_time)))

    def _provider(self, name: str) -> Provider:
        provider = self._providers.get(name)
        if provider is None:
            provider = registry.create(name, self.services.settings)
            if getattr(provider, "cacheable", False):
                provider = CachedProvider(provider, self.services.provider_cache)
            self._providers[name] = provider
        return provider

    def _shaper(self, options: ImportOptions) -> RecordShaper:
        key = tuple(sorted((options.mapping or {}).items()))
        shaper = self._shapers.get(key)
        if shaper is None:
            shaper = self._shapers[key] = RecordShaper(options.mapping)
        return shaper

    def _failed(self, message: Message, exc: Exception) -> None:
        error = f"{type(exc).__name__}: {exc}"
        queue = self.services.queue
        queue.fail(message, error, retry_after=min(2.0**message.receive_count, 60.0))
        job_id = message.body.get("jobId")
        if message.receive_count >= self.services.settings.max_receive_count and job_id:
            now = iso(self.services.status.clock())
            self.services.status.update(
                job_id,
                status="error",
                error={"message": error, "code": "BATCH_FAILED", "timestamp": now},
            )


def _epoch(stamp: str) -> float:
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _portable(record: Any) -> Any:
    """A record as JSON can carry it (spreadsheet dates become ISO text)."""
    if isinstance(record, InvalidLine):
        return {_INVALID: {"text": record.text, "error": record.error}}
    if isinstance(record, dict):
        return {
            k: v if isinstance(v, str | int | float | bool | None) else str(v)
            for k, v in record.items()
        }
    return record


def _restored(record: Any) -> Any:
    if isinstance(record, dict) and set(record) == {_INVALID}:
        return InvalidLine(record[_INVALID]["text"], record[_INVALID]["error"])
    return record
