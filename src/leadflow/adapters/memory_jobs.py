"""The JobStore port in memory, written from its docstring (ports.JobStore)."""

from __future__ import annotations

import builtins
import dataclasses
import threading
import time
from collections.abc import Callable
from typing import Any

from ..clock import iso
from ..ports import DEAD_LETTERED_CODE, ENDED, DuplicateJob, Job
from .job_fields import stamped


class MemoryJobStore:
    """Jobs in a dict; one lock makes each call one atomic conditional write."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def _live(self, job_id: str, owner: str | None = None) -> Job | None:
        job = self._jobs.get(job_id)
        if job is None or (job.ttl is not None and job.ttl < self.clock()):
            return None
        return job if owner is None or job.owner == owner else None

    def create(self, job: Job) -> None:
        with self._lock:
            if job.job_id in self._jobs:
                raise DuplicateJob(job.job_id)
            self._jobs[job.job_id] = job

    def get(self, job_id: str, owner: str | None = None) -> Job | None:
        with self._lock:
            return self._live(job_id, owner)

    def update(self, job_id: str, **fields: Any) -> bool:
        now = self.clock()
        fields = stamped(fields, now)
        with self._lock:
            job = self._live(job_id)
            if job is None:
                return False
            ended = job.status in ENDED
            if ended and "status" in fields:
                return False
            if ended:
                fields.pop("stage", None)
            self._jobs[job_id] = dataclasses.replace(job, **fields)
            return True

    def list(self, owner: str, limit: int = 100) -> list[Job]:
        with self._lock:
            # dicts keep insertion order: reversed, the later of two equal times comes first
            mine = [j for j in reversed(self._jobs.values()) if self._live(j.job_id, owner)]
        mine.sort(key=lambda job: job.created_at, reverse=True)
        return mine[:limit]

    def cancel(self, job_id: str, owner: str) -> bool | None:
        job = self.get(job_id, owner)
        if job is None:
            return None
        if job.status in ENDED:
            return False
        return self.update(job_id, status="cancelled", stage="cancelled")

    def reopen(self, job_id: str) -> bool:
        with self._lock:
            job = self._live(job_id)
            if job is None or job.status != "error":
                return False
            if (job.error or {}).get("code") != DEAD_LETTERED_CODE:
                return False
            self._jobs[job_id] = dataclasses.replace(
                job,
                status="processing",
                error=None,
                ended_at=None,
                ttl=None,
                updated_at=iso(self.clock()),
            )
            return True

    def claim_undo(self, job_id: str, owner: str, stale_after: float) -> bool:
        now = self.clock()
        with self._lock:
            job = self._live(job_id, owner)
            if job is None:
                return False
            undo = job.undo
            stale = (
                undo is not None
                and undo.get("state") == "running"
                and float(undo.get("startedEpoch", 0.0)) < now - stale_after
            )
            if undo is not None and not stale:
                return False
            marker = {"state": "running", "startedAt": iso(now), "startedEpoch": now}
            self._jobs[job_id] = dataclasses.replace(job, undo=marker, updated_at=iso(now))
            return True

    def release_undo(self, job_id: str) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None and (job.undo or {}).get("state") == "running":
                self._jobs[job_id] = dataclasses.replace(job, undo=None)

    def expired(self, now: float, limit: int = 100) -> builtins.list[Job]:
        with self._lock:
            gone = [j for j in self._jobs.values() if j.ttl is not None and j.ttl < now]
        gone.sort(key=lambda job: job.ttl or 0)
        return gone[:limit]

    def forget(self, job_id: str) -> bool:
        with self._lock:
            return self._jobs.pop(job_id, None) is not None
