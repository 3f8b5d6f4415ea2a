"""Workers: take messages off the queue and run them; splitting files and running batches.

Delivery is at least once; the effect is exactly once: THE WRITE GUARANTEE (ports.py)
makes each row's write conditional and receipted and the batch's ledger entry come last,
so a redelivered batch (a worker killed anywhere in it) gives the same leads and counts.
A worker stopping (SIGTERM) finishes the message in hand; one killed leaves its lease to
run out, and the message runs again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..clock import epoch_of
from ..domain.merge import ImportMode, MergePolicy
from ..pipelines.importing import (
    ImportOptions,
    ImportSpec,
    PipelineName,
    batch_counts,
    lead_batch,
    validate_batch,
)
from ..pipelines.shaping import RecordShaper
from ..pipelines.upsert import WritePorts, write_batches
from ..ports import (
    DEAD_LETTERED,
    BatchLedger,
    BlobStore,
    DeadLetters,
    JobStore,
    Message,
    ProviderCache,
    Queue,
)
from ..providers import registry
from ..providers.base import Provider
from ..providers.cached import CachedProvider
from ..providers.client import CircuitOpen
from ..settings import Settings
from .enrichment import run_enrichment_batch, write_enrichment_results
from .metrics import BATCHES, JOB_SECONDS
from .parts import PartCache
from .redrive import REDRIVEN, RedrivePorts
from .results import write_results
from .split import split_upload
from .status import DEAD_LETTERED_CODE, Job, JobTotals, all_batches_done, iso

log = logging.getLogger("leadflow.worker")
CIRCUIT_WAIT = 30.0  # seconds a message waits when its provider's circuit is open


@dataclass(frozen=True)
class WorkerPorts:
    """What a worker uses (bootstrap.worker_ports builds it)."""

    settings: Settings
    jobs: JobStore
    totals: JobTotals  # BatchLedger.totals: (entries, counts summed) of a job
    queue: Queue
    dead_letters: DeadLetters
    write: WritePorts  # lead repository, schema-error log and batch ledger
    ledger: BatchLedger  # the same ledger: dead entries, enrichment entries, outcomes
    blobs: BlobStore
    provider_cache: ProviderCache
    redrive: RedrivePorts
    clock: Callable[[], float] = time.time


class Worker:
    def __init__(self, ports: WorkerPorts, stop: threading.Event | None = None) -> None:
        self.ports = ports
        self.stop = stop or threading.Event()
        self._shapers: dict[tuple[tuple[str, str], ...], RecordShaper] = {}
        self._providers: dict[str, Provider] = {}
        self._parts = PartCache(ports.blobs)

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
        queue = self.ports.queue
        messages = queue.receive(max_messages, self.ports.settings.visibility_timeout)
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
                budget = self.ports.settings.provider_outage_budget
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
            applied = run_enrichment_batch(
                self.ports.blobs,
                self.ports.ledger,
                self._provider(body["provider"]),
                body,
                self._parts,
            )
            if job.status != "completed" or applied:
                self._finish_if_done(job)
        elif (redrive := REDRIVEN.get(str(body.get("kind")))) is not None:
            redrive(self.ports.redrive, message)
        else:
            raise ValueError(f"unknown message kind {body.get('kind')!r}")

    def split(self, job_id: str, message: Message | None = None) -> None:
        """Queue the uploaded file as batches (jobs/split.py)."""
        ports = self.ports
        split_upload(
            ports.jobs,
            ports.blobs,
            ports.queue,
            ports.settings,
            job_id,
            message,
            self._finish_if_done,
            ports.clock,
        )

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
            part, batch = self._parts.batch(body)  # the records the message points at
            spec = self._import_spec(job, part)
            first = int(body["batchNo"])
            shaped = validate_batch(batch, spec, self._shaper(spec.options))
            writes.append(lead_batch(spec, shaped, first))
        applied: set[str] = set()
        if writes:
            results = write_batches(self.ports.write, writes)
            applied = {
                w.ctx.import_id for w, r in zip(writes, results, strict=True) if batch_counts(r)
            }
        for job in jobs.values():
            if job.status != "completed" or job.job_id in applied:
                self._finish_if_done(job)

    def _import_spec(self, job: Job, part: dict[str, Any]) -> ImportSpec:
        """How to run a batch of `job` whose part header (jobs/parts.py) is `part`."""
        options = job.options
        import_options = ImportOptions(
            owner=job.owner,
            pipeline=PipelineName(options.get("pipeline", "leads")),
            mode=ImportMode(options.get("mode", ImportMode.CREATE_AND_UPDATE)),
            policy=MergePolicy(options.get("merge", MergePolicy.REPLACE)),
            mapping=options.get("mapping"),
            region=self.ports.settings.default_region,
            source="upload",
            standardizer=self._provider("llm") if options.get("standardize") == "llm" else None,
        )
        fmt = part.get("format")
        headers = part.get("headers")
        return ImportSpec(
            options=import_options,
            import_id=job.job_id,
            source_file=job.file_name,
            headers=tuple(headers) if headers else None,
            spreadsheet=fmt in ("csv", "xlsx"),
            text_only=bool(part.get("textOnly", fmt == "csv")),
        )

    def _runnable(self, job_id: str) -> Job | None:
        """The job whose message is in hand, unless the message must not run: the job is
        cancelled (queued batches are skipped) or forgotten. A job that ended while some
        of its messages were in the DLQ takes them back when they are redriven (the
        ledger applies each batch once); one that ended in error for that reason runs again.
        """
        jobs = self.ports.jobs
        job = jobs.get(job_id)
        if job is None or job.status == "cancelled":
            return None
        if job.status == "error":
            return jobs.get(job_id) if jobs.reopen(job_id) else None
        return job

    def _finish_if_done(self, job: Job) -> None:
        """Once every batch is in (applied or dead-lettered): write the result files and
        mark the job completed, or `error` when every batch was dead-lettered. A job that
        had completed already (a redriven batch came back) gets its result files again."""
        jobs = self.ports.jobs
        job_id = job.job_id
        if job.status == "completed":
            self._write_results(job)
            return
        done = jobs.get(job_id)
        if done is None:
            return
        entries, totals = self.ports.totals(job_id)
        if not all_batches_done(done, entries):
            return
        dead = int(totals.get(DEAD_LETTERED, 0))
        if dead and dead >= entries:
            error = {
                "message": f"every batch ({dead}) went to the dead-letter queue; "
                "redrive them once the cause is fixed",
                "code": DEAD_LETTERED_CODE,
                "timestamp": iso(self.ports.clock()),
            }
            jobs.update(job_id, status="error", error=error)
            return
        key = self._write_results(done)
        completed = jobs.update(job_id, status="completed", stage="completed", result_key=key)
        if completed and done.start_time:
            JOB_SECONDS.observe(max(0.0, self.ports.clock() - epoch_of(done.start_time)))

    def _write_results(self, job: Job) -> str:
        if job.kind == "enrichment":
            return write_enrichment_results(self.ports.blobs, job.job_id, job.total_batches or 0)
        return write_results(
            self.ports.ledger,
            self.ports.write.errors,
            self.ports.blobs,
            job.job_id,
            job.owner,
        )

    def _provider(self, name: str) -> Provider:
        provider = self._providers.get(name)
        if provider is None:
            provider = registry.create(name, self.ports.settings)
            if getattr(provider, "cacheable", False):
                provider = CachedProvider(provider, self.ports.provider_cache)
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
        queue = self.ports.queue
        queue.fail(message, error, retry_after=min(2.0**message.receive_count, 60.0))
        if message.receive_count >= self.ports.settings.max_receive_count:
            self._job_lost_message(message, error)

    def _dead_letter(self, message: Message, error: str) -> None:
        """Send the message in hand to the DLQ at once, with its reason."""
        log.warning("message dead-lettered", extra={"messageId": message.id, "error": error})
        BATCHES.labels("failed").inc()
        self.ports.dead_letters.add([message.body], message.owner, error)
        self.ports.queue.delete(message)
        self._job_lost_message(message, error)

    def adopt_dead_letters(self, limit: int = 1000) -> int:
        """Enter the DLQ's batches of running jobs in their ledgers; how many were new.

        A message whose lease ran out too often (its worker was killed each time) goes
        to the DLQ inside `receive`, where no worker sees it fail: without this its job
        would wait for it forever. The sweeper calls this now and then.
        """
        adopted = 0
        jobs = self.ports.jobs
        for letter in self.ports.dead_letters.list(None, limit):
            body = letter.body
            if body.get("kind") not in ("batch", "enrich") or "batchNo" not in body:
                continue
            job = jobs.get(str(body.get("jobId")))
            if job is None or job.status != "processing":
                continue
            if not self.ports.ledger.mark_dead(job.job_id, int(body["batchNo"])):
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
        jobs = self.ports.jobs
        if body.get("kind") in ("batch", "enrich"):
            self.ports.ledger.mark_dead(job_id, int(body["batchNo"]))
            job = jobs.get(job_id)
            if job is not None:
                self._finish_if_done(job)
            return
        now = iso(self.ports.clock())
        jobs.update(
            job_id,
            status="error",
            error={"message": error, "code": DEAD_LETTERED_CODE, "timestamp": now},
        )
