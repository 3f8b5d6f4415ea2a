"""The small ports on DynamoDB: OrderStore, ProviderCache, UserStore, MappingStore.

* Orders (`{prefix}-orders`): one item per (owner, source, order id, item id), written
  with a conditional put, so the first save of an order item wins and a replayed file
  stores nothing twice. The API's growing `id` is a per-owner counter: one `ADD` on the
  owner's `#seq` item reserves a block of ids for a whole `save` call (a duplicate
  leaves a gap; ids still grow). Listing, newest first, pages through the NumberIndex
  GSI by that id. The counter is one item per owner: its write rate is the owner's
  `save` calls, not their orders.
* Provider cache (`{prefix}-provider-cache`): by (provider, input hash);
  BatchGetItem / BatchWriteItem (100 / 25 a request), unprocessed items retried.
* Users (`{prefix}-users`): every user under one partition (`pk` = "user") sorted by
  name, so `usernames` is one Query in alphabetical order (DynamoDB sorts string keys
  by UTF-8 bytes, which is code-point order, as Python's sort is). Users are few.
* Mappings (`{prefix}-mappings`): by (owner, name).
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from ..domain.orders import Order
from .dynamo_tables_rest import (
    MAPPINGS,
    ORDERS,
    PROVIDER_CACHE,
    USERS,
    batch_get,
    batch_put,
    conditional_failed,
    get_js,
    get_n,
    get_s,
    js,
    n,
    s,
    table_name,
)

SEQUENCE = "#seq"  # the owner's order-id counter item

__all__ = ["DynamoMappingStore", "DynamoOrderStore", "DynamoProviderCache", "DynamoUserStore"]


class DynamoOrderStore:
    """Complete orders, once per (owner, source, order id, item id)."""

    def __init__(self, dynamodb: Any, table: str) -> None:
        self.db = dynamodb
        self.table = table

    @classmethod
    def for_prefix(cls, dynamodb: Any, prefix: str) -> DynamoOrderStore:
        return cls(dynamodb, table_name(prefix, ORDERS))

    def _reserve(self, owner: str, count: int) -> int:
        """The first of `count` new ids for the owner's orders."""
        answer = self.db.update_item(
            TableName=self.table,
            Key={"owner": s(owner), "order_key": s(SEQUENCE)},
            UpdateExpression="ADD seq :k",
            ExpressionAttributeValues={":k": n(count)},
            ReturnValues="UPDATED_NEW",
        )
        return int(answer["Attributes"]["seq"]["N"]) - count + 1

    def save(self, owner: str, source: str, orders: Sequence[Order], now: str) -> int:
        """Store the orders; how many were new."""
        if not orders:
            return 0
        first = self._reserve(owner, len(orders))
        new = 0
        for offset, order in enumerate(orders):
            document = {
                "source": source,
                "orderId": order.order_id,
                "itemId": order.item_id,
                "itemDesc": order.item_desc,
                "qty": order.qty,
                "contact": {"name": order.contact_name, "email": order.contact_email},
                "createdAt": now,
            }
            key = json.dumps([source, order.order_id, order.item_id])
            item = {
                "owner": s(owner),
                "order_key": s(key),
                "order_no": n(first + offset),
                "document": js(document),
            }
            try:
                self.db.put_item(
                    TableName=self.table,
                    Item=item,
                    ConditionExpression="attribute_not_exists(order_key)",
                )
            except ClientError as exc:
                if conditional_failed(exc):
                    continue  # stored already: the first save wins
                raise
            new += 1
        return new

    def list(
        self, owner: str, limit: int = 100, before: int | None = None
    ) -> builtins.list[dict[str, Any]]:
        """The owner's orders, newest first; `before` pages by id."""
        if limit <= 0:
            return []
        condition = "#owner = :owner"
        values: dict[str, Any] = {":owner": s(owner)}
        if before is not None:
            condition += " AND order_no < :before"
            values[":before"] = n(before)
        found: builtins.list[dict[str, Any]] = []
        start: dict[str, Any] | None = None
        while len(found) < limit:
            request: dict[str, Any] = {
                "TableName": self.table,
                "IndexName": "NumberIndex",
                "KeyConditionExpression": condition,
                "ExpressionAttributeNames": {"#owner": "owner"},
                "ExpressionAttributeValues": values,
                "ScanIndexForward": False,
                "Limit": limit - len(found),
            }
            if start:
                request["ExclusiveStartKey"] = start
            answer = self.db.query(**request)
            for item in answer.get("Items", []):
                found.append({"id": int(get_n(item, "order_no") or 0), **get_js(item, "document")})
            start = answer.get("LastEvaluatedKey")
            if not start:
                break
        return found[:limit]


class DynamoProviderCache:
    """Remote providers' answers by (provider, input hash); a later put replaces."""

    def __init__(self, dynamodb: Any, table: str) -> None:
        self.db = dynamodb
        self.table = table

    @classmethod
    def for_prefix(cls, dynamodb: Any, prefix: str) -> DynamoProviderCache:
        return cls(dynamodb, table_name(prefix, PROVIDER_CACHE))

    def get_many(self, provider: str, hashes: Iterable[str]) -> dict[str, dict[str, Any]]:
        keys = [{"provider": s(provider), "input_hash": s(h)} for h in dict.fromkeys(hashes)]
        items = batch_get(self.db, self.table, keys)
        return {str(get_s(item, "input_hash")): get_js(item, "result") for item in items}

    def put_many(self, provider: str, results: Mapping[str, Mapping[str, Any]]) -> None:
        batch_put(
            self.db,
            self.table,
            (
                {"provider": s(provider), "input_hash": s(digest), "result": js(dict(answer))}
                for digest, answer in results.items()
            ),
        )


class DynamoUserStore:
    """Users and their password hashes (one partition, sorted by name)."""

    def __init__(self, dynamodb: Any, table: str) -> None:
        self.db = dynamodb
        self.table = table

    @classmethod
    def for_prefix(cls, dynamodb: Any, prefix: str) -> DynamoUserStore:
        return cls(dynamodb, table_name(prefix, USERS))

    def add_user(self, username: str, password_hash: str, now: str) -> None:
        """Add a user, or replace the hash of one of that name (created_at stays)."""
        self.db.update_item(
            TableName=self.table,
            Key={"pk": s("user"), "username": s(username)},
            UpdateExpression="SET password_hash = :h, created_at = if_not_exists(created_at, :t)",
            ExpressionAttributeValues={":h": s(password_hash), ":t": s(now)},
        )

    def has_users(self) -> bool:
        return bool(self.usernames(1))

    def password_hash(self, username: str) -> str | None:
        answer = self.db.get_item(
            TableName=self.table,
            Key={"pk": s("user"), "username": s(username)},
            ConsistentRead=True,
        )
        return get_s(answer.get("Item") or {}, "password_hash")

    def usernames(self, limit: int = 20) -> list[str]:
        """The first `limit` names in alphabetical order."""
        if limit <= 0:
            return []
        answer = self.db.query(
            TableName=self.table,
            KeyConditionExpression="pk = :u",
            ExpressionAttributeValues={":u": s("user")},
            ProjectionExpression="username",
            ConsistentRead=True,
            Limit=limit,
        )
        return [str(get_s(item, "username")) for item in answer.get("Items", [])]


class DynamoMappingStore:
    """Column mappings saved by name, per owner."""

    def __init__(self, dynamodb: Any, table: str) -> None:
        self.db = dynamodb
        self.table = table

    @classmethod
    def for_prefix(cls, dynamodb: Any, prefix: str) -> DynamoMappingStore:
        return cls(dynamodb, table_name(prefix, MAPPINGS))

    def save_mapping(self, owner: str, name: str, mapping: Mapping[str, str], now: str) -> None:
        self.db.put_item(
            TableName=self.table,
            Item={
                "owner": s(owner),
                "name": s(name),
                "mapping": js(dict(mapping)),
                "updated_at": s(now),
            },
        )

    def mapping_names(self, owner: str) -> list[str]:
        names: list[str] = []
        pages = self.db.get_paginator("query").paginate(
            TableName=self.table,
            KeyConditionExpression="#owner = :owner",
            ExpressionAttributeNames={"#owner": "owner", "#name": "name"},
            ExpressionAttributeValues={":owner": s(owner)},
            ProjectionExpression="#name",
            ConsistentRead=True,
        )
        for page in pages:
            names.extend(str(get_s(item, "name")) for item in page.get("Items", []))
        return names

    def get_mapping(self, owner: str, name: str) -> dict[str, str] | None:
        answer = self.db.get_item(
            TableName=self.table,
            Key={"owner": s(owner), "name": s(name)},
            ConsistentRead=True,
        )
        item = answer.get("Item")
        if item is None:
            return None
        return {str(k): str(v) for k, v in get_js(item, "mapping").items()}
