"""ports.SchemaErrorLog on DynamoDB: the `schema-errors` table.

One item per (import_id, row), so logging a row again keeps one entry (a replay rewrites
it whole, with that replay's time). Each entry's `id` (the API's `before` cursor) is the
batch's time in centiseconds times 10^7 plus the row (mod 10^7): ids grow with time,
fit in a signed 64-bit integer until the year 2262 and are never reused by two rows of
an import. An owner's log is read newest first through GSI `OwnerIndex` (owner, id);
one import's entries through the table's partition.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..domain.lead import Rejection
from ..ports import WriteContext
from . import dynamo_tables as t

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_ROWS = 10**7


def entry_id(now: str, row: int) -> int:
    """The id of row `row`'s entry, written at ISO time `now`."""
    moment = dt.datetime.fromisoformat(now.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    centis = int(moment.timestamp() * 100)
    return centis * _ROWS + row % _ROWS


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
        """Keep each rejected record with every reason (25 a request)."""
        requests = []
        for r in {r.row: r for r in rejections}.values():  # one item per row
            item = {
                "import_id": ctx.import_id,
                "row": r.row,
                "id": entry_id(ctx.now, r.row),
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
        values: dict[str, Any] = {":o": {"S": owner}}
        if before is not None:
            values[":before"] = {"N": str(before)}
        arguments: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": t.ERRORS_OWNER_INDEX,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": {
                "#o": "owner",
                **({} if before is None else {"#id": "id"}),
            },
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
        }
        entries: list[dict[str, Any]] = []
        for item in t.query_all(self.client, **arguments):
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
