"""Step Functions task handlers: each state of deploy/aws/*.asl.json, a few lines over the
shared pipelines.

Seed 000's opt-in workflow (optin.asl.json): validate -> (log schema errors | remove
duplicates) -> a Map storing the opt-in records in batches. Records travel between the
states as they came ({"row", "record"}) and are shaped again where needed: shaping is
deterministic and cheap, and no domain object has to be serialized. Every write goes
through the batch ledger under the workflow's import id, so a retried state changes
nothing twice.

Seed 003's orders workflow (orders.asl.json): per record, store a complete order or
raise IncompleteOrder, whose Catch sends the record to the DLQ.

Seed 001's enrichment (enrichment.asl.json): enrich one contact with a provider.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from ..clock import utc_now
from ..domain.lead import LeadDraft, Rejection
from ..domain.merge import last_occurrences
from ..domain.optin_schema import check_body
from ..domain.orders import IncompleteOrder as Incomplete
from ..domain.orders import Order, parse_order
from ..pipelines.importing import (
    ImportOptions,
    ImportSpec,
    PipelineName,
    batch_counts,
    lead_batch,
    validate_batch,
)
from ..pipelines.shaping import RecordShaper
from ..pipelines.upsert import write_batches
from ..providers import registry
from . import runtime

STORE_BATCH = 25  # records per Map item: one DynamoDB transaction's worth of leads
STORED = ("created", "updated", "unchanged")


class IncompleteOrder(Exception):
    """An order record without its contact or order information (the state's Catch)."""


def validate(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """{"owner", "records", "source"?} -> {"owner", "importId", "source", "received",
    "valid": [{"row", "record"}], "rejected": [{"row", "record"}]}; NotAList for a body
    that is not a non-empty list."""
    records = check_body(event.get("records"))
    job = _job(event, str(uuid.uuid4()))
    drafts, rejections = _shape(job, list(enumerate(records)))
    return {
        "owner": job.options.owner,
        "importId": job.import_id,
        "source": job.options.source,
        "received": len(records),
        "valid": [{"row": d.row, "record": records[d.row]} for d in drafts],
        "rejected": [{"row": r.row, "record": r.record} for r in rejections],
    }


def log_schema_errors(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """The rejected records into the schema-error log (the import's batch 0).

    -> {"invalid": [{"index", "errors": [{"field", "message"}]}]}, as POST /v1/records.
    """
    job = _job(event, event["importId"])
    _, rejections = _shape(job, _rows(event["rejected"]))
    if rejections:
        write_batches(runtime.services().write_ports(), [lead_batch(job, ([], rejections), 0)])
    return {
        "invalid": [{"index": r.row, "errors": [e.as_dict() for e in r.errors]} for r in rejections]
    }


def remove_duplicates(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """The last occurrence of each key survives; of those, the opted-in ones go on in
    batches of STORE_BATCH. -> {"importId", "received", "valid", "duplicates", "ignored",
    "batches": [{"owner", "importId", "source", "batchNo", "rows"}]}."""
    job = _job(event, event["importId"])
    drafts, _ = _shape(job, _rows(event["valid"]))
    survivors, losers = last_occurrences(drafts)
    opted_in = sorted((d for d in survivors if d.opt_in), key=lambda d: d.row)
    records = {row["row"]: row["record"] for row in event["valid"]}
    batches = [
        {
            "owner": job.options.owner,
            "importId": job.import_id,
            "source": job.options.source,
            "batchNo": 1 + start // STORE_BATCH,  # batch 0 is the schema errors'
            "rows": [{"row": d.row, "record": records[d.row]} for d in chunk],
        }
        for start in range(0, len(opted_in), STORE_BATCH)
        if (chunk := opted_in[start : start + STORE_BATCH])
    ]
    return {
        "importId": job.import_id,
        "received": event["received"],
        "valid": len(drafts),
        "duplicates": len(losers),
        "ignored": len(survivors) - len(opted_in),
        "batches": batches,
    }


def store_optins(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """One Map item: its opt-in records upserted as one ledgered batch of the import.

    -> {"batchNo", "created", "updated", "unchanged"}; a retried item (already in the
    ledger) answers the counts its first run recorded."""
    job = _job(event, event["importId"])
    batch_no = int(event["batchNo"])
    rows = _rows(event["rows"])
    drafts, _ = _shape(job, rows)
    services = runtime.services()
    (result,) = write_batches(services.write_ports(), [lead_batch(job, (drafts, []), batch_no)])
    counts = batch_counts(result)
    if counts is not None:
        return {
            "batchNo": batch_no,
            "created": counts.created,
            "updated": counts.updated,
            "unchanged": counts.unchanged,
        }
    mine = {row for row, _ in rows}
    outcomes = [o for row, o, _ in services.ledger.outcomes(job.import_id) if row in mine]
    return {"batchNo": batch_no} | {name: outcomes.count(name) for name in STORED}


def store_order(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """{"owner", "source", "index", "record"} -> {"index", "outcome": "stored" |
    "duplicate"}; IncompleteOrder (with the reasons) for an incomplete record."""
    checked = parse_order(event.get("record"))
    if isinstance(checked, Incomplete):
        raise IncompleteOrder(checked.reason)
    orders: Sequence[Order] = [checked]
    stored = runtime.services().orders.save(event["owner"], event["source"], orders, utc_now())
    return {"index": event["index"], "outcome": "stored" if stored else "duplicate"}


def dead_letter_order(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """The Catch of IncompleteOrder: the record to the DLQ with its reasons, as the
    orders pipeline sends it. -> {"index", "outcome": "incomplete", "reasons"}."""
    record = event.get("record")
    checked = parse_order(record)
    reasons = checked.reasons if isinstance(checked, Incomplete) else ["incomplete order"]
    body = {
        "kind": "order",
        "source": event["source"],
        "index": event["index"],
        "record": json.loads(json.dumps(record, default=str)),
    }
    runtime.services().dead_letters.add([body], event["owner"], "; ".join(reasons))
    return {"index": event["index"], "outcome": "incomplete", "reasons": reasons}


def enrich_contact(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """{"provider", "contact"} -> the contact with its enrichment beside it:
    {"contact", "enrichment"}. UnknownProvider for a provider name leadflow lacks."""
    provider = registry.create(event["provider"], runtime.services().settings)
    contact = dict(event["contact"])
    (enrichment,) = provider.enrich_batch([contact])
    return {"contact": contact, "enrichment": enrichment}


def _job(event: dict[str, Any], import_id: str) -> ImportSpec:
    settings = runtime.services().settings
    options = ImportOptions(
        owner=str(event["owner"]),
        pipeline=PipelineName.OPTIN,
        source=str(event.get("source") or "api"),
        region=settings.default_region,
    )
    return ImportSpec(options, import_id, None, None, spreadsheet=False)


def _rows(rows: Sequence[dict[str, Any]]) -> list[tuple[int, Any]]:
    return [(int(row["row"]), row["record"]) for row in rows]


def _shape(
    job: ImportSpec, batch: list[tuple[int, Any]]
) -> tuple[list[LeadDraft], list[Rejection]]:
    return validate_batch(batch, job, RecordShaper())
