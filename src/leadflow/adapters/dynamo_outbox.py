"""The Outbox port on DynamoDB: `{prefix}-outbox` (entries) and `{prefix}-alarms`.

* An entry is one item keyed by its idempotency key; `add_many` is one conditional
  PutItem per key (attribute_not_exists), so a key seen before adds nothing, whatever
  its entry's state, and concurrent adders of one key make one entry.
* Entries that may be claimed sit in the sparse DueIndex (`due` = "due", `due_at`): a
  pending entry is due at its retry time (0 when new), a claimed one when its claim
  times out (claimed_at + OUTBOX_CLAIM_SECONDS). `claim` queries the index for
  `due_at <= now` and takes each entry with an UpdateItem conditioned on the `due_at`
  and status it read: of two claimers one wins, and the index being eventually
  consistent can only cost a claim, never double one. A finished entry leaves the
  index (`due` removed) and is never claimed again.
* `counts` scans the table (status only): fine for metrics and health, whose callers
  poll it now and then; it reads every entry ever kept.
* An alarm is one item; `set_alarm` is an UpdateItem conditioned on the state being
  different, so one call per crossing answers True.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from ..clock import iso
from ..ports import OUTBOX_CLAIM_SECONDS, OutboxEntry
from .dynamo_tables_rest import (
    ALARMS,
    OUTBOX,
    conditional_failed,
    get_js,
    get_n,
    get_s,
    js,
    n,
    s,
    table_name,
)

Clock = Callable[[], float]

__all__ = ["DynamoOutbox"]


class DynamoOutbox:
    """Notifications to send, each once (see the module docstring)."""

    def __init__(self, dynamodb: Any, table: str, alarms_table: str, clock: Clock = time.time):
        self.db = dynamodb
        self.table = table
        self.alarms = alarms_table
        self.clock = clock

    @classmethod
    def for_prefix(cls, dynamodb: Any, prefix: str, clock: Clock = time.time) -> DynamoOutbox:
        return cls(dynamodb, table_name(prefix, OUTBOX), table_name(prefix, ALARMS), clock)

    def add_many(self, owner: str, entries: Mapping[str, Mapping[str, Any]], now: str) -> int:
        """One conditional put per new key; how many were new."""
        new = 0
        for key, payload in entries.items():
            item = {
                "idem_key": s(key),
                "owner": s(owner),
                "payload": js(dict(payload)),
                "status": s("pending"),
                "attempts": n(0),
                "created_at": s(now),
                "due": s("due"),
                "due_at": n(0),
            }
            try:
                self.db.put_item(
                    TableName=self.table,
                    Item=item,
                    ConditionExpression="attribute_not_exists(idem_key)",
                )
            except ClientError as exc:
                if conditional_failed(exc):
                    continue
                raise
            new += 1
        return new

    def claim(self, limit: int = 20, now: float | None = None) -> list[OutboxEntry]:
        """Lease up to `limit` due entries (pending and due, or claimed too long ago)."""
        now = self.clock() if now is None else now
        claimed: list[OutboxEntry] = []
        start: dict[str, Any] | None = None
        while len(claimed) < limit:
            request: dict[str, Any] = {
                "TableName": self.table,
                "IndexName": "DueIndex",
                "KeyConditionExpression": "due = :due AND due_at <= :now",
                "ExpressionAttributeValues": {":due": s("due"), ":now": n(now)},
                "Limit": max(2 * (limit - len(claimed)), 10),
            }
            if start:
                request["ExclusiveStartKey"] = start
            answer = self.db.query(**request)
            for item in answer.get("Items", []):
                if len(claimed) >= limit:
                    break
                entry = self._take(item, now)
                if entry is not None:
                    claimed.append(entry)
            start = answer.get("LastEvaluatedKey")
            if not start:
                break
        return claimed

    def _take(self, item: Mapping[str, Any], now: float) -> OutboxEntry | None:
        status = get_s(item, "status")
        claimed_at = get_n(item, "claimed_at")
        if status == "sending" and (claimed_at is None or claimed_at >= now - OUTBOX_CLAIM_SECONDS):
            return None  # the index's due time is at the limit: the claim is still good
        try:
            answer = self.db.update_item(
                TableName=self.table,
                Key={"idem_key": item["idem_key"]},
                UpdateExpression=(
                    "SET #status = :sending, claimed_at = :now, due_at = :until ADD attempts :one"
                ),
                ConditionExpression="due_at = :seen AND #status = :was",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":sending": s("sending"),
                    ":now": n(now),
                    ":until": n(now + OUTBOX_CLAIM_SECONDS),
                    ":one": n(1),
                    ":seen": item["due_at"],
                    ":was": item["status"],
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if conditional_failed(exc):
                return None  # another sender took it first
            raise
        new = answer["Attributes"]
        return OutboxEntry(
            str(get_s(new, "idem_key")),
            str(get_s(new, "owner")),
            get_js(new, "payload"),
            int(get_n(new, "attempts") or 0),
        )

    def finish(
        self, entry: OutboxEntry, status: str, channel: str | None, error: str | None
    ) -> None:
        """End the entry: `sent` by `channel`, or `dead` with `error`."""
        values: dict[str, Any] = {":st": s(status), ":at": s(iso(self.clock(), "seconds"))}
        sets = ["#status = :st", "finished_at = :at"]
        removes = ["due", "due_at", "claimed_at"]
        for name, value in (("channel", channel), ("last_error", error)):
            if value is None:
                removes.append(name)
            else:
                values[f":{name}"] = s(value)
                sets.append(f"{name} = :{name}")
        self.db.update_item(
            TableName=self.table,
            Key={"idem_key": s(entry.id)},
            UpdateExpression=f"SET {', '.join(sets)} REMOVE {', '.join(removes)}",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values,
        )

    def retry_at(
        self,
        entries: Sequence[OutboxEntry],
        when: float,
        error: str | None,
        counts: bool = True,
    ) -> None:
        """Put claimed entries back, due at `when`; `counts=False` gives the try back."""
        for entry in entries:
            values: dict[str, Any] = {
                ":st": s("pending"),
                ":due": s("due"),
                ":when": n(when),
                ":back": n(0 if counts else -1),
            }
            sets = "#status = :st, due = :due, due_at = :when"
            if error is not None:
                values[":err"] = s(error)
                sets += ", last_error = :err"
            self.db.update_item(
                TableName=self.table,
                Key={"idem_key": s(entry.id)},
                UpdateExpression=f"SET {sets} REMOVE claimed_at ADD attempts :back",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values,
            )

    def counts(self) -> dict[str, int]:
        """Entries per status (a scan of the status attribute)."""
        found: dict[str, int] = {}
        pages = self.db.get_paginator("scan").paginate(
            TableName=self.table,
            ProjectionExpression="#status",
            ExpressionAttributeNames={"#status": "status"},
        )
        for page in pages:
            for item in page.get("Items", []):
                status = str(get_s(item, "status"))
                found[status] = found.get(status, 0) + 1
        return found

    def alarm_raised(self, name: str) -> bool:
        answer = self.db.get_item(TableName=self.alarms, Key={"name": s(name)}, ConsistentRead=True)
        item = answer.get("Item")
        return bool(item and item["raised"]["BOOL"])

    def set_alarm(self, name: str, raised: bool) -> bool:
        """Record the alarm's state; True when this call changed it."""
        try:
            self.db.update_item(
                TableName=self.alarms,
                Key={"name": s(name)},
                UpdateExpression="SET raised = :r",
                ConditionExpression="attribute_not_exists(raised) OR raised <> :r",
                ExpressionAttributeValues={":r": {"BOOL": raised}},
            )
        except ClientError as exc:
            if conditional_failed(exc):
                return False
            raise
        return True
