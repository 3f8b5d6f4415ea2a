"""The lead aggregate's DynamoDB tables, defined once: `leadflow aws init`, the SAM
template and the adapters (dynamo_leads, dynamo_ledger, dynamo_schema_errors) all use
these names and keys.

Every table is named `{prefix}-{suffix}` (prefix: LEADFLOW_AWS_PREFIX) and billed on
demand. The tables and why they are shaped so:

- `leads`: one item per lead, partition `owner`, sort `lead_id` (a UUIDv7, so a Query of
  an owner's partition reads leads in creation order: the createdAt listing pages
  natively). `version` (N) moves with every write; `import_id`/`import_row` are the
  last-writer stamp the conditions check. GSI `EmailIndex` (owner, email; sparse: leads
  with an email) and sparse GSI `CreatedImportIndex` (created_import_id, lead_id; what an
  undo deletes). Keys only in both: the items are read from the table.
- `lead-keys`: the key claims that make a key unique per owner: (owner, key) -> lead_id,
  written with attribute_not_exists in the same transaction as the lead it names.
- `lead-audit`: a lead's history, partition `lead_id`, sort `version` (the lead version
  the entry's write produced: oldest first, and the same write always lands on the same
  item). GSI `ImportIndex` (import_id, lead_id; what an undo restores).
- `import-rows`: per import, its row receipts (`r#<row>`) and skips (`s#<owner>#<key>`);
  forget_import deletes the partition.
- `schema-errors`: rejected records, partition `import_id`, sort `row` (written once);
  GSI `OwnerIndex` (owner, id) lists an owner's newest first.
- `ledger`: the batch ledger, partition `job_id`, sort `batch_no`; a job's totals are a
  Query summing its entries (no counter item).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from botocore.exceptions import ClientError
    from mypy_boto3_dynamodb import DynamoDBClient

LEADS = "leads"
LEAD_KEYS = "lead-keys"
LEAD_AUDIT = "lead-audit"
IMPORT_ROWS = "import-rows"
SCHEMA_ERRORS = "schema-errors"
LEDGER = "ledger"

EMAIL_INDEX = "EmailIndex"
CREATED_IMPORT_INDEX = "CreatedImportIndex"
AUDIT_IMPORT_INDEX = "ImportIndex"
ERRORS_OWNER_INDEX = "OwnerIndex"


def _attributes(**types: str) -> list[dict[str, str]]:
    return [{"AttributeName": name, "AttributeType": kind} for name, kind in types.items()]


def _keys(hash_key: str, range_key: str | None = None) -> list[dict[str, str]]:
    keys = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key is not None:
        keys.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return keys


def _index(name: str, hash_key: str, range_key: str, projection: str) -> dict[str, Any]:
    return {
        "IndexName": name,
        "KeySchema": _keys(hash_key, range_key),
        "Projection": {"ProjectionType": projection},
    }


# suffix -> create_table arguments without TableName and BillingMode
TABLES: dict[str, dict[str, Any]] = {
    LEADS: {
        "AttributeDefinitions": _attributes(
            owner="S", lead_id="S", email="S", created_import_id="S"
        ),
        "KeySchema": _keys("owner", "lead_id"),
        "GlobalSecondaryIndexes": [
            _index(EMAIL_INDEX, "owner", "email", "KEYS_ONLY"),
            _index(CREATED_IMPORT_INDEX, "created_import_id", "lead_id", "KEYS_ONLY"),
        ],
    },
    LEAD_KEYS: {
        "AttributeDefinitions": _attributes(owner="S", key="S"),
        "KeySchema": _keys("owner", "key"),
    },
    LEAD_AUDIT: {
        "AttributeDefinitions": _attributes(lead_id="S", version="N", import_id="S"),
        "KeySchema": _keys("lead_id", "version"),
        "GlobalSecondaryIndexes": [
            _index(AUDIT_IMPORT_INDEX, "import_id", "lead_id", "KEYS_ONLY"),
        ],
    },
    IMPORT_ROWS: {
        "AttributeDefinitions": _attributes(import_id="S", item="S"),
        "KeySchema": _keys("import_id", "item"),
    },
    SCHEMA_ERRORS: {
        "AttributeDefinitions": _attributes(import_id="S", row="N", owner="S", id="N"),
        "KeySchema": _keys("import_id", "row"),
        "GlobalSecondaryIndexes": [_index(ERRORS_OWNER_INDEX, "owner", "id", "ALL")],
    },
    LEDGER: {
        "AttributeDefinitions": _attributes(job_id="S", batch_no="N"),
        "KeySchema": _keys("job_id", "batch_no"),
    },
}


def table_name(prefix: str, suffix: str) -> str:
    """The full name of one of TABLES: `{prefix}-{suffix}`."""
    return f"{prefix}-{suffix}"


def create_tables(client: DynamoDBClient, prefix: str) -> list[tuple[str, bool]]:
    """Create the lead aggregate's tables (on-demand billing) and wait until they are
    active; (name, created) per table, created False when it existed already.

    Errors of the API other than ResourceInUseException propagate (ClientError).
    """
    # imported here: the table definitions above are read without botocore
    # (leadflow.aws.resources, which a local install imports)
    from botocore.exceptions import ClientError

    done: list[tuple[str, bool]] = []
    for suffix, spec in TABLES.items():
        name = table_name(prefix, suffix)
        try:
            client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **spec)
            created = True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceInUseException":
                raise
            created = False
        done.append((name, created))
    waiter = client.get_waiter("table_exists")
    for name, _ in done:
        waiter.wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    return done


# ----------------------------------------------------------------------------- items
# Items travel in the client's wire format ({"S": ...}); Python values map as: str -> S,
# bool -> BOOL, int -> N, list of str -> L, dict of int -> M. None is left out of an item
# (a GSI key must be absent, never NULL) and reads back as None.


def to_value(value: Any) -> dict[str, Any]:
    """One Python value as an AttributeValue (str, bool, int, list, dict of those)."""
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, list | tuple):
        return {"L": [to_value(v) for v in value]}
    if isinstance(value, dict):
        return {"M": {str(k): to_value(v) for k, v in value.items()}}
    if value is None:
        return {"NULL": True}
    raise TypeError(f"no DynamoDB form for {type(value).__name__}")


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    """A dict as an item, None values left out."""
    return {k: to_value(v) for k, v in values.items() if v is not None}


def from_value(value: dict[str, Any]) -> Any:
    """An AttributeValue as a Python value (numbers as int)."""
    kind, raw = next(iter(value.items()))
    if kind == "S":
        return raw
    if kind == "N":
        return int(raw)
    if kind == "BOOL":
        return bool(raw)
    if kind == "NULL":
        return None
    if kind == "L":
        return [from_value(v) for v in raw]
    if kind == "M":
        return {k: from_value(v) for k, v in raw.items()}
    raise TypeError(f"unexpected DynamoDB type {kind}")


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: from_value(v) for k, v in item.items()}


# ----------------------------------------------------------------------------- requests
_BATCH_GET = 100  # BatchGetItem's limit
_BATCH_WRITE = 25  # BatchWriteItem's limit
_UNPROCESSED_TRIES = 8


def batch_get(
    client: DynamoDBClient, table: str, keys: list[dict[str, Any]], consistent: bool = True
) -> list[dict[str, Any]]:
    """The items with these keys (wire format), in no particular order; missing ones are
    left out. 100 keys a request; unprocessed keys are asked again (with a short backoff)."""
    found: list[dict[str, Any]] = []
    for start in range(0, len(keys), _BATCH_GET):
        pending: dict[str, Any] = {
            table: {"Keys": keys[start : start + _BATCH_GET], "ConsistentRead": consistent}
        }
        for attempt in range(_UNPROCESSED_TRIES):
            answer = client.batch_get_item(RequestItems=pending)
            found.extend(answer.get("Responses", {}).get(table, []))
            pending = dict(answer.get("UnprocessedKeys") or {})
            if not pending:
                break
            time.sleep(0.05 * 2**attempt)
        else:
            raise RuntimeError(f"{table}: keys left unprocessed after {_UNPROCESSED_TRIES} tries")
    return found


def batch_write(client: DynamoDBClient, table: str, requests: list[dict[str, Any]]) -> None:
    """Unconditional puts and deletes ({"PutRequest": ...} / {"DeleteRequest": ...}),
    25 a request; unprocessed ones are sent again (with a short backoff)."""
    for start in range(0, len(requests), _BATCH_WRITE):
        pending: dict[str, Any] = {table: requests[start : start + _BATCH_WRITE]}
        for attempt in range(_UNPROCESSED_TRIES):
            answer = client.batch_write_item(RequestItems=pending)
            pending = dict(answer.get("UnprocessedItems") or {})
            if not pending:
                break
            time.sleep(0.05 * 2**attempt)
        else:
            raise RuntimeError(f"{table}: writes left unprocessed after {_UNPROCESSED_TRIES} tries")


def query_all(client: DynamoDBClient, **arguments: Any) -> Iterator[dict[str, Any]]:
    """Every item a Query finds, page after page (wire format)."""
    while True:
        answer = client.query(**arguments)
        yield from answer.get("Items", [])
        last = answer.get("LastEvaluatedKey")
        if not last:
            return
        arguments["ExclusiveStartKey"] = last


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
