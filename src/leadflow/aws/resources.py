"""The AWS resources leadflow uses, named in one place (no boto3 here).

`deploy/aws/template.yaml` declares the same resources for a deployment, and
`leadflow aws init` creates them against `AWS_ENDPOINT_URL` (a moto server) for local
development; tests/aws/test_template.py checks that the two agree. Every name starts
with the prefix (LEADFLOW_AWS_PREFIX, default `leadflow`).
"""

from __future__ import annotations

from dataclasses import dataclass

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


# Table suffix -> shape. These mirror the adapters' own definitions, which are the
# authority (adapters/dynamo_tables.py: the lead aggregate; adapters/dynamo_tables_rest.py:
# the other ports; built on other branches); tests/aws/test_template.py holds the SAM
# template to this table.
TABLES: dict[str, TableSpec] = {
    # the lead aggregate
    "leads": TableSpec(
        ("owner", "S"),
        ("lead_id", "S"),
        (
            Index("EmailIndex", ("owner", "S"), ("email", "S"), "KEYS_ONLY"),
            Index("CreatedImportIndex", ("created_import_id", "S"), ("lead_id", "S"), "KEYS_ONLY"),
        ),
    ),
    "lead-keys": TableSpec(("owner", "S"), ("key", "S")),
    "lead-audit": TableSpec(
        ("lead_id", "S"),
        ("version", "N"),
        (Index("ImportIndex", ("import_id", "S"), ("lead_id", "S"), "KEYS_ONLY"),),
    ),
    "import-rows": TableSpec(("import_id", "S"), ("item", "S")),
    "schema-errors": TableSpec(
        ("import_id", "S"), ("row", "N"), (Index("OwnerIndex", ("owner", "S"), ("id", "N")),)
    ),
    "ledger": TableSpec(("job_id", "S"), ("batch_no", "N")),
    # the other ports
    "processing-status": TableSpec(
        ("job_id", "S"),
        None,
        (
            Index("OwnerIndex", ("owner", "S"), ("created_key", "S")),
            Index("ExpiryIndex", ("expiry", "S"), ("ttl", "N")),
        ),
        ttl_attribute="ttl",
    ),
    "outbox": TableSpec(
        ("idem_key", "S"), None, (Index("DueIndex", ("due", "S"), ("due_at", "N")),)
    ),
    "alarms": TableSpec(("name", "S")),
    "orders": TableSpec(
        ("owner", "S"),
        ("order_key", "S"),
        (Index("NumberIndex", ("owner", "S"), ("order_no", "N")),),
    ),
    "provider-cache": TableSpec(("provider", "S"), ("input_hash", "S")),
    "users": TableSpec(("pk", "S"), ("username", "S")),
    "mappings": TableSpec(("owner", "S"), ("name", "S")),
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
