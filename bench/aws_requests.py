"""AWS requests per message and per job for one upload, on moto (in process).

Drives the non-lead AWS adapters (S3, SQS, DynamoDB JobStore, Outbox, SES) through the
calls the API and the worker make for one upload, in the worker's order: the upload
stored and its job created, a split message, one part blob and one batch message per
`--batch-size` rows (pointers: blob key + row range, as jobs/split.py makes them),
batches received `--receive` at a time, each reading its part, every group deleted at
once, the job ended
and its result file written; then one notification per lead through the outbox and
SES. The lead writes (leads, receipts, ledger) are the lead aggregate's adapters and
are not counted here. Prints JSON: requests by operation per phase, and per message,
per job and per lead.

    python bench/aws_requests.py --rows 10000 --batch-size 100
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

import boto3
from moto import mock_aws

from leadflow.adapters.aws_requests import RequestCounter
from leadflow.adapters.dynamo_jobs import DynamoJobStore
from leadflow.adapters.dynamo_outbox import DynamoOutbox
from leadflow.adapters.dynamo_tables_rest import create_rest_tables
from leadflow.adapters.s3_blobs import S3BlobStore, bucket_name
from leadflow.adapters.ses_mail import SesChannel
from leadflow.adapters.sqs_queue import SqsQueue, create_queues
from leadflow.ports import Job

REGION = "us-east-1"


def run(rows: int, batch_size: int, receive: int, notify: int) -> dict[str, Any]:
    names = ("s3", "sqs", "dynamodb", "ses")
    clients = {name: boto3.client(name, region_name=REGION) for name in names}
    s3, sqs, db, ses = clients["s3"], clients["sqs"], clients["dynamodb"], clients["ses"]
    s3.create_bucket(Bucket=bucket_name("bench"))
    create_rest_tables(db, "bench")
    url, dlq = create_queues(sqs, "bench")
    ses.verify_email_identity(EmailAddress="leads@acme.io")
    blobs = S3BlobStore(s3, bucket_name("bench"))
    queue = SqsQueue(sqs, url, dlq)
    jobs = DynamoJobStore.for_prefix(db, "bench")
    outbox = DynamoOutbox.for_prefix(db, "bench")
    channel = SesChannel(ses, "leads@acme.io", "sales@acme.io")
    counter = RequestCounter()
    counter.attach(*clients.values())
    phases: dict[str, dict[str, int]] = {}
    line = b"ann.lee+%07d@example.com,Ann,Lee,Acme Inc,VP Sales,+1 415 555 0100\n"
    data = [line % i for i in range(rows)]

    # the API: the upload stored, its job created, the split queued
    chunks = (b"".join(data[i : i + 5000]) for i in range(0, rows, 5000))
    blobs.put_stream("uploads/j1/leads.csv", chunks)
    jobs.create(Job("j1", "alice", "import", "uploading", "file_upload", {}, "t", "t"))
    jobs.update("j1", status="uploaded", stage="file_processing", blob_key="uploads/j1/leads.csv")
    queue.send_many([{"kind": "split", "jobId": "j1"}], owner="alice")
    phases["upload"] = counter.take()

    # the worker: the split
    (split,) = queue.receive(receive, 300)
    jobs.get("j1")
    with blobs.open("uploads/j1/leads.csv") as stream:
        stream.read()
    batches = []
    for n, start in enumerate(range(0, rows, batch_size)):  # one part blob per batch
        part = f"jobs/j1/parts/{start:09d}.jsonl"
        blobs.put_stream(part, [b"".join(data[start : start + batch_size])])
        batches.append({"kind": "batch", "jobId": "j1", "batchNo": n, "blobKey": part,
                        "rows": [start, min(start + batch_size, rows)]})  # fmt: skip
    jobs.update("j1", status="processing", stage="batch_processing", total_batches=len(batches))
    queue.send_many(batches, owner="alice")
    queue.delete(split)
    phases["split"] = counter.take()

    # the worker: the batches, `receive` at a time; one job read per group
    handled = 0
    while messages := queue.receive(receive, 300):
        jobs.get("j1")
        for message in messages:
            with blobs.open(message.body["blobKey"]) as part:
                part.read()
        queue.delete_many(messages)
        handled += len(messages)
    jobs.update("j1", status="completed", stage="completed", result_key="results/j1.csv")
    blobs.put_stream("results/j1.csv", [b"".join(data)])
    phases["batches"] = counter.take()

    leads_notified = 0
    if notify:  # moto's GSI queries scan the table: a sample of `notify` leads is enough
        outbox.add_many("alice", {f"j1:{i}": {"leadId": str(i)} for i in range(notify)}, "t")
        while entries := outbox.claim(100):
            for entry in entries:
                channel.send("New lead", "name: Ann Lee\n")
                outbox.finish(entry, "sent", "email", None)
            leads_notified += len(entries)
        phases["notify"] = counter.take()

    def total(phase: str) -> int:
        return sum(phases.get(phase, {}).values())

    pipeline = total("upload") + total("split") + total("batches")
    return {
        "rows": rows,
        "batchSize": batch_size,
        "receive": receive,
        "messages": len(batches) + 1,
        "batchesHandled": handled,
        "requests": phases,
        "perJob": pipeline,
        "perMessage": round(pipeline / (len(batches) + 1), 2),
        "perBatchMessage": round(total("batches") / len(batches), 2),
        "perLeadNotified": round(total("notify") / leads_notified, 2) if leads_notified else None,
        "note": "lead writes (leads, receipts, ledger) are the lead adapters' and not here",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--receive", type=int, default=50)
    parser.add_argument("--notify", type=int, default=200, help="leads notified (0: none)")
    args = parser.parse_args()
    for name, value in (("AWS_ACCESS_KEY_ID", "bench"), ("AWS_SECRET_ACCESS_KEY", "bench")):
        os.environ.setdefault(name, value)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    with mock_aws():
        result = run(args.rows, args.batch_size, args.receive, args.notify)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
