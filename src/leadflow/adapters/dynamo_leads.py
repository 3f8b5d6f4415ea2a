"""The lead aggregate on DynamoDB: ports.LeadRepository and ports.LeadReadModel.

Tables (adapters/dynamo_tables.py): `leads` (owner, lead_id), `lead-keys` (the key claims:
one per owner and key), `lead-audit` (lead_id, version), `import-rows` (receipts and
skips by import).

THE WRITE GUARANTEE here: each LeadWrite is a handful of items (lead, key claim,
receipt, audit; a key move adds one) whose conditions DynamoDB checks together:
- create: the lead item and the key claim must not exist (attribute_not_exists);
- update/stamp/delete: `version = expected` and not `import_id = this import AND
  import_row > this row` (a later row of the import holds the lead);
- the receipt must not exist: a receipt that exists means this very write applied, and
  the write counts as applied (True).
`apply` puts up to 25 writes (<= 100 items) in one TransactWriteItems. When DynamoDB
cancels it, the cancellation reasons name the failing items: those writes are decided
one by one (True when the lead holds their (import, row) stamp or their receipt exists,
else False; the lead comes back with the cancellation, ReturnValuesOnConditionCheckFailure
ALL_OLD, so no read is needed) and the others go again as a group. A TransactionConflict (another
transaction on the same items) is retried with backoff. No read locks anywhere.

The read model queries an owner's partition. createdAt pages come straight from a
Query (lead ids are UUIDv7: time-ordered); a filter (q, company, source, flags) reads on
until the page is full. Other sorts, find_leads, top_companies and count_leads read the
owner's whole partition (cost grows with the owner's leads: about 1 read unit per 4 KB
of leads, e.g. ~250 units for 1,000 leads of 1 KB), which suits owners with up to about
100k leads; beyond that they need their own indexes or an export.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ..documents import audit_to_api, lead_to_api
from ..domain.json_values import has_lone_surrogate
from ..domain.undo import UNDONE, AuditEntry, UndoResult, plan_undo, values_before
from ..ports import MAX_WRITES_PER_APPLY, BadCursor, LeadQuery, LeadWrite, RowReceipt
from . import dynamo_tables as t
from .lead_filters import SORTS, fold, found_by, passes

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Row = dict[str, Any]

_JSON_COLUMNS = ("interests", "attributes", "enrichment")
LEAD_COLUMNS = (
    "lead_id",
    "owner",
    "email",
    "phone",
    "phone_valid",
    "first_name",
    "last_name",
    "name",
    "title",
    "company",
    "remarks",
    "opt_in",
    "interests",
    "attributes",
    "enrichment",
    "source",
    "source_file",
    "created_at",
    "updated_at",
    "import_id",
    "import_row",
    "created_import_id",
    "version",
)
_TEXT_DEFAULTS = ("first_name", "last_name", "name", "title", "company", "remarks")
# creation order is lead_id order here (UUIDv7 ids are time-ordered): no sequence column
_SORTS = {**SORTS, "createdAt": "lead_id"}
_MAX_ITEMS = 100  # TransactWriteItems' limit
_CONFLICT_TRIES = 6  # TransactionConflict: another transaction held an item
_LEAD_ID = re.compile(r"[0-9A-Za-z_\-]{1,64}")


def lead_key(row: Mapping[str, Any]) -> str | None:
    """A lead's key: its email, else its phone when valid, else none."""
    if row.get("email") is not None:
        return str(row["email"])
    if row.get("phone_valid") and row.get("phone") is not None:
        return str(row["phone"])
    return None


def _stored(column: str, value: Any) -> Any:
    """A column's value as stored: JSON columns as JSON text."""
    if column in _JSON_COLUMNS and value is not None:
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


def _lead_from_item(item: dict[str, Any]) -> Row:
    """A stored lead as the repository hands it out (ports.LeadRepository: Python values,
    JSON columns parsed, absent columns None; enrichment is the read model's alone)."""
    raw = t.from_item(item)
    row: Row = {column: raw.get(column) for column in LEAD_COLUMNS if column != "enrichment"}
    for column in ("interests", "attributes"):
        if row[column] is not None:
            row[column] = json.loads(row[column])
    for column in _TEXT_DEFAULTS:
        if row[column] is None:
            row[column] = ""
    return row


def _document_row(item: dict[str, Any]) -> Row:
    """A lead item in the shape lead_rows.lead_to_api reads (JSON columns as text)."""
    raw = t.from_item(item)
    row: Row = {column: raw.get(column) for column in LEAD_COLUMNS}
    for column in _TEXT_DEFAULTS:
        if row[column] is None:
            row[column] = ""
    return row


def _may_move_key(w: LeadWrite) -> bool:
    """Whether an update may change the lead's key, so that the lead is read first: one
    that sets the email, or the phone of a lead not keyed by an email. (Imports never
    do: the email is not a merged column, and a phone-keyed lead is found by its phone.)"""
    if "email" in w.values:
        return True
    email_keyed = w.key is not None and "@" in w.key
    return not email_keyed and bool({"phone", "phone_valid"} & set(w.values))


def _stamped(row: Mapping[str, Any] | None, w: LeadWrite) -> bool:
    """Whether the lead holds this write's (import, row) stamp: it applied already."""
    return (
        row is not None
        and w.import_id is not None
        and row.get("import_id") == w.import_id
        and row.get("import_row") == w.row
    )


@dataclass(frozen=True, slots=True)
class _Tables:
    leads: str
    keys: str
    audit: str
    rows: str

    @classmethod
    def named(cls, prefix: str) -> _Tables:
        return cls(
            t.table_name(prefix, t.LEADS),
            t.table_name(prefix, t.LEAD_KEYS),
            t.table_name(prefix, t.LEAD_AUDIT),
            t.table_name(prefix, t.IMPORT_ROWS),
        )


def _receipt_item_key(import_id: str, row: int) -> dict[str, Any]:
    return {"import_id": {"S": import_id}, "item": {"S": f"r#{row:010d}"}}


def _skip_item_key(import_id: str, owner: str, key: str) -> dict[str, Any]:
    return {"import_id": {"S": import_id}, "item": {"S": f"s#{owner}#{key}"}}


def _receipt_from_item(item: dict[str, Any]) -> RowReceipt:
    raw = t.from_item(item)
    return RowReceipt(
        raw["import_id"], int(raw["row"]), raw["outcome"], raw.get("lead_id"), raw["counts"]
    )


class DynamoLeadRepository:
    """ports.LeadRepository on DynamoDB (client injected; table names from `prefix`)."""

    max_writes = MAX_WRITES_PER_APPLY  # 25 writes x 4 items: one TransactWriteItems

    def __init__(self, client: DynamoDBClient, prefix: str = "leadflow") -> None:
        self.client = client
        self.tables = _Tables.named(prefix)

    # ------------------------------------------------------------------ reads
    def _leads_by_id(self, owner: str, lead_ids: Iterable[str]) -> dict[str, Row]:
        keys = [{"owner": {"S": owner}, "lead_id": {"S": i}} for i in dict.fromkeys(lead_ids)]
        items = t.batch_get(self.client, self.tables.leads, keys)
        return {row["lead_id"]: row for row in map(_lead_from_item, items)}

    def _claims(self, owner: str, keys: Iterable[str]) -> dict[str, str]:
        wanted = [{"owner": {"S": owner}, "key": {"S": k}} for k in dict.fromkeys(keys)]
        items = t.batch_get(self.client, self.tables.keys, wanted)
        return {i["key"]["S"]: i["lead_id"]["S"] for i in items}

    def _trail(self, lead_id: str) -> list[Row]:
        """A lead's audit entries, oldest first."""
        items = t.query_all(
            self.client,
            TableName=self.tables.audit,
            KeyConditionExpression="lead_id = :id",
            ExpressionAttributeValues={":id": {"S": lead_id}},
            ConsistentRead=True,
        )
        return [_audit_from_item(i) for i in items]

    def find_by_keys(
        self, owner: str, keys: Iterable[str], import_id: str | None = None
    ) -> dict[str, dict[str, Any]]:
        claims = self._claims(owner, keys)
        leads = self._leads_by_id(owner, claims.values())
        found: dict[str, dict[str, Any]] = {}
        for key, lead_id in claims.items():
            row = leads.get(lead_id)
            if row is None or lead_key(row) != key:
                continue  # a claim a delete is about to release
            if import_id is not None and row["import_id"] == import_id:
                row["import_base"] = self._base(row, import_id)
            found[key] = row
        return found

    def _base(self, row: Row, import_id: str) -> Row | None:
        """The lead's values before `import_id` first changed it (None: it created it)."""
        if row["created_import_id"] == import_id:
            return None  # no trail to read
        return values_before(row, self._trail(row["lead_id"]), import_id)

    def receipts(self, import_id: str, rows: Iterable[int]) -> dict[int, RowReceipt]:
        keys = [_receipt_item_key(import_id, row) for row in dict.fromkeys(rows)]
        items = t.batch_get(self.client, self.tables.rows, keys)
        return {r.row: r for r in map(_receipt_from_item, items)}

    def find_skips(self, owner: str, import_id: str, keys: Iterable[str]) -> dict[str, int]:
        wanted = [_skip_item_key(import_id, owner, k) for k in dict.fromkeys(keys)]
        items = t.batch_get(self.client, self.tables.rows, wanted)
        prefix = f"s#{owner}#"
        return {i["item"]["S"][len(prefix) :]: int(i["row"]["N"]) for i in items}

    # ------------------------------------------------------------------ writes
    def _receipt_put(self, receipt: RowReceipt) -> dict[str, Any]:
        item = _receipt_item_key(receipt.import_id, receipt.row)
        item.update(
            t.to_item(
                {
                    "row": receipt.row,
                    "outcome": receipt.outcome,
                    "lead_id": receipt.lead_id,
                    "counts": dict(receipt.counts),
                }
            )
        )
        return {
            "Put": {
                "TableName": self.tables.rows,
                "Item": item,
                "ConditionExpression": "attribute_not_exists(import_id)",
            }
        }

    def record_skips(
        self,
        owner: str,
        import_id: str,
        skips: Mapping[str, int],
        receipts: Sequence[RowReceipt] = (),
    ) -> None:
        """Each skip an update that keeps the larger row (condition: absent or smaller);
        each receipt a put-if-absent, in the same transaction as the skip of its row.
        Items whose condition fails (a larger row is in, the receipt exists) are dropped
        and the rest applied again."""
        by_row: dict[int, list[dict[str, Any]]] = {}
        for key, row in skips.items():
            update = {
                "Update": {
                    "TableName": self.tables.rows,
                    "Key": _skip_item_key(import_id, owner, key),
                    "UpdateExpression": "SET #r = :r",
                    "ConditionExpression": "attribute_not_exists(#r) OR #r < :r",
                    "ExpressionAttributeNames": {"#r": "row"},
                    "ExpressionAttributeValues": {":r": {"N": str(row)}},
                }
            }
            by_row.setdefault(row, []).append(update)
        for receipt in receipts:
            by_row.setdefault(receipt.row, []).append(self._receipt_put(receipt))
        chunk: list[dict[str, Any]] = []
        for _, items in sorted(by_row.items()):
            if len(chunk) + len(items) > _MAX_ITEMS:
                self._transact_dropping_failed(chunk)
                chunk = []
            chunk.extend(items)
        if chunk:
            self._transact_dropping_failed(chunk)

    def _transact_dropping_failed(self, items: list[dict[str, Any]]) -> None:
        """Write items whose failed conditions mean "done already": drop those, retry."""
        while items:
            reasons = self._transact(items)
            if reasons is None:
                return
            items = [
                i for i, r in zip(items, reasons, strict=True) if r != "ConditionalCheckFailed"
            ]

    def _transact(self, items: list[dict[str, Any]]) -> list[str] | None:
        """One TransactWriteItems; None when it applied, else the cancellation reason
        code of each item ("None" for the innocent ones). Conflicts are retried."""
        reasons = self._cancelled(items)
        return None if reasons is None else [code for code, _ in reasons]

    def _cancelled(self, items: list[dict[str, Any]]) -> list[tuple[str, Any]] | None:
        """One TransactWriteItems; None when it applied, else each item's (reason code,
        the item as it was when its condition failed, if asked with ALL_OLD)."""
        for attempt in range(_CONFLICT_TRIES):
            try:
                self.client.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
                return None
            except ClientError as exc:
                if t.error_code(exc) != "TransactionCanceledException":
                    raise
                reasons = [
                    (str(r.get("Code", "None")), r.get("Item"))
                    for r in exc.response.get("CancellationReasons", [])
                ]
                codes = {code for code, _ in reasons}
                if len(reasons) != len(items):
                    raise
                if "TransactionConflict" in codes and "ConditionalCheckFailed" not in codes:
                    time.sleep(0.02 * 2**attempt)
                    continue
                if not codes <= {"None", "ConditionalCheckFailed", "TransactionConflict"}:
                    raise
                return reasons
        raise RuntimeError("TransactWriteItems: conflicting transactions kept cancelling it")

    def apply(self, writes: Sequence[LeadWrite]) -> list[bool]:
        results: dict[int, bool] = {}
        plans = {index: self._items(w) for index, w in enumerate(writes)}
        pending = list(plans)
        while pending:
            group = self._group(pending, plans)
            items = [item for index in group for item in plans[index]]
            reasons = self._cancelled(items)
            if reasons is None:
                results.update(dict.fromkeys(group, True))
            else:
                at = 0
                for index in group:
                    mine = reasons[at : at + len(plans[index])]
                    at += len(plans[index])
                    if any(code == "ConditionalCheckFailed" for code, _ in mine):
                        results[index] = self._decide(writes[index], plans[index], mine)
                    # else innocent (or in a conflict): it goes again with the rest
            pending = [index for index in pending if index not in results]
        return [results[index] for index in range(len(writes))]

    @staticmethod
    def _group(pending: list[int], plans: Mapping[int, list[dict[str, Any]]]) -> list[int]:
        """The first writes of `pending` that fit one transaction (<= 100 items, no item
        twice: DynamoDB refuses two operations on one item)."""
        group: list[int] = []
        seen: set[str] = set()
        count = 0
        for index in pending:
            items = plans[index]
            targets = {_target(item) for item in items}
            if group and (count + len(items) > _MAX_ITEMS or targets & seen):
                break
            group.append(index)
            seen |= targets
            count += len(items)
        return group

    def _decide(
        self, w: LeadWrite, items: list[dict[str, Any]], reasons: list[tuple[str, Any]]
    ) -> bool:
        """A write whose condition failed: True when it applied already (its receipt is
        in, or the lead holds its stamp), else False. The lead item and the receipt are
        written with ReturnValuesOnConditionCheckFailure ALL_OLD, so the cancellation
        itself tells (no read), except for a create whose key another lead holds."""
        failed: dict[str, Any] = {}
        for item, (code, old) in zip(items, reasons, strict=True):
            if code == "ConditionalCheckFailed":
                (op,) = item.values()
                failed[str(op["TableName"])] = old
        if self.tables.rows in failed:
            return True  # the receipt exists: this very write applied
        if self.tables.leads in failed:
            old = failed[self.tables.leads]
            current = None if old is None else _lead_from_item(old)
            if w.kind == "delete":
                return current is None and w.receipt is None
            if current is not None or w.kind != "create":
                return _stamped(current, w)
        if w.kind == "create" and w.key is not None and self.tables.keys in failed:
            claim = failed[self.tables.keys]
            holder = claim["lead_id"]["S"] if claim else self._claims(w.owner, [w.key]).get(w.key)
            if holder is not None:
                return _stamped(self._leads_by_id(w.owner, [holder]).get(holder), w)
        return False

    def _items(self, w: LeadWrite) -> list[dict[str, Any]]:
        """The transaction items of one write."""
        owner_key = {"owner": {"S": w.owner}, "lead_id": {"S": w.lead_id}}
        items: list[dict[str, Any]] = []
        version = 1
        if w.kind == "create":
            values = {c: _stored(c, v) for c, v in w.values.items()}
            values.update(lead_id=w.lead_id, owner=w.owner, version=1)
            items.append(
                {
                    "Put": {
                        "TableName": self.tables.leads,
                        "Item": t.to_item(values),
                        "ConditionExpression": "attribute_not_exists(lead_id)",
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                }
            )
            if w.key is not None:
                items.append(self._claim_put(w.owner, w.key, w.lead_id))
        else:
            condition, names, values_in = self._condition(w)
            version = (w.expected_version or 0) + 1
            if w.kind == "delete":
                items.append(
                    {
                        "Delete": {
                            "TableName": self.tables.leads,
                            "Key": owner_key,
                            "ConditionExpression": condition,
                            "ExpressionAttributeNames": names,
                            "ExpressionAttributeValues": values_in,
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                        }
                    }
                )
                if w.key is not None:
                    items.append(self._claim_delete(w.owner, w.key, w.lead_id))
            else:
                items.append(self._lead_update(w, owner_key, condition, names, values_in))
                items.extend(self._key_move(w))
        if w.receipt is not None:
            items.append(self._receipt_put(w.receipt))
        if w.audit is not None:
            a = w.audit
            entry = {
                "lead_id": a.lead_id,
                "version": version,
                "owner": w.owner,
                "action": a.action,
                "email": a.email,
                "previous_source_file": a.previous_source_file,
                "new_source_file": a.new_source_file,
                "fields_changed": json.dumps(list(a.fields_changed)),
                "previous": json.dumps(dict(a.previous), ensure_ascii=False, default=str),
                "batch_id": a.batch_id,
                "import_id": a.import_id,
                "import_row": a.row,
                "timestamp": a.timestamp,
            }
            items.append({"Put": {"TableName": self.tables.audit, "Item": t.to_item(entry)}})
        return items

    @staticmethod
    def _condition(w: LeadWrite) -> tuple[str, dict[str, str], dict[str, Any]]:
        """The version check, and the later-row check when the write has a stamp."""
        condition = "#version = :expected"
        names = {"#version": "version"}
        values: dict[str, Any] = {":expected": {"N": str(w.expected_version or 0)}}
        if w.import_id is not None and w.row is not None:
            condition += " AND NOT (#iid = :iid AND #irow > :irow)"
            names.update({"#iid": "import_id", "#irow": "import_row"})
            values.update({":iid": {"S": w.import_id}, ":irow": {"N": str(w.row)}})
        return condition, names, values

    def _lead_update(
        self,
        w: LeadWrite,
        key: dict[str, Any],
        condition: str,
        names: dict[str, str],
        values: dict[str, Any],
    ) -> dict[str, Any]:
        sets = ["#version = #version + :one"]
        removes: list[str] = []
        values = {**values, ":one": {"N": "1"}}
        for n, (column, value) in enumerate(w.values.items()):
            if column in ("lead_id", "owner", "version"):
                continue
            names[f"#c{n}"] = column
            if value is None:
                removes.append(f"#c{n}")
            else:
                sets.append(f"#c{n} = :c{n}")
                values[f":c{n}"] = t.to_value(_stored(column, value))
        expression = "SET " + ", ".join(sets)
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        return {
            "Update": {
                "TableName": self.tables.leads,
                "Key": key,
                "UpdateExpression": expression,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    def _key_move(self, w: LeadWrite) -> list[dict[str, Any]]:
        """An update that touches email or phone may move the lead's key: claim the new
        one, release the old one (read first; the version condition makes the read
        current)."""
        if not _may_move_key(w):
            return []
        current = self._leads_by_id(w.owner, [w.lead_id]).get(w.lead_id)
        if current is None or current["version"] != w.expected_version:
            return []  # the version condition fails the write anyway
        old_key = lead_key(current)
        new_key = lead_key({**current, **w.values})
        if old_key == new_key:
            return []
        items = []
        if new_key is not None:
            items.append(self._claim_put(w.owner, new_key, w.lead_id))
        if old_key is not None:
            items.append(self._claim_delete(w.owner, old_key, w.lead_id))
        return items

    def _claim_put(self, owner: str, key: str, lead_id: str) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self.tables.keys,
                "Item": {"owner": {"S": owner}, "key": {"S": key}, "lead_id": {"S": lead_id}},
                "ConditionExpression": "attribute_not_exists(#k)",
                "ExpressionAttributeNames": {"#k": "key"},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    def _claim_delete(self, owner: str, key: str, lead_id: str) -> dict[str, Any]:
        return {
            "Delete": {
                "TableName": self.tables.keys,
                "Key": {"owner": {"S": owner}, "key": {"S": key}},
                "ConditionExpression": "attribute_not_exists(lead_id) OR lead_id = :id",
                "ExpressionAttributeValues": {":id": {"S": lead_id}},
            }
        }

    def session(self) -> AbstractContextManager[None]:
        return nullcontext()  # every write stands alone on DynamoDB

    # ------------------------------------------------------------------ undo
    def _import_lead_ids(self, owner: str, import_id: str) -> list[str]:
        """The leads an import created (CreatedImportIndex) or updated (audit ImportIndex).

        GSIs are eventually consistent: an undo started within about a second of the
        import's last write may miss its newest leads; running it again finds them."""
        created = t.query_all(
            self.client,
            TableName=self.tables.leads,
            IndexName=t.CREATED_IMPORT_INDEX,
            KeyConditionExpression="created_import_id = :iid",
            ExpressionAttributeValues={":iid": {"S": import_id}},
        )
        ids = [i["lead_id"]["S"] for i in created if i["owner"]["S"] == owner]
        updated = t.query_all(
            self.client,
            TableName=self.tables.audit,
            IndexName=t.AUDIT_IMPORT_INDEX,
            KeyConditionExpression="import_id = :iid",
            ExpressionAttributeValues={":iid": {"S": import_id}},
        )
        ids.extend(i["lead_id"]["S"] for i in updated)
        return list(dict.fromkeys(ids))

    def undo_import(self, owner: str, import_id: str, now: str) -> UndoResult:
        """Plan with domain.undo per chunk of leads, then one conditional transaction per
        lead (its version must be the one planned from). A lead changed in between is
        read and planned again (bounded); idempotent, as plan_undo is."""
        result = UndoResult()
        lead_ids = self._import_lead_ids(owner, import_id)
        for start in range(0, len(lead_ids), 25):
            chunk = lead_ids[start : start + 25]
            for _ in range(_CONFLICT_TRIES):
                done, chunk = self._undo_chunk(owner, import_id, chunk, now)
                result.add(done)
                if not chunk:
                    break
            else:
                raise RuntimeError("undo: leads kept changing while being undone")
        return result

    def _undo_chunk(
        self, owner: str, import_id: str, lead_ids: list[str], now: str
    ) -> tuple[UndoResult, list[str]]:
        """Undo some leads; (what was done, the leads to plan again)."""
        leads = self._leads_by_id(owner, lead_ids)
        trails = {lead_id: self._trail(lead_id) for lead_id in leads}
        entries = {
            lead_id: [
                AuditEntry(
                    e["version"],
                    e["action"],
                    e["import_id"],
                    e["previous"],
                    e["previous_source_file"],
                )
                for e in trail
                if e["owner"] == owner
            ]
            for lead_id, trail in trails.items()
        }
        deletes, restores, conflicts = plan_undo(import_id, leads, entries)
        done = UndoResult(conflicts=list(conflicts))
        again: list[str] = []
        for lead_id in deletes:
            lead = leads[lead_id]
            items = [
                {
                    "Delete": {
                        "TableName": self.tables.leads,
                        "Key": {"owner": {"S": owner}, "lead_id": {"S": lead_id}},
                        "ConditionExpression": "#version = :v",
                        "ExpressionAttributeNames": {"#version": "version"},
                        "ExpressionAttributeValues": {":v": {"N": str(lead["version"])}},
                    }
                }
            ]
            key = lead_key(lead)
            if key is not None:
                items.append(self._claim_delete(owner, key, lead_id))
            if self._transact(items) is None:
                done.deleted += 1
            else:
                again.append(lead_id)
        for restore in restores:
            lead = leads[restore.lead_id]
            values: dict[str, Any] = dict(restore.values)
            values.update(source_file=restore.source_file, updated_at=now, import_id=None)
            write = LeadWrite(
                "update", owner, restore.lead_id, None, values, lead["version"], None, None
            )
            condition, names, bound = self._condition(write)
            key_ = {"owner": {"S": owner}, "lead_id": {"S": restore.lead_id}}
            entry = {
                "lead_id": restore.lead_id,
                "version": lead["version"] + 1,
                "owner": owner,
                "action": UNDONE,
                "email": lead["email"],
                "previous_source_file": lead["source_file"],
                "new_source_file": restore.source_file,
                "fields_changed": json.dumps(restore.fields),
                "previous": json.dumps(restore.replaced, ensure_ascii=False, default=str),
                "restored": json.dumps(restore.values, ensure_ascii=False, default=str),
                "batch_id": "",
                "import_id": import_id,
                "timestamp": now,
            }
            items = [
                self._lead_update(write, key_, condition, names, bound),
                {"Put": {"TableName": self.tables.audit, "Item": t.to_item(entry)}},
            ]
            if self._transact(items) is None:
                done.restored += 1
            else:
                again.append(restore.lead_id)
        return done, again

    def forget_import(self, import_id: str) -> None:
        items = t.query_all(
            self.client,
            TableName=self.tables.rows,
            KeyConditionExpression="import_id = :iid",
            ExpressionAttributeValues={":iid": {"S": import_id}},
            ProjectionExpression="import_id, #i",
            ExpressionAttributeNames={"#i": "item"},
        )
        t.batch_write(self.client, self.tables.rows, [{"DeleteRequest": {"Key": i}} for i in items])


_KEY_NAMES = {
    t.LEADS: ("owner", "lead_id"),
    t.LEAD_KEYS: ("owner", "key"),
    t.LEAD_AUDIT: ("lead_id", "version"),
    t.IMPORT_ROWS: ("import_id", "item"),
}


def _target(item: dict[str, Any]) -> str:
    """The item a transaction entry writes (table and key), to keep one op per item."""
    (op,) = item.values()
    table = str(op["TableName"])
    suffix = next(s for s in sorted(_KEY_NAMES, key=len, reverse=True) if table.endswith(s))
    source = op.get("Key") or op["Item"]
    key = {name: source[name] for name in _KEY_NAMES[suffix]}
    return table + json.dumps(key, sort_keys=True)


def _audit_from_item(item: dict[str, Any]) -> Row:
    raw = t.from_item(item)
    entry: Row = {
        name: raw.get(name)
        for name in (
            "lead_id",
            "version",
            "owner",
            "action",
            "email",
            "previous_source_file",
            "new_source_file",
            "fields_changed",
            "previous",
            "restored",
            "batch_id",
            "import_id",
            "import_row",
            "timestamp",
        )
    }
    entry["fields_changed"] = json.loads(entry["fields_changed"] or "[]")
    entry["previous"] = json.loads(entry["previous"] or "{}")
    if entry["restored"] is not None:
        entry["restored"] = json.loads(entry["restored"])
    return entry


def _audit_document(entry: Row) -> dict[str, Any]:
    row = dict(entry)
    row["fields_changed"] = json.dumps(entry["fields_changed"])
    row["previous"] = json.dumps(entry["previous"], ensure_ascii=False, default=str)
    if entry["restored"] is not None:
        row["restored"] = json.dumps(entry["restored"], ensure_ascii=False, default=str)
    return audit_to_api(row)


# ----------------------------------------------------------------------------- cursors
def encode_cursor(value: str, lead_id: str) -> str:
    """The opaque cursor: the last lead's sort value and id (its table key with the
    owner, i.e. the ExclusiveStartKey of the next Query)."""
    raw = json.dumps(["d", value, lead_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    """(sort value, lead id) of a cursor this adapter handed out; BadCursor otherwise."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        tag, value, lead_id = json.loads(base64.urlsafe_b64decode(padded))
        if tag != "d" or not isinstance(value, str) or has_lone_surrogate(value):
            raise ValueError
        if not isinstance(lead_id, str) or not _LEAD_ID.fullmatch(lead_id):
            raise ValueError
    except (ValueError, TypeError) as exc:
        raise BadCursor("the cursor is not valid; start again without one") from exc
    return value, lead_id


class DynamoLeadReadModel:
    """ports.LeadReadModel on DynamoDB (see the module docstring for costs and limits)."""

    _PAGE = 200  # items per Query request of a filtered createdAt page

    def __init__(self, client: DynamoDBClient, prefix: str = "leadflow") -> None:
        self.client = client
        self.tables = _Tables.named(prefix)

    def _partition(self, owner: str, newest_first: bool = False) -> Iterator[Row]:
        """Every lead of the owner as document rows, in creation order."""
        for item in t.query_all(
            self.client,
            TableName=self.tables.leads,
            KeyConditionExpression="#o = :o",
            ExpressionAttributeNames={"#o": "owner"},
            ExpressionAttributeValues={":o": {"S": owner}},
            ScanIndexForward=not newest_first,
            ConsistentRead=True,
        ):
            yield _document_row(item)

    def get_lead(self, owner: str, lead_id: str) -> dict[str, Any] | None:
        answer = self.client.get_item(
            TableName=self.tables.leads,
            Key={"owner": {"S": owner}, "lead_id": {"S": lead_id}},
            ConsistentRead=True,
        )
        item = answer.get("Item")
        return None if item is None else lead_to_api(_document_row(item))

    def lead_history(self, owner: str, lead_id: str) -> list[dict[str, Any]]:
        items = t.query_all(
            self.client,
            TableName=self.tables.audit,
            KeyConditionExpression="lead_id = :id",
            ExpressionAttributeValues={":id": {"S": lead_id}},
            ConsistentRead=True,
        )
        trail = [_audit_from_item(i) for i in items]
        return [_audit_document(e) for e in trail if e["owner"] == owner]

    def count_leads(self, owner: str) -> int:
        total = 0
        arguments: dict[str, Any] = {
            "TableName": self.tables.leads,
            "KeyConditionExpression": "#o = :o",
            "ExpressionAttributeNames": {"#o": "owner"},
            "ExpressionAttributeValues": {":o": {"S": owner}},
            "Select": "COUNT",
            "ConsistentRead": True,
        }
        while True:
            answer = self.client.query(**arguments)
            total += int(answer.get("Count", 0))
            last = answer.get("LastEvaluatedKey")
            if not last:
                return total
            arguments["ExclusiveStartKey"] = last

    def find_leads(
        self,
        owner: str,
        company: str | None = None,
        title: str | None = None,
        since: str | None = None,
        limit: int = 50,
    ) -> tuple[int, list[dict[str, Any]]]:
        found = [
            row
            for row in self._partition(owner, newest_first=True)
            if found_by(row, company, title, since)
        ]
        newest = found if limit < 0 else found[:limit]
        return len(found), [lead_to_api(row) for row in newest]

    def top_companies(self, owner: str, limit: int = 10) -> list[tuple[str, int]]:
        counts: dict[str, list[Any]] = {}
        for row in self._partition(owner):
            if row["company"]:
                entry = counts.setdefault(fold(row["company"]), [row["company"], 0])
                entry[1] += 1
        ranked = sorted(counts.values(), key=lambda e: (-e[1], e[0]))
        ranked = ranked if limit < 0 else ranked[:limit]
        return [(str(name), int(n)) for name, n in ranked]

    def list_leads(self, owner: str, query: LeadQuery) -> tuple[list[dict[str, Any]], str | None]:
        column = _SORTS[query.sort]
        after = decode_cursor(query.cursor) if query.cursor else None
        if column == "lead_id":
            rows = self._created_page(owner, query, after)
        else:
            rows = self._sorted_page(owner, query, column, after)
        if query.limit < 0 or len(rows) <= query.limit:
            return [lead_to_api(r) for r in rows], None
        rows = rows[: query.limit]
        last = rows[-1]
        value = "" if column == "lead_id" else last[column] or ""
        return [lead_to_api(r) for r in rows], encode_cursor(value, last["lead_id"])

    def _created_page(
        self, owner: str, query: LeadQuery, after: tuple[str, str] | None
    ) -> list[Row]:
        """Up to limit + 1 matching leads in creation order, from a Query that starts
        after the cursor's lead and reads on until the page is full."""
        arguments: dict[str, Any] = {
            "TableName": self.tables.leads,
            "KeyConditionExpression": "#o = :o",
            "ExpressionAttributeNames": {"#o": "owner"},
            "ExpressionAttributeValues": {":o": {"S": owner}},
            "ScanIndexForward": not query.descending,
            "ConsistentRead": True,
        }
        if after is not None:
            arguments["ExclusiveStartKey"] = {"owner": {"S": owner}, "lead_id": {"S": after[1]}}
        wanted = query.limit + 1
        filtered = bool(query.q or query.company or query.source) or (
            query.opt_in is not None or query.phone_valid is not None
        )
        rows: list[Row] = []
        while query.limit < 0 or len(rows) < wanted:
            if query.limit >= 0:
                arguments["Limit"] = self._PAGE if filtered else wanted - len(rows)
            answer = self.client.query(**arguments)
            for item in answer.get("Items", []):
                row = _document_row(item)
                if passes(row, query):
                    rows.append(row)
            last = answer.get("LastEvaluatedKey")
            if not last:
                break
            arguments["ExclusiveStartKey"] = last
        return rows if query.limit < 0 else rows[:wanted]

    def _sorted_page(
        self, owner: str, query: LeadQuery, column: str, after: tuple[str, str] | None
    ) -> list[Row]:
        """Every matching lead sorted by (column or '', lead id), the page after the
        cursor: a read of the owner's whole partition (see the module docstring)."""

        def position(row: Row) -> tuple[str, str]:
            return (row[column] or "", row["lead_id"])

        rows = [row for row in self._partition(owner) if passes(row, query)]
        if after is not None:
            if query.descending:
                rows = [row for row in rows if position(row) < after]
            else:
                rows = [row for row in rows if position(row) > after]
        rows.sort(key=position, reverse=query.descending)
        return rows if query.limit < 0 else rows[: query.limit + 1]
