"""Workers: take messages off the queue and run them; splitting files and running batches.

Delivery is at least once; the effect is exactly once: THE WRITE GUARANTEE (ports.py)
makes each row's write conditional and receipted and the batch's ledger entry come last,
so a redelivered batch (a worker killed anywhere in it) gives the same leads and counts.
A worker stopping (SIGTERM) finishes the message in hand; one killed leaves its lease to
run out, and the message runs again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import threading
from pathlib import Path
from typing import Any

from ..bootstrap import Services
from ..domain.merge import ImportMode, MergePolicy
from ..pipelines.importing import (
    ImportOptions,
    ImportSpec,
    PipelineName,
    batch_counts,
    lead_batch,
    validate_batch,
)
from ..pipelines.mapping import InvalidMapping, check_mapped_columns
from ..pipelines.shaping import RecordShaper
from ..pipelines.summary import BatchCounts, column_report
from ..pipelines.upsert import write_batches
from ..ports import DEAD_LETTERED, Message
from ..providers import registry
from ..providers.base import Provider
from ..providers.cached import CachedProvider
from ..providers.client import CircuitOpen
from ..readers import UnreadableFile, job_read_options, open_records
from ..readers.base import InvalidLine
from .enrichment import run_enrichment_batch, write_enrichment_results
from .metrics import BATCHES, JOB_SECONDS
from .redrive import REDRIVEN
from .results import write_results
from .status_store import DEAD_LETTERED_CODE, ENDED, Job, iso

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

    def step(self, idle_wait: float = 0.2) -> float:
        """One supervised pass (see jobs/supervisor.py): handle what is queued; returns
        the seconds to wait before the next pass (`idle_wait` when nothing was queued).
        Any exception, a failed database commit included, reaches the supervisor."""
        return 0.0 if self.run_once() else idle_wait

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
                self.write_batches([m.body for m in batches])
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
            except CircuitOpen as exc:
                budget = self.services.settings.provider_outage_budget
                if exc.down_for >= budget:
                    # Down for longer than the outage budget: no more waiting, the
                    # message goes to the DLQ (its job ends) and can be redriven later.
                    self._dead_letter(
                        message,
                        f"the provider has been down for {exc.down_for:.0f} s, over the "
                        f"outage budget of {budget:g} s (LEADFLOW_PROVIDER_OUTAGE_BUDGET)",
                    )
                    continue
                # The provider is down, not the message: wait out the cool-down without
                # using up the message's tries, within the outage budget.
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
            self.write_batches([body])
        elif body.get("kind") == "enrich":
            job = self._runnable(body["jobId"])
            if job is None:
                return
            applied = run_enrichment_batch(self.services, self._provider(body["provider"]), body)
            if job.status != "completed" or applied:
                self._finish_if_done(job)
        elif (redrive := REDRIVEN.get(str(body.get("kind")))) is not None:
            redrive(self.services, message)
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
        if job is not None and job.status == "error" and status.reopen(job_id):
            job = status.get_job(job_id)  # its split was dead-lettered and is redriven
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
        except (UnreadableFile, InvalidMapping) as exc:  # no retry will fix it: say so now
            error = {
                "message": " ".join(str(exc).split()),  # one line, whatever the parser said
                "code": "invalid_mapping" if isinstance(exc, InvalidMapping) else "unreadable_file",
                "timestamp": iso(status.clock()),
            }
            status.update(job_id, status="error", error=error)

    def _split_file(self, job: Job, path: Path, message: Message | None) -> None:
        status = self.services.status
        job_id = job.job_id
        settings = self.services.settings
        options = job_read_options(settings, job.options)
        stream = open_records(path, settings.batch_size, options, job.file_name or path.name)
        text_only = stream.text_only
        pending: list[dict[str, Any]] = []
        batches = rows = 0
        mapping = job.options.get("mapping")
        for batch in stream.batches():
            if batches == 0 and mapping and stream.headers is not None:
                check_mapped_columns(mapping, stream.headers)  # before any batch is queued
            batches += 1
            rows += len(batch)
            pending.append(
                {
                    "kind": "batch",
                    "jobId": job_id,
                    "batchNo": batch[0][0],
                    "format": stream.format,
                    "textOnly": text_only,
                    "headers": stream.headers,
                    # spreadsheet cells are strings already: only other records need converting
                    "records": [r if type(r) is dict else _portable(r) for _, r in batch]
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
        # a file without records completes at once, with a summary of zeros
        empty = {"totals": json.dumps(_zero_counts())} if batches == 0 else {}
        status.update(
            job_id,
            stage="batch_processing",
            total_batches=batches,
            total_leads=rows,
            warnings=stream.warnings or None,
            **empty,
            columns=None
            if stream.headers is None
            else column_report(stream.headers, job.options.get("mapping")),
        )
        self._finish_if_done(job)

    def write_batches(self, bodies: list[dict[str, Any]]) -> None:
        """Validate each batch message's records, then write them (upsert.write_batches:
        SQLite groups them in one transaction), each batch's effect exactly once.

        Batches of a cancelled or forgotten job are skipped: running batches finish,
        queued ones do not run.
        """
        writes = []
        jobs: dict[str, Job] = {}
        for body in bodies:
            job = jobs.get(body["jobId"]) or self._runnable(body["jobId"])
            if job is None:
                continue
            jobs[job.job_id] = job
            spec = self._import_spec(job, body)
            first = int(body["batchNo"])
            batch = [(first + i, _restored(r)) for i, r in enumerate(body["records"])]
            shaped = validate_batch(batch, spec, self._shaper(spec.options))
            writes.append(lead_batch(spec, shaped, first))
        applied: set[str] = set()
        if writes:
            results = write_batches(self.services.write_ports(), writes)
            applied = {
                w.ctx.import_id for w, r in zip(writes, results, strict=True) if batch_counts(r)
            }
        for job in jobs.values():
            if job.status != "completed" or job.job_id in applied:
                self._finish_if_done(job)

    def _import_spec(self, job: Job, body: dict[str, Any]) -> ImportSpec:
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
        return ImportSpec(
            options=import_options,
            import_id=job.job_id,
            source_file=job.file_name,
            headers=tuple(headers) if headers else None,
            spreadsheet=fmt in ("csv", "xlsx"),
            text_only=bool(body.get("textOnly", fmt == "csv")),
        )

    def _runnable(self, job_id: str) -> Job | None:
        """The job whose message is in hand, unless the message must not run: the job is
        cancelled (queued batches are skipped) or forgotten. A job that ended while some
        of its messages were in the DLQ takes them back when they are redriven (the
        ledger applies each batch once); one that ended in error for that reason runs again.
        """
        status = self.services.status
        job = status.get_job(job_id)
        if job is None or job.status == "cancelled":
            return None
        if job.status == "error":
            return status.get_job(job_id) if status.reopen(job_id) else None
        return job

    def _finish_if_done(self, job: Job) -> None:
        """Once every batch is in (applied or dead-lettered): write the result files and
        mark the job completed, or `error` when every batch was dead-lettered. A job that
        had completed already (a redriven batch came back) gets its result files again."""
        status = self.services.status
        job_id = job.job_id
        if job.status == "completed":
            self._write_results(job)
            return
        done = status.all_batches_done(job_id)
        if done is None:
            return
        totals = json.loads(done.totals or "{}")
        dead = int(totals.get(DEAD_LETTERED, 0))
        if dead and dead >= done.done_batches:
            error = {
                "message": f"every batch ({dead}) went to the dead-letter queue; "
                "redrive them once the cause is fixed",
                "code": DEAD_LETTERED_CODE,
                "timestamp": iso(status.clock()),
            }
            status.update(job_id, status="error", error=error)
            return
        key = self._write_results(done)
        if status.complete(job_id, key) and done.start_time:
            JOB_SECONDS.observe(max(0.0, status.clock() - _epoch(done.start_time)))

    def _write_results(self, job: Job) -> str:
        if job.kind == "process":
            return write_enrichment_results(self.services, job.job_id, job.total_batches or 0)
        return write_results(self.services, job.job_id, job.owner)

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
        if message.receive_count >= self.services.settings.max_receive_count:
            self._job_lost_message(message, error)

    def _dead_letter(self, message: Message, error: str) -> None:
        """Send the message in hand to the DLQ at once, with its reason."""
        log.warning("message dead-lettered", extra={"messageId": message.id, "error": error})
        BATCHES.labels("failed").inc()
        self.services.queue.bury([message.body], message.owner, error)
        self.services.queue.delete(message)
        self._job_lost_message(message, error)

    def adopt_dead_letters(self, limit: int = 1000) -> int:
        """Enter the DLQ's batches of running jobs in their ledgers; how many were new.

        A message whose lease ran out too often (its worker was killed each time) goes
        to the DLQ inside `receive`, where no worker sees it fail: without this its job
        would wait for it forever. The sweeper calls this now and then.
        """
        adopted = 0
        status = self.services.status
        for letter in self.services.queue.dead_letters(None, limit):
            body = letter.body
            if body.get("kind") not in ("batch", "enrich") or "batchNo" not in body:
                continue
            job = status.get_job(str(body.get("jobId")))
            if job is None or job.status != "processing":
                continue
            if not self.services.ledger.mark_dead(job.job_id, int(body["batchNo"])):
                continue
            adopted += 1
            self._finish_if_done(job)
        return adopted

    def _job_lost_message(self, message: Message, error: str) -> None:
        """A message of a job went to the DLQ. A batch is entered in the ledger as dead:
        the job still completes (with `deadLettered` in its summary) and its other
        batches run. A split means nothing of the job can run: it ends in error. Either
        way the job takes the message back when it is redriven."""
        body = message.body
        job_id = body.get("jobId")
        if not job_id:
            return
        status = self.services.status
        if body.get("kind") in ("batch", "enrich"):
            self.services.ledger.mark_dead(job_id, int(body["batchNo"]))
            job = status.get_job(job_id)
            if job is not None:
                self._finish_if_done(job)
            return
        now = iso(status.clock())
        status.update(
            job_id,
            status="error",
            error={"message": error, "code": DEAD_LETTERED_CODE, "timestamp": now},
        )


def _zero_counts() -> dict[str, int]:
    return dataclasses.asdict(BatchCounts())


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
