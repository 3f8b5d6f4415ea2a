"""The AWS resources leadflow uses, named in one place (no boto3 here).

`deploy/aws/template.yaml` declares the same resources for a deployment, and
`leadflow aws init` creates them against `AWS_ENDPOINT_URL` (a moto server) for local
development; tests/aws/test_template.py checks that the two agree. Every name starts
with the prefix (LEADFLOW_AWS_PREFIX, default `leadflow`).
"""

from __future__ import annotations

from dataclasses import dataclass

HASH_KEY = "pk"  # every table: a string partition key ...
RANGE_KEY = "sk"  # ... and a string sort key; adapters shape the key values


@dataclass(frozen=True, slots=True)
class Index:
    """A global secondary index: string hash and range attributes, projection ALL."""

    name: str
    hash_key: str
    range_key: str


@dataclass(frozen=True, slots=True)
class TableSpec:
    """One DynamoDB table: its name after the prefix, its indexes and TTL attribute."""

    suffix: str
    indexes: tuple[Index, ...] = ()
    ttl_attribute: str | None = None


# logical name -> table; the template's logical ids are these in CamelCase + "Table"
TABLES: dict[str, TableSpec] = {
    "leads": TableSpec("leads", (Index("EmailIndex", "owner", "email"),)),
    "processing_status": TableSpec("processing-status", ttl_attribute="ttl"),
    "ledger": TableSpec("ledger"),
    "schema_errors": TableSpec("schema-errors"),
    "outbox": TableSpec("outbox"),
    "orders": TableSpec("orders"),
    "provider_cache": TableSpec("provider-cache", ttl_attribute="ttl"),
    "users": TableSpec("users"),
    "mappings": TableSpec("mappings"),
}

JOBS_QUEUE = "jobs"  # batches of jobs; redrives to DLQ
DLQ = "dlq"
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


def table_name(prefix: str, logical: str) -> str:
    """`leadflow-leads` for ("leadflow", "leads"); KeyError for an unknown table."""
    return f"{prefix}-{TABLES[logical].suffix}"


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
