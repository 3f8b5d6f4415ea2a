"""How many requests each adapter call costs (the figures docs/scaling.md builds on)."""

from __future__ import annotations

from typing import Any

from leadflow.adapters.aws_requests import RequestCounter
from leadflow.adapters.dynamo_jobs import DynamoJobStore
from leadflow.adapters.dynamo_tables_rest import create_rest_tables
from leadflow.adapters.s3_blobs import MIN_PART, S3BlobStore
from leadflow.adapters.sqs_queue import SqsQueue, create_queues
from leadflow.ports import Job


def test_queue_requests_per_message(client: Any) -> None:
    sqs = client("sqs")
    url, dlq = create_queues(sqs, "t")
    queue = SqsQueue(sqs, url, dlq)
    counter = RequestCounter()
    counter.attach(sqs)
    queue.send_many([{"n": i} for i in range(25)])
    assert counter.take() == {"sqs.SendMessageBatch": 3}  # 10 a request
    got = queue.receive(50, 30)
    assert len(got) == 25
    assert counter.take() == {"sqs.ReceiveMessage": 3}  # 10 + 10 + 5 (fewer than asked: stop)
    assert queue.delete_many(got) == 25
    assert counter.take() == {"sqs.ChangeMessageVisibilityBatch": 3, "sqs.DeleteMessageBatch": 3}
    queue.send_many([{"n": 1}])
    (message,) = queue.receive(1, 30)
    counter.take()
    assert queue.fail(message, "boom")
    assert counter.take() == {
        "sqs.ChangeMessageVisibility": 1,  # the lease probe
        "sqs.DeleteMessage": 1,
        "sqs.SendMessageBatch": 1,  # the copy with the error
    }


def test_blob_and_job_requests(client: Any) -> None:
    s3, db = client("s3"), client("dynamodb")
    s3.create_bucket(Bucket="t-blobs")
    create_rest_tables(db, "t")
    blobs, jobs = S3BlobStore(s3, "t-blobs", MIN_PART), DynamoJobStore.for_prefix(db, "t")
    counter = RequestCounter()
    counter.attach(s3, db)
    blobs.put_stream("u/small", [b"x" * 1000])
    assert counter.take() == {"s3.PutObject": 1}
    blobs.put_stream("u/big", (b"y" * 2**20 for _ in range(12)))
    assert counter.take() == {
        "s3.CreateMultipartUpload": 1,
        "s3.UploadPart": 3,  # 5 + 5 + 2 MiB
        "s3.CompleteMultipartUpload": 1,
    }
    jobs.create(Job("j", "o", "import", "uploading", "file_upload", {}, "t", "t"))
    jobs.update("j", status="processing", stage="batch_processing")
    jobs.get("j")
    assert counter.take() == {
        "dynamodb.PutItem": 1,
        "dynamodb.UpdateItem": 1,
        "dynamodb.GetItem": 1,
    }
