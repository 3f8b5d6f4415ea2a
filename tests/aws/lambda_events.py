"""Hand-built Lambda events (the shapes AWS sends) and local services for handler tests.

The AWS adapters are built by other branches; until they are merged the handlers run
here over the local (SQLite) backend, which they reach through bootstrap like on AWS.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from leadflow.aws import inbox_handler, runtime
from leadflow.bootstrap import Services

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:leadflow-jobs"


def sqs_record(
    body: str, owner: str | None = None, receive_count: int = 1, message_id: str | None = None
) -> dict[str, Any]:
    """One record of an SQS event as Lambda's event source mapping delivers it."""
    attributes = {}
    if owner is not None:
        attributes["owner"] = {"stringValue": owner, "dataType": "String"}
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": f"receipt-{uuid.uuid4()}",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": "1700000000000",
            "SenderId": "AIDAEXAMPLE",
            "ApproximateFirstReceiveTimestamp": "1700000000001",
        },
        "messageAttributes": attributes,
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE_ARN,
        "awsRegion": "us-east-1",
    }


def sqs_event(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {"Records": list(records)}


def s3_notification(bucket: str, keys: Sequence[str]) -> str:
    """The body S3 puts on the queue for objects created (keys URL-encoded, as S3 does)."""
    from urllib.parse import quote_plus

    return json.dumps(
        {
            "Records": [
                {
                    "eventVersion": "2.1",
                    "eventSource": "aws:s3",
                    "awsRegion": "us-east-1",
                    "eventName": "ObjectCreated:Put",
                    "s3": {
                        "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                        "object": {"key": quote_plus(key, safe="/"), "size": 1},
                    },
                }
                for key in keys
            ]
        }
    )


@pytest.fixture
def local_services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    """The handlers' services on the local backend in a fresh data directory."""
    monkeypatch.setenv("LEADFLOW_BACKEND", "local")
    monkeypatch.setenv("LEADFLOW_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LEADFLOW_SECRET_KEY", "k" * 48)
    monkeypatch.setenv("LEADFLOW_INBOX_OWNER", "alice")
    runtime.reset()
    inbox_handler._inbox = None
    yield runtime.services()
    runtime.reset()
    inbox_handler._inbox = None
