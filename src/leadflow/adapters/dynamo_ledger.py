"""ports.BatchLedger on DynamoDB: one item per (job, batch) in the `ledger` table.

A job's totals are a Query of its partition summing the entries' counts: there is no
counter item that every batch would update (a hot item). An entry is put once
(attribute_not_exists); a dead entry (`dead` true, counts {deadLettered: 1}) is replaced
by the real one, with {deadLettered: 0}, when the batch is redriven (a second
conditional put, `dead = true`: only redrives pay for it). An entry holds its row outcomes as JSON
text: DynamoDB's 400 KB item limit allows batches of about 8,000 rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ..ports import DEAD_LETTERED
from . import dynamo_tables as t

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoBatchLedger:
    """ports.BatchLedger on DynamoDB (client injected; table name from `prefix`)."""

    def __init__(self, client: DynamoDBClient, prefix: str = "leadflow") -> None:
        self.client = client
        self.table = t.table_name(prefix, t.LEDGER)

    def _key(self, job_id: str, batch_no: int) -> dict[str, Any]:
        return {"job_id": {"S": job_id}, "batch_no": {"N": str(batch_no)}}

    def _put(self, item: dict[str, Any], over_dead: bool = False) -> bool:
        """Put-if-absent (with `over_dead`: only over a dead entry); False when refused."""
        extra: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(job_id)"}
        if over_dead:
            extra = {
                "ConditionExpression": "#dead = :yes",
                "ExpressionAttributeNames": {"#dead": "dead"},
                "ExpressionAttributeValues": {":yes": {"BOOL": True}},
            }
        try:
            self.client.put_item(TableName=self.table, Item=item, **extra)
        except ClientError as exc:
            if t.error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _entry(
        self,
        job_id: str,
        batch_no: int,
        counts: Mapping[str, int],
        outcomes: Sequence[tuple[int, str, str | None]],
        dead: bool,
    ) -> dict[str, Any]:
        item = self._key(job_id, batch_no)
        values = {
            "counts": dict(counts),
            "outcomes": json.dumps([list(o) for o in outcomes]),
            "dead": dead,
        }
        item.update(t.to_item(values))
        return item

    def record(
        self,
        job_id: str,
        batch_no: int,
        counts: Mapping[str, int],
        outcomes: Sequence[tuple[int, str, str | None]] = (),
    ) -> bool:
        """Put-if-absent; else, over a dead entry only, the real one with
        {DEAD_LETTERED: 0} (the job's summary then says deadLettered: 0)."""
        if self._put(self._entry(job_id, batch_no, counts, outcomes, False)):
            return True
        redriven = {**counts, DEAD_LETTERED: 0}
        return self._put(self._entry(job_id, batch_no, redriven, outcomes, False), over_dead=True)

    def mark_dead(self, job_id: str, batch_no: int) -> bool:
        return self._put(self._entry(job_id, batch_no, {DEAD_LETTERED: 1}, (), True))

    def has(self, job_id: str, batch_no: int) -> bool:
        answer = self.client.get_item(
            TableName=self.table, Key=self._key(job_id, batch_no), ConsistentRead=True
        )
        item = answer.get("Item")
        return item is not None and not item.get("dead", {}).get("BOOL", False)

    def _entries(self, job_id: str, projection: str) -> Iterator[dict[str, Any]]:
        for item in t.query_all(
            self.client,
            TableName=self.table,
            KeyConditionExpression="job_id = :j",
            ExpressionAttributeValues={":j": {"S": job_id}},
            ProjectionExpression="#p",
            ExpressionAttributeNames={"#p": projection},
            ConsistentRead=True,
        ):
            yield t.from_item(item)

    def totals(self, job_id: str) -> tuple[int, dict[str, int]]:
        entries = 0
        totals: dict[str, int] = {}
        for entry in self._entries(job_id, "counts"):
            entries += 1
            for name, value in entry.get("counts", {}).items():
                totals[name] = totals.get(name, 0) + int(value)
        return entries, totals

    def outcomes(self, job_id: str) -> Iterator[tuple[int, str, str | None]]:
        for entry in self._entries(job_id, "outcomes"):  # batch_no order: the sort key
            for row, outcome, lead_id in json.loads(entry.get("outcomes") or "[]"):
                yield int(row), str(outcome), lead_id

    def forget(self, job_id: str) -> None:
        keys = [
            {"DeleteRequest": {"Key": self._key(job_id, int(entry["batch_no"]))}}
            for entry in self._entries(job_id, "batch_no")
        ]
        t.batch_write(self.client, self.table, keys)
