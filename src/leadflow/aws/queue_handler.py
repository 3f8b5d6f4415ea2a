"""SQS (jobs queue) -> the worker's handling of one message, with partial batch failures.

Powertools' batch utility runs each record on its own and answers the failed ones'
ids (ReportBatchItemFailures): SQS redelivers only those, and a message received
LEADFLOW_MAX_RECEIVE_COUNT times moves to the DLQ by the queue's redrive policy. The
other records of the event are deleted: one bad message does not redeliver its
neighbours. Effects stay exactly-once through the batch ledger, as locally.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from ..jobs.worker import Worker
from ..ports import Message
from . import runtime

processor = BatchProcessor(event_type=EventType.SQS)


def message_of(record: SQSRecord) -> Message:
    """The queue message an SQS record carries (owner from the `owner` attribute)."""
    owner = record.raw_event.get("messageAttributes", {}).get("owner", {}).get("stringValue")
    fields: dict[str, Any] = {
        "id": record.message_id,  # SQS ids are strings
        "receipt": record.receipt_handle,
        "body": json.loads(record.body),
        "receive_count": int(record.attributes.approximate_receive_count or 1),
        "owner": owner if isinstance(owner, str) else None,
    }
    return Message(**fields)


def record_handler(record: SQSRecord) -> None:
    """One message through the worker; an exception marks only this record failed."""
    Worker(runtime.services()).handle(message_of(record))


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point: {"batchItemFailures": [{"itemIdentifier": id}, ...]}."""
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)
