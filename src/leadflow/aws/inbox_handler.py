"""S3 event notifications (through the inbox queue) -> the inbox's per-file handling.

The bucket notifies the inbox queue of each object created under inbox/leads/ or
inbox/orders/. Each object is copied into this container's inbox folder and run by the
same code as a dropped file locally (jobs/inbox.py): a file that cannot be read or holds
bad values is rejected with its reason (logged; not retried: no retry would fix it); a
failure of the store fails only this record, and SQS tries it again, then moves it to
the inbox DLQ. Running a file twice changes nothing (its import id is its content's).
"""

from __future__ import annotations

import logging
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from ..bootstrap import inbox_ports
from ..jobs.inbox import Inbox
from . import inbox_objects, runtime
from .inbox_objects import Opener, object_keys, s3_opener

__all__ = ["handler", "object_keys", "record_handler", "run_object"]

log = logging.getLogger("leadflow.aws.inbox")
processor = BatchProcessor(event_type=EventType.SQS)
_inbox: Inbox | None = None


def _opener() -> Opener:
    """How this container reads inbox objects: S3 by key on the aws backend, the blob
    store on the local one (the handler tests run there)."""
    services = runtime.services()
    aws = services.aws
    return services.blobs.open if aws is None else s3_opener(aws.s3, aws.bucket)


def run_object(inbox: Inbox, key: str) -> None:
    """Run one inbox object (`inbox/<kind>/<name>`) like a file dropped in the inbox
    (inbox_objects.run_object, with this container's way of reading objects)."""
    inbox_objects.run_object(inbox, _opener(), key)


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
