"""The AWS resources leadflow uses, named in one place (no boto3 here).

`deploy/aws/template.yaml` declares the same resources for a deployment, and
`leadflow aws init` creates them against `AWS_ENDPOINT_URL` (a moto server) for local
development; tests/aws/test_template.py checks that the two agree. Every name starts
with the prefix (LEADFLOW_AWS_PREFIX, default `leadflow`). The tables, queues and bucket
are named as the adapters name them (tests/aws/test_backend_e2e.py runs the adapters on
what `aws init` created).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..adapters import dynamo_tables as lead_tables  # plain data: no boto3 imported
from ..adapters import dynamo_tables_rest as rest_tables

Key = tuple[str, str]  # (attribute name, DynamoDB type "S" | "N")


@dataclass(frozen=True, slots=True)
class Index:
    """A global secondary index: its hash and range attributes, and what it projects."""

    name: str
    hash_key: Key
    range_key: Key
    projection: str = "ALL"


@dataclass(frozen=True, slots=True)
class TableSpec:
    """One DynamoDB table (on-demand): its keys, indexes and TTL attribute."""

    hash_key: Key
    range_key: Key | None = None
    indexes: tuple[Index, ...] = ()
    ttl_attribute: str | None = None


def _spec(arguments: Mapping[str, Any], ttl: str | None = None) -> TableSpec:
    """A TableSpec from an adapter module's create_table arguments."""
    types = {d["AttributeName"]: d["AttributeType"] for d in arguments["AttributeDefinitions"]}

    def keys(schema: list[dict[str, str]]) -> tuple[Key, Key | None]:
        by_type = {k["KeyType"]: (k["AttributeName"], types[k["AttributeName"]]) for k in schema}
        return by_type["HASH"], by_type.get("RANGE")

    indexes = []
    for index in arguments.get("GlobalSecondaryIndexes", []):
        hash_key, range_key = keys(index["KeySchema"])
        assert range_key is not None  # every index of ours has a sort key
        projection = index["Projection"]["ProjectionType"]
        indexes.append(Index(index["IndexName"], hash_key, range_key, projection))
    hash_key, range_key = keys(arguments["KeySchema"])
    return TableSpec(hash_key, range_key, tuple(indexes), ttl)


# Table suffix -> shape, derived from the adapters' own definitions, which are the
# authority (adapters/dynamo_tables.py: the lead aggregate; adapters/dynamo_tables_rest.py:
# the other ports), so `aws init` creates exactly the tables the adapters use;
# tests/aws/test_template.py holds the SAM template to this table.
TABLES: dict[str, TableSpec] = {
    **{suffix: _spec(arguments) for suffix, arguments in lead_tables.TABLES.items()},
    **{table["suffix"]: _spec(table["spec"], table["ttl"]) for table in rest_tables.TABLES},
}

JOBS_QUEUE = "jobs"  # batches of jobs; redrives to DLQ
DLQ = "jobs-dlq"
INBOX_QUEUE = "inbox"  # S3 event notifications for inbox/leads/ and inbox/orders/
INBOX_DLQ = "inbox-dlq"
QUEUES = (JOBS_QUEUE, DLQ, INBOX_QUEUE, INBOX_DLQ)
REDRIVES = {JOBS_QUEUE: DLQ, INBOX_QUEUE: INBOX_DLQ}  # queue -> its dead-letter queue

BLOBS_BUCKET = "blobs"
INBOX_PREFIXES = ("inbox/leads/", "inbox/orders/")
# prefix -> days after which S3 deletes the object (uploads and results expire)
LIFECYCLE_DAYS = {"uploads/": 7, "staged/": 1, "results/": 30}
ALARM_TOPIC = "alarms"
SECRET_NAME = "secret-key"  # Secrets Manager: "{prefix}/secret-key"


def table_name(prefix: str, suffix: str) -> str:
    """`leadflow-leads` for ("leadflow", "leads"); KeyError for an unknown table."""
    if suffix not in TABLES:
        raise KeyError(suffix)
    return f"{prefix}-{suffix}"


def queue_name(prefix: str, queue: str) -> str:
    """`leadflow-jobs` for ("leadflow", JOBS_QUEUE)."""
    return f"{prefix}-{queue}"


def bucket_name(prefix: str) -> str:
    """The blob bucket (uploads/, results/, staged/, enriched/, inbox/)."""
    return f"{prefix}-{BLOBS_BUCKET}"


def topic_name(prefix: str) -> str:
    """The SNS topic the DLQ alarms publish to."""
    return f"{prefix}-{ALARM_TOPIC}"


def secret_name(prefix: str) -> str:
    """The Secrets Manager secret holding the signing key."""
    return f"{prefix}/{SECRET_NAME}"
