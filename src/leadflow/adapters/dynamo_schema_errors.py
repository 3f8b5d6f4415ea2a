"""ports.SchemaErrorLog on DynamoDB: the `schema-errors` table.

One item per (import_id, row): logging a row again keeps its first entry (rows already
in are read first and left alone). Each entry's `id` (the API's `before` cursor) comes
from a per-owner counter item (`import_id` = "#ids#<owner>"), moved once per append
call by the number of new entries, so ids grow in the order entries were written (as
SQLite's rowids) and the counter is touched once per batch with rejections, not per
row. An owner's log is read newest first through GSI `OwnerIndex` (owner, id); one
import's entries through the table's partition (sorted here).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..domain.lead import Rejection
from ..ports import WriteContext
from . import dynamo_tables as t

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_COUNTER = "#ids#"  # the partition of an owner's id counter (no owner/id: not indexed)


def _document(item: dict[str, Any]) -> dict[str, Any]:
    raw = t.from_item(item)
    return {
        "id": raw["id"],
        "source": raw["source"],
        "importId": raw["import_id"],
        "index": raw["row"],
        "record": json.loads(raw["record"]),
        "errors": json.loads(raw["errors"]),
        "createdAt": raw["created_at"],
    }


class DynamoSchemaErrorLog:
    """ports.SchemaErrorLog on DynamoDB (client injected; table name from `prefix`)."""

    def __init__(self, client: DynamoDBClient, prefix: str = "leadflow") -> None:
        self.client = client
        self.table = t.table_name(prefix, t.SCHEMA_ERRORS)

    def append(self, ctx: WriteContext, rejections: Sequence[Rejection]) -> None:
        """Keep each rejected record with every reason, once per (import, row): one
        BatchGetItem for the rows in already, one counter update, a BatchWriteItem per
        25 new entries."""
        new = {r.row: r for r in rejections}
        keys = [{"import_id": {"S": ctx.import_id}, "row": {"N": str(row)}} for row in new]
        for item in t.batch_get(self.client, self.table, keys):
            new.pop(int(item["row"]["N"]), None)
        if not new:
            return
        answer = self.client.update_item(
            TableName=self.table,
            Key={"import_id": {"S": _COUNTER + ctx.owner}, "row": {"N": "0"}},
            UpdateExpression="ADD #next :n",
            ExpressionAttributeNames={"#next": "next"},
            ExpressionAttributeValues={":n": {"N": str(len(new))}},
            ReturnValues="UPDATED_NEW",
        )
        first = int(answer["Attributes"]["next"]["N"]) - len(new) + 1
        requests = []
        for n, r in enumerate(sorted(new.values(), key=lambda r: r.row)):
            item = {
                "import_id": ctx.import_id,
                "row": r.row,
                "id": first + n,
                "owner": ctx.owner,
                "source": ctx.source,
                "record": json.dumps(r.record, ensure_ascii=False, default=str),
                "errors": json.dumps([e.as_dict() for e in r.errors], ensure_ascii=False),
                "created_at": ctx.now,
            }
            requests.append({"PutRequest": {"Item": t.to_item(item)}})
        t.batch_write(self.client, self.table, requests)

    def list(
        self,
        owner: str,
        limit: int = 100,
        before: int | None = None,
        import_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Entries newest first; `before`: ids below it; a negative limit: all."""
        if import_id is not None:  # one import's partition, sorted here
            items = t.query_all(
                self.client,
                TableName=self.table,
                KeyConditionExpression="import_id = :i",
                ExpressionAttributeValues={":i": {"S": import_id}},
                ConsistentRead=True,
            )
            found = [
                _document(i)
                for i in items
                if i["owner"]["S"] == owner and (before is None or int(i["id"]["N"]) < before)
            ]
            found.sort(key=lambda e: e["id"], reverse=True)
            return found if limit < 0 else found[:limit]
        condition = "#o = :o" + ("" if before is None else " AND #id < :before")
        names = {"#o": "owner"}
        values: dict[str, Any] = {":o": {"S": owner}}
        if before is not None:
            names["#id"] = "id"
            values[":before"] = {"N": str(before)}
        entries: list[dict[str, Any]] = []
        for item in t.query_all(
            self.client,
            TableName=self.table,
            IndexName=t.ERRORS_OWNER_INDEX,
            KeyConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ScanIndexForward=False,
        ):
            if 0 <= limit <= len(entries):
                break
            entries.append(_document(item))
        return entries

    def forget_import(self, import_id: str) -> None:
        items = t.query_all(
            self.client,
            TableName=self.table,
            KeyConditionExpression="import_id = :i",
            ExpressionAttributeValues={":i": {"S": import_id}},
            ProjectionExpression="import_id, #r",
            ExpressionAttributeNames={"#r": "row"},
        )
        t.batch_write(self.client, self.table, [{"DeleteRequest": {"Key": i}} for i in items])
