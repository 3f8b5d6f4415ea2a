"""S3 event notifications (through the inbox queue) -> the inbox's per-file handling.

The bucket notifies the inbox queue of each object created under inbox/leads/ or
inbox/orders/. Each object is copied into this container's inbox folder and run by the
same code as a dropped file locally (jobs/inbox.py): a file that cannot be read or holds
bad values is rejected with its reason (logged; not retried: no retry would fix it); a
failure of the store fails only this record, and SQS tries it again, then moves it to
the inbox DLQ. Running a file twice changes nothing (its import id is its content's).
"""

from __future__ import annotations

import json
import logging
import shutil
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from ..bootstrap import inbox_ports
from ..jobs.inbox import KINDS, Inbox
from . import runtime

log = logging.getLogger("leadflow.aws.inbox")
processor = BatchProcessor(event_type=EventType.SQS)
_inbox: Inbox | None = None


def object_keys(body: str) -> list[str]:
    """The object keys an S3 event notification names (none for S3's test event)."""
    event = json.loads(body)
    return [
        unquote_plus(record["s3"]["object"]["key"])  # S3 sends keys URL-encoded
        for record in event.get("Records", [])
        if str(record.get("eventName", "")).startswith("ObjectCreated")
    ]


def run_object(inbox: Inbox, key: str) -> None:
    """Run one inbox object (`inbox/<kind>/<name>`) like a file dropped in the inbox."""
    parts = key.split("/")
    if len(parts) != 3 or parts[0] != "inbox" or parts[1] not in KINDS or not parts[2]:
        return  # not a file of the inbox (a folder marker, a nested key): nothing to do
    kind, name = parts[1], parts[2]
    claimed_dir = inbox.root / kind / "processing" / "lambda"
    claimed_dir.mkdir(parents=True, exist_ok=True)
    claimed = claimed_dir / name
    try:
        source = runtime.services().blobs.open(key)
    except FileNotFoundError:  # deleted since S3 told us: nothing left to run
        log.warning("inbox object is gone", extra={"key": key})
        return
    with source, claimed.open("wb") as target:
        shutil.copyfileobj(source, target)
    inbox.process(kind, claimed)  # raises only when the store is unavailable


def record_handler(record: SQSRecord) -> None:
    global _inbox
    if _inbox is None:
        _inbox = Inbox(inbox_ports(runtime.services()))
    for key in object_keys(record.body):
        run_object(_inbox, key)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point: partial batch failures, as the queue worker."""
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)
