"""The JobStore port on DynamoDB: the ProcessingStatus table (seed 004), with TTL.

One item per job, keyed by `job_id`. Every change is one conditional UpdateItem:

* the job must exist and be live (no `ttl`, or `ttl` >= now): DynamoDB's TTL deletes
  expired items up to days late (moto never does), so a job past its ttl is filtered
  on every read and refused by every write, as the port says;
* a status change needs the job not ended; a stage change on an ended job is dropped
  (the update is tried once with the stage and the not-ended condition, and once more
  without the stage when that condition alone failed);
* `reopen` needs status `error` with the error code DEAD_LETTERED_CODE (kept beside the
  JSON error as `error_code`, so a condition can read it); `claim_undo` needs no undo or
  a running one started before the stale time (`undo_state`, `undo_started`).

Nested fields (options, error, undo, warnings, columns) are JSON strings: exact, and no
float-to-Decimal conversion. The owner's jobs come from the OwnerIndex GSI (newest first
by `created_key` = created_at, a nanosecond stamp and the id: the later of two equal
times first); `expired` queries the sparse ExpiryIndex (items with a ttl carry
`expiry` = "ttl"), earliest ttl first. Reads of one job are strongly consistent; the
GSIs are eventually consistent (a job just created may miss a listing for a moment).
"""

from __future__ import annotations

import builtins
import dataclasses
import time
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from ..clock import iso
from ..ports import DEAD_LETTERED_CODE, ENDED, DuplicateJob, Job
from .dynamo_tables_rest import JOBS, conditional_failed, get_js, get_n, get_s, js, n, s
from .dynamo_tables_rest import table_name as _table_name
from .job_fields import stamped

Clock = Callable[[], float]

_FIELDS = {f.name: f for f in dataclasses.fields(Job)}
_JSON = frozenset({"options", "error", "undo", "warnings", "columns"})
_INTS = frozenset({"file_size", "total_batches", "total_leads", "ttl"})
_FLOATS = frozenset({"ended_at"})
_LIVE = "attribute_exists(job_id) AND (attribute_not_exists(#ttl) OR #ttl >= :now)"
_NOT_ENDED = "NOT (#status IN (:completed, :error, :cancelled))"

__all__ = ["DynamoJobStore"]


def _value(name: str, value: Any) -> dict[str, str]:
    if name in _JSON:
        return js(value)
    if name in _INTS or name in _FLOATS:
        return n(float(value) if name in _FLOATS else int(value))
    return s(str(value))


def _derived(name: str, value: Any) -> dict[str, Any]:
    """Attributes kept beside a field so that conditions and indexes can read them;
    None values mean REMOVE."""
    if name == "error":
        return {"error_code": (value or {}).get("code")}
    if name == "undo":
        running = value is not None and value.get("state") == "running"
        return {
            "undo_state": None if value is None else str(value.get("state")),
            "undo_started": float(value.get("startedEpoch", 0.0)) if running else None,
        }
    if name == "ttl":
        return {"expiry": None if value is None else "ttl"}
    return {}


def _job(item: Mapping[str, Any]) -> Job:
    values: dict[str, Any] = {}
    for name in _FIELDS:
        if name not in item:
            continue
        if name in _JSON:
            values[name] = get_js(item, name)
        elif name in _INTS:
            values[name] = int(get_n(item, name) or 0)
        elif name in _FLOATS:
            values[name] = get_n(item, name)
        else:
            values[name] = get_s(item, name)
    return Job(**values)


class DynamoJobStore:
    """Jobs in the `{prefix}-processing-status` table (see the module docstring)."""

    def __init__(self, dynamodb: Any, table: str, clock: Clock = time.time) -> None:
        self.db = dynamodb
        self.table = table
        self.clock = clock

    @classmethod
    def for_prefix(cls, dynamodb: Any, prefix: str, clock: Clock = time.time) -> DynamoJobStore:
        return cls(dynamodb, _table_name(prefix, JOBS), clock)

    def _live(self, item: Mapping[str, Any] | None, owner: str | None = None) -> Job | None:
        if not item:
            return None
        job = _job(item)
        if job.ttl is not None and job.ttl < self.clock():
            return None  # past its ttl: DynamoDB has not deleted it yet
        return job if owner is None or job.owner == owner else None

    def create(self, job: Job) -> None:
        """Store a new job; DuplicateJob when the id is taken (even by an expired one)."""
        item: dict[str, Any] = {}
        for name in _FIELDS:
            value = getattr(job, name)
            if value is not None:
                item[name] = _value(name, value)
            for extra, derived in _derived(name, value).items():
                if derived is not None:
                    item[extra] = _value(extra, derived) if extra != "undo_started" else n(derived)
        item["created_key"] = s(f"{job.created_at}#{time.time_ns():020d}#{job.job_id}")
        try:
            self.db.put_item(
                TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(job_id)"
            )
        except ClientError as exc:
            if conditional_failed(exc):
                raise DuplicateJob(job.job_id) from exc
            raise

    def get(self, job_id: str, owner: str | None = None) -> Job | None:
        answer = self.db.get_item(
            TableName=self.table, Key={"job_id": s(job_id)}, ConsistentRead=True
        )
        return self._live(answer.get("Item"), owner)

    def _update(
        self, job_id: str, fields: Mapping[str, Any], condition: str, extra: Mapping[str, Any]
    ) -> bool:
        """One conditional UpdateItem setting `fields` (None removes); False when the
        condition failed."""
        names = {"#ttl": "ttl", "#status": "status", "#owner": "owner"}
        values: dict[str, Any] = {":now": n(float(self.clock())), **extra}
        sets: list[str] = []
        removes: list[str] = []
        everything: dict[str, Any] = {}
        for name, value in fields.items():
            everything[name] = value
            everything.update(_derived(name, value))
        for i, (name, value) in enumerate(everything.items()):
            names[f"#f{i}"] = name
            if value is None:
                removes.append(f"#f{i}")
            else:
                values[f":v{i}"] = n(value) if name == "undo_started" else _value(name, value)
                sets.append(f"#f{i} = :v{i}")
        expression = "SET " + ", ".join(sets) if sets else ""
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        if ":completed" in condition:
            values.update({":completed": s("completed"), ":error": s("error")})
            values[":cancelled"] = s("cancelled")
        text = expression + " " + condition
        used = {k: v for k, v in names.items() if k in text}
        values = {k: v for k, v in values.items() if k in text}
        try:
            self.db.update_item(
                TableName=self.table,
                Key={"job_id": s(job_id)},
                UpdateExpression=expression.strip(),
                ConditionExpression=condition,
                ExpressionAttributeNames=used,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if conditional_failed(exc):
                return False
            raise
        return True

    def update(self, job_id: str, **fields: Any) -> bool:
        """Set job fields (TypeError for unknown names); see ports.JobStore."""
        now = self.clock()
        fields = stamped(fields, now)
        if "status" not in fields and "stage" not in fields:
            return self._update(job_id, fields, _LIVE, {})
        if self._update(job_id, fields, f"{_LIVE} AND {_NOT_ENDED}", {}):
            return True
        if "status" in fields:
            return False
        # only a stage change met an ended job: keep its stage, set the rest
        rest = {k: v for k, v in fields.items() if k != "stage"}
        return self._update(job_id, rest, _LIVE, {})

    def list(self, owner: str, limit: int = 100) -> builtins.list[Job]:
        """The owner's live jobs, newest first (OwnerIndex, pages until `limit`)."""
        jobs: builtins.list[Job] = []
        start: dict[str, Any] | None = None
        while len(jobs) < limit:
            request: dict[str, Any] = {
                "TableName": self.table,
                "IndexName": "OwnerIndex",
                "KeyConditionExpression": "#owner = :owner",
                "ExpressionAttributeNames": {"#owner": "owner"},
                "ExpressionAttributeValues": {":owner": s(owner)},
                "ScanIndexForward": False,
                "Limit": max(limit - len(jobs), 1),
            }
            if start:
                request["ExclusiveStartKey"] = start
            answer = self.db.query(**request)
            jobs.extend(j for item in answer.get("Items", []) if (j := self._live(item, owner)))
            start = answer.get("LastEvaluatedKey")
            if not start:
                break
        return jobs[:limit]

    def cancel(self, job_id: str, owner: str) -> bool | None:
        job = self.get(job_id, owner)
        if job is None:
            return None
        if job.status in ENDED:
            return False
        return self.update(job_id, status="cancelled", stage="cancelled")

    def reopen(self, job_id: str) -> bool:
        """An error job with code DEAD_LETTERED_CODE back to processing; else False."""
        fields = {
            "status": "processing",
            "error": None,
            "ended_at": None,
            "ttl": None,
            "updated_at": iso(self.clock()),
        }
        condition = f"{_LIVE} AND #status = :was AND error_code = :code"
        extra = {":was": s("error"), ":code": s(DEAD_LETTERED_CODE)}
        return self._update(job_id, fields, condition, extra)

    def claim_undo(self, job_id: str, owner: str, stale_after: float) -> bool:
        now = self.clock()
        marker = {"state": "running", "startedAt": iso(now), "startedEpoch": now}
        condition = (
            f"{_LIVE} AND #owner = :owner AND (attribute_not_exists(undo_state) OR "
            "(undo_state = :running AND undo_started < :stale))"
        )
        extra = {":owner": s(owner), ":running": s("running"), ":stale": n(now - stale_after)}
        fields = {"undo": marker, "updated_at": iso(now)}
        return self._update(job_id, fields, condition, extra)

    def release_undo(self, job_id: str) -> None:
        condition = "attribute_exists(job_id) AND undo_state = :running"
        self._update(job_id, {"undo": None}, condition, {":running": s("running")})

    def expired(self, now: float, limit: int = 100) -> builtins.list[Job]:
        """Jobs whose ttl < now, earliest first (the sparse ExpiryIndex)."""
        answer = self.db.query(
            TableName=self.table,
            IndexName="ExpiryIndex",
            KeyConditionExpression="expiry = :e AND #ttl < :now",
            ExpressionAttributeNames={"#ttl": "ttl"},
            ExpressionAttributeValues={":e": s("ttl"), ":now": n(now)},
            ScanIndexForward=True,
            Limit=max(limit, 1),
        )
        return [_job(item) for item in answer.get("Items", [])][:limit]

    def forget(self, job_id: str) -> bool:
        answer = self.db.delete_item(
            TableName=self.table, Key={"job_id": s(job_id)}, ReturnValues="ALL_OLD"
        )
        return bool(answer.get("Attributes"))
