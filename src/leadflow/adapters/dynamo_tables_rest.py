"""DynamoDB tables of the non-lead ports (jobs, outbox, alarms, orders, provider cache,
users, mappings): their definitions, shared by the adapters, `leadflow aws init` and
the tests. Names are `{prefix}-{suffix}` (LEADFLOW_AWS_PREFIX); every table is
on-demand (PAY_PER_REQUEST). The lead-aggregate tables live in dynamo_tables.py.

Also the few item helpers the adapters share: values as DynamoDB attribute values,
BatchGetItem / BatchWriteItem with their retries of unprocessed items.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

JOBS = "processing-status"
OUTBOX = "outbox"
ALARMS = "alarms"
ORDERS = "orders"
PROVIDER_CACHE = "provider-cache"
USERS = "users"
MAPPINGS = "mappings"


def _keys(*pairs: tuple[str, str, str]) -> dict[str, Any]:
    """KeySchema and AttributeDefinitions from (name, S|N, HASH|RANGE)."""
    return {
        "KeySchema": [{"AttributeName": n, "KeyType": k} for n, _, k in pairs],
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t, _ in pairs],
    }


def _index(name: str, *pairs: tuple[str, str, str]) -> dict[str, Any]:
    return {
        "IndexName": name,
        "KeySchema": [{"AttributeName": n, "KeyType": k} for n, _, k in pairs],
        "Projection": {"ProjectionType": "ALL"},
    }


def _table(
    suffix: str,
    keys: Sequence[tuple[str, str, str]],
    indexes: Sequence[tuple[str, Sequence[tuple[str, str, str]]]] = (),
    ttl: str | None = None,
) -> dict[str, Any]:
    spec = _keys(*keys)
    defined = {d["AttributeName"] for d in spec["AttributeDefinitions"]}
    for _, pairs in indexes:
        for name, kind, _ in pairs:
            if name not in defined:
                defined.add(name)
                spec["AttributeDefinitions"].append({"AttributeName": name, "AttributeType": kind})
    if indexes:
        spec["GlobalSecondaryIndexes"] = [_index(n, *pairs) for n, pairs in indexes]
    return {"suffix": suffix, "ttl": ttl, "spec": spec}


TABLES: list[dict[str, Any]] = [
    # jobs by id; the owner's newest first; ended jobs by ttl (a sparse index: only
    # items with `expiry` are in it, set while the job has a ttl)
    _table(
        JOBS,
        [("job_id", "S", "HASH")],
        [
            ("OwnerIndex", [("owner", "S", "HASH"), ("created_key", "S", "RANGE")]),
            ("ExpiryIndex", [("expiry", "S", "HASH"), ("ttl", "N", "RANGE")]),
        ],
        ttl="ttl",
    ),
    # entries by idempotency key; due ones (pending, or sending: due when the claim
    # times out) in a sparse index by due time
    _table(
        OUTBOX,
        [("idem_key", "S", "HASH")],
        [("DueIndex", [("due", "S", "HASH"), ("due_at", "N", "RANGE")])],
    ),
    _table(ALARMS, [("name", "S", "HASH")]),
    # orders by owner and (source, order, item); the item `#seq` holds the owner's id
    # counter; newest first through the sort key `order_no`
    _table(
        ORDERS,
        [("owner", "S", "HASH"), ("order_key", "S", "RANGE")],
        [("NumberIndex", [("owner", "S", "HASH"), ("order_no", "N", "RANGE")])],
    ),
    _table(PROVIDER_CACHE, [("provider", "S", "HASH"), ("input_hash", "S", "RANGE")]),
    _table(USERS, [("pk", "S", "HASH"), ("username", "S", "RANGE")]),
    _table(MAPPINGS, [("owner", "S", "HASH"), ("name", "S", "RANGE")]),
]


def table_name(prefix: str, suffix: str) -> str:
    """A table's name for a resource prefix (LEADFLOW_AWS_PREFIX)."""
    return f"{prefix}-{suffix}"


def create_rest_tables(dynamodb: Any, prefix: str) -> list[str]:
    """Create the tables that do not exist yet (and turn their TTL on); their names."""
    existing = set()
    for page in dynamodb.get_paginator("list_tables").paginate():
        existing.update(page.get("TableNames", []))
    created = []
    for table in TABLES:
        name = table_name(prefix, table["suffix"])
        if name in existing:
            continue
        dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **table["spec"])
        dynamodb.get_waiter("table_exists").wait(TableName=name)
        if table["ttl"]:
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": table["ttl"]},
            )
        created.append(name)
    return created


# ----------------------------------------------------------------------------- items
def s(value: str) -> dict[str, str]:
    return {"S": value}


def n(value: float) -> dict[str, str]:
    return {"N": repr(value) if isinstance(value, float) else str(value)}


def js(value: Any) -> dict[str, str]:
    """A JSON document kept as a string attribute (exact, no Decimal conversion)."""
    return {"S": json.dumps(value)}


def get_s(item: Mapping[str, Any], name: str) -> str | None:
    value = item.get(name)
    return None if value is None else str(value["S"])


def get_n(item: Mapping[str, Any], name: str) -> float | None:
    value = item.get(name)
    return None if value is None else float(value["N"])


def get_js(item: Mapping[str, Any], name: str) -> Any:
    value = item.get(name)
    return None if value is None else json.loads(value["S"])


def batch_get(
    dynamodb: Any, table: str, keys: Iterable[Mapping[str, Any]], consistent: bool = False
) -> list[dict[str, Any]]:
    """Every item of `keys` that exists (BatchGetItem, 100 keys a request, unprocessed
    keys asked again with a growing pause)."""
    items: list[dict[str, Any]] = []
    wanted = list(keys)
    for start in range(0, len(wanted), 100):
        request: dict[str, Any] = {
            table: {"Keys": wanted[start : start + 100], "ConsistentRead": consistent}
        }
        pause = 0.05
        while request:
            answer = dynamodb.batch_get_item(RequestItems=request)
            items.extend(answer.get("Responses", {}).get(table, []))
            request = answer.get("UnprocessedKeys") or {}
            if request:
                time.sleep(pause)
                pause = min(pause * 2, 2.0)
    return items


def batch_put(dynamodb: Any, table: str, items: Iterable[Mapping[str, Any]]) -> int:
    """Put items unconditionally (BatchWriteItem, 25 a request, unprocessed ones sent
    again with a growing pause); how many."""
    puts = [{"PutRequest": {"Item": dict(item)}} for item in items]
    for start in range(0, len(puts), 25):
        request: dict[str, Any] = {table: puts[start : start + 25]}
        pause = 0.05
        while request:
            answer = dynamodb.batch_write_item(RequestItems=request)
            request = answer.get("UnprocessedItems") or {}
            if request:
                time.sleep(pause)
                pause = min(pause * 2, 2.0)
    return len(puts)


def conditional_failed(exc: Exception) -> bool:
    """Whether a botocore ClientError is DynamoDB's ConditionalCheckFailedException."""
    response = getattr(exc, "response", None) or {}
    return bool(response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")
