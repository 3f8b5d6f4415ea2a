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

from ..bootstrap import worker_ports
from ..jobs.worker import Worker
from ..ports import Message
from . import runtime

processor = BatchProcessor(event_type=EventType.SQS)
OWNER_ATTRIBUTE = "owner"  # as the SQS queue adapter sends them
TRIES_ATTRIBUTE = "leadflow-tries"


def message_of(record: SQSRecord) -> Message:
    """The queue message an SQS record carries, as the SQS queue adapter reads one: the
    owner from the `owner` attribute, and the receive count as the tries its earlier
    copies used (`leadflow-tries`, set when a message is released or failed by copy)
    plus SQS's ApproximateReceiveCount."""
    attributes = record.raw_event.get("messageAttributes") or {}

    def text(name: str) -> str | None:
        value = (attributes.get(name) or {}).get("stringValue")
        return value if isinstance(value, str) else None

    tries = int(text(TRIES_ATTRIBUTE) or 0)
    fields: dict[str, Any] = {
        "id": record.message_id,  # SQS ids are strings
        "receipt": record.receipt_handle,
        "body": json.loads(record.body),
        "receive_count": tries + int(record.attributes.approximate_receive_count or 1),
        "owner": text(OWNER_ATTRIBUTE),
    }
    return Message(**fields)


_worker: list[tuple[Any, Worker]] = []  # per container: its part cache outlives a record


def record_handler(record: SQSRecord) -> None:
    """One message through the worker; an exception marks only this record failed.

    The worker is kept for the container's life: the batches of one part blob (50 of
    them, about 1 MB) arrive in the same event, and a fresh worker per record would
    download the part once per batch."""
    services = runtime.services()
    if not _worker or _worker[0][0] is not services:  # services rebuilt: a new worker
        _worker[:] = [(services, Worker(worker_ports(services)))]
    _worker[0][1].handle(message_of(record))


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point: {"batchItemFailures": [{"itemIdentifier": id}, ...]}."""
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)
