"""AWS requests per lead of an upload, end to end on moto (in process), for docs/scaling.md.

The real code path, on the AWS adapters composed by hand (bootstrap's aws backend is not
on main yet): the API's `start_upload` (S3 upload, job created, split queued), then the
queue Lambda's handler (aws/queue_handler.py, Powertools partial batches) on events of
`--lambda-batch` records built from SQS ReceiveMessage answers as Lambda's poller
would (10 messages a receive; the records it ran deleted with DeleteMessageBatch; the
poller's requests are billed to the account, so they are counted). The handler runs the
split (part blobs of up to 50 batches, pointer messages) and every batch (leads in
TransactWriteItems of up to 25, schema errors, ledger entry, the job finished with its
result files). File: bench/messy_csv.py's realistic CSV (duplicates, invalid rows).

Then the notification path: a file of `--notify` new leads dropped in the inbox
(inbox_handler.run_object: S3 GetObject, the real-time pipeline, enriched leads under
enriched/, outbox) and sent by the notifier through SES.

Counted with botocore hooks, by service and operation: requests, items (transaction
items, batch keys, messages sent/received, objects), and DynamoDB capacity units
computed from item sizes (DynamoDB's rules: writes 1 WRU per KB, transactional 2x,
strongly consistent reads 1 RRU per 4 KB per item, a Query by the total size of the items
it reads; moto reports no capacity). Prints JSON.

moto copies every table a transaction touches once per transaction item (memory and time
grow with the table); the bench makes it copy each table once per transaction (same
semantics), which still grows with N: 2,000 rows take about 30 s, 10,000 rows about
8 minutes and 9.5 GB of memory.

    python bench/aws_import_requests.py --rows 2000 --lambda-batch 10 --notify 50
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import math
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import boto3
import moto.core.botocore_stubber as moto_stubber
import moto.dynamodb.models as moto_dynamodb
from moto import mock_aws

sys.path.insert(0, str(Path(__file__).parent))

from messy_csv import write_messy_csv  # noqa: E402

REGION = "us-east-1"
PREFIX = "bench"
OWNER = "alice"


# ----------------------------------------------------------------------------- sizes
def _value_size(value: dict[str, Any]) -> int:
    """DynamoDB's size of one attribute value (wire format), in bytes."""
    (kind, v), *_ = value.items()
    if kind == "S":
        return len(v.encode())
    if kind == "N":
        return len(str(v).lstrip("-").replace(".", "")) // 2 + 2
    if kind == "B":
        return len(v)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(_value_size(x) + 1 for x in v)
    if kind == "M":
        return 3 + sum(len(k.encode()) + _value_size(x) + 1 for k, x in v.items())
    if kind in ("SS", "NS", "BS"):
        return sum(len(str(x).encode()) for x in v)
    return 0


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


# ----------------------------------------------------------------------------- counting
READS = {"GetItem", "BatchGetItem", "Query", "Scan"}
# table suffix -> the GSIs' key attributes, and whether the index projects ALL
# (adapters/dynamo_tables.py, dynamo_tables_rest.py)
GSI_KEYS: dict[str, list[tuple[tuple[str, ...], bool]]] = {
    "leads": [(("owner", "email"), False), (("created_import_id", "lead_id"), False)],
    "lead-audit": [(("import_id", "lead_id"), False)],
    "schema-errors": [(("owner", "id"), True)],
    "processing-status": [(("owner", "created_key"), True), (("expiry", "ttl"), True)],
    "outbox": [(("due", "due_at"), True)],
}
# an update of an item in an index projecting ALL rewrites it there too (about one
# index write per update: the jobs' OwnerIndex, the outbox's DueIndex)
ALL_INDEXED = {"processing-status": 1, "outbox": 1}


class Meter:
    """Requests and items by "service.Operation", and DynamoDB capacity units."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.items: Counter[str] = Counter()
        self.wru = 0.0
        self.gsi_wru = 0.0
        self.rru = 0.0
        self.bytes_put = 0
        self.bytes_got = 0
        self.body_bytes = 0
        # full item sizes by table (a Query's projection does not lower its cost)
        self.sizes: dict[str, dict[str, int]] = defaultdict(dict)
        self._query_table = ""

    def attach(self, *clients: Any) -> None:
        for client in clients:
            client.meta.events.register("before-parameter-build.*.*", self._before)
            client.meta.events.register("after-call.*.*", self._after)

    def _name(self, model: Any) -> str:
        return f"{model.service_model.service_name}.{model.name}"

    def _remember(self, table: str, item: dict[str, Any]) -> int:
        size = item_size(item)
        self.sizes[table][json.dumps(_key_of(item), sort_keys=True)] = size
        # a new item whose index keys are set is written to each such GSI too (standard
        # writes, 1 WRU per KB of what the index projects)
        for keys, projects_all in GSI_KEYS.get(table.removeprefix(f"{PREFIX}-"), ()):
            if all(k in item for k in keys):
                self.gsi_wru += max(1, math.ceil(size / 1024)) if projects_all else 1
        return size

    def _before(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        name = self._name(model)
        self.requests[name] += 1
        op = model.name
        if name.startswith("dynamodb."):
            self._dynamo_before(op, params)
        elif op == "SendMessageBatch" or op == "DeleteMessageBatch":
            self.items[name] += len(params["Entries"])
            self.body_bytes += sum(len(e.get("MessageBody", "")) for e in params["Entries"])
        elif op == "ChangeMessageVisibilityBatch":
            self.items[name] += len(params["Entries"])
        elif op in ("PutObject", "UploadPart"):
            body = params.get("Body", b"")
            self.bytes_put += len(body) if isinstance(body, bytes | bytearray) else 0

    def _dynamo_before(self, op: str, params: dict[str, Any]) -> None:
        name = f"dynamodb.{op}"
        if op == "TransactWriteItems":
            self.items[name] += len(params["TransactItems"])
            for entry in params["TransactItems"]:
                (kind, body), *_ = entry.items()
                table = body["TableName"]
                if kind == "Put":
                    size = self._remember(table, body["Item"])
                else:
                    size = self._known(table, body["Key"])
                self.wru += 2 * max(1, math.ceil(size / 1024))
        elif op == "PutItem":
            self.wru += max(
                1, math.ceil(self._remember(params["TableName"], params["Item"]) / 1024)
            )
        elif op == "UpdateItem":
            size = max(1, math.ceil(self._known(params["TableName"], params["Key"]) / 1024))
            self.wru += size
            suffix = params["TableName"].removeprefix(f"{PREFIX}-")
            self.gsi_wru += size * ALL_INDEXED.get(suffix, 0)
        elif op == "BatchWriteItem":
            for table, requests in params["RequestItems"].items():
                self.items[name] += len(requests)
                for request in requests:
                    if "PutRequest" in request:
                        size = self._remember(table, request["PutRequest"]["Item"])
                        self.wru += max(1, math.ceil(size / 1024))
                    else:
                        self.wru += 1
        elif op == "BatchGetItem":
            for table, wanted in params["RequestItems"].items():
                self.items[name] += len(wanted["Keys"])
                for key in wanted["Keys"]:  # strongly consistent: 1 RRU per 4 KB, absent too
                    self.rru += max(1, math.ceil(self._known(table, key) / 4096))
        elif op == "Query":
            self._query_table = params["TableName"]
        elif op == "GetItem":
            self.rru += max(1, math.ceil(self._known(params["TableName"], params["Key"]) / 4096))

    def _known(self, table: str, key: dict[str, Any]) -> int:
        return self.sizes[table].get(json.dumps(key, sort_keys=True), 100)

    def _after(self, model: Any, parsed: dict[str, Any], **kwargs: Any) -> None:
        name = self._name(model)
        op = model.name
        if op == "Query":
            items = parsed.get("Items", [])
            self.items[name] += len(items)
            # the items' full sizes (the table's, whatever the projection), 4 KB units
            sizes = list(self.sizes.get(self._query_table, {}).values())
            average = sum(sizes) / len(sizes) if sizes else 100
            self.rru += max(1, math.ceil(len(items) * average / 4096))
        elif op == "ReceiveMessage":
            self.items[name] += len(parsed.get("Messages", []))
        elif op == "GetObject":
            self.bytes_got += int(parsed.get("ContentLength", 0))

    def take(self) -> dict[str, Any]:
        taken = {
            "requests": dict(sorted(self.requests.items())),
            "items": dict(sorted(self.items.items())),
            "dynamodbWRU": round(self.wru + self.gsi_wru),
            "dynamodbWRUOfIndexes": round(self.gsi_wru),
            "dynamodbRRU": round(self.rru),
            "s3BytesPut": self.bytes_put,
            "s3BytesGot": self.bytes_got,
            "sqsBodyBytes": self.body_bytes,
        }
        self.requests.clear()
        self.items.clear()
        self.wru = self.gsi_wru = self.rru = 0.0
        self.bytes_put = self.bytes_got = self.body_bytes = 0
        return taken


def _key_of(item: dict[str, Any]) -> dict[str, Any]:
    """The key attributes of an item of our tables (what a later Key names)."""
    names = ("owner", "lead_id", "key", "import_id", "item", "job_id", "batch_no", "row", "version")
    return {k: v for k, v in item.items() if k in names}


# ----------------------------------------------------------------------------- moto
def copy_each_table_once() -> None:
    """moto deep-copies a table once per transaction item that names it; copy it once
    per transaction instead (the same rollback, without the quadratic time)."""
    original = moto_dynamodb.DynamoDBBackend.transact_write_items

    class _Once:
        def __init__(self) -> None:
            self.copies: dict[int, Any] = {}

        def deepcopy(self, value: Any) -> Any:
            if type(value).__name__ != "Table":
                return copy.deepcopy(value)
            if id(value) not in self.copies:
                self.copies[id(value)] = copy.deepcopy(value)
            return self.copies[id(value)]

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        moto_dynamodb.copy = _Once()  # type: ignore[attr-defined]
        try:
            original(self, transact_items)
        finally:
            moto_dynamodb.copy = copy  # type: ignore[attr-defined]

    moto_dynamodb.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


class MotoTime:
    """CPU seconds spent inside moto (the in-process AWS): the handler's CPU minus this
    is our code's and botocore's, what a Lambda would spend on CPU."""

    seconds = 0.0

    @classmethod
    def install(cls) -> None:
        original = moto_stubber.BotocoreStubber.__call__

        def timed(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return original(self, event_name, request, **kwargs)
            finally:
                cls.seconds += time.process_time() - started

        moto_stubber.BotocoreStubber.__call__ = timed  # type: ignore[method-assign]


# ----------------------------------------------------------------------------- run
def services(clients: dict[str, Any], settings: Any) -> Any:
    """The AWS adapter set, composed as bootstrap's aws backend will (by hand here)."""
    from leadflow.adapters.dynamo_jobs import DynamoJobStore
    from leadflow.adapters.dynamo_leads import DynamoLeadReadModel, DynamoLeadRepository
    from leadflow.adapters.dynamo_ledger import DynamoBatchLedger
    from leadflow.adapters.dynamo_misc import (
        DynamoMappingStore,
        DynamoOrderStore,
        DynamoProviderCache,
        DynamoUserStore,
    )
    from leadflow.adapters.dynamo_outbox import DynamoOutbox
    from leadflow.adapters.dynamo_schema_errors import DynamoSchemaErrorLog
    from leadflow.adapters.s3_blobs import S3BlobStore, bucket_name
    from leadflow.adapters.sqs_queue import SqsDeadLetters, SqsQueue
    from leadflow.bootstrap import Services

    db, sqs = clients["dynamodb"], clients["sqs"]
    url = sqs.get_queue_url(QueueName=f"{PREFIX}-jobs")["QueueUrl"]
    dlq = sqs.get_queue_url(QueueName=f"{PREFIX}-jobs-dlq")["QueueUrl"]
    count = settings.max_receive_count
    return Services(
        settings=settings,
        lead_repo=DynamoLeadRepository(db, PREFIX),
        lead_reads=DynamoLeadReadModel(db, PREFIX),
        schema_errors=DynamoSchemaErrorLog(db, PREFIX),
        ledger=DynamoBatchLedger(db, PREFIX),
        users=DynamoUserStore.for_prefix(db, PREFIX),
        jobs=DynamoJobStore.for_prefix(db, PREFIX),
        queue=SqsQueue(sqs, url, dlq, count),
        dead_letters=SqsDeadLetters(sqs, url, dlq, count),
        blobs=S3BlobStore(clients["s3"], bucket_name(PREFIX)),
        provider_cache=DynamoProviderCache.for_prefix(db, PREFIX),
        orders=DynamoOrderStore.for_prefix(db, PREFIX),
        outbox=DynamoOutbox.for_prefix(db, PREFIX),
        secret="bench-secret-key-bench-secret-key",
        mappings=DynamoMappingStore.for_prefix(db, PREFIX),
    )


def lambda_record(message: dict[str, Any]) -> dict[str, Any]:
    """An SQS event record as Lambda builds it from a ReceiveMessage answer."""
    attributes = {
        name: {"stringValue": value["StringValue"], "dataType": value["DataType"]}
        for name, value in (message.get("MessageAttributes") or {}).items()
    }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": attributes,
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:{PREFIX}-jobs",
        "awsRegion": REGION,
    }


def poll(sqs: Any, url: str, batch: int) -> list[dict[str, Any]]:
    """What Lambda's poller gathers for one invocation: receives of 10 up to `batch`."""
    messages: list[dict[str, Any]] = []
    while len(messages) < batch:
        answer = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=min(10, batch - len(messages)),
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        got = answer.get("Messages", [])
        messages.extend(got)
        if not got:
            break
    return messages


def run(rows: int, lambda_batch: int, notify: int, workdir: Path) -> dict[str, Any]:
    from leadflow.adapters.dynamo_tables import create_tables
    from leadflow.adapters.dynamo_tables_rest import create_rest_tables
    from leadflow.adapters.s3_blobs import bucket_name
    from leadflow.adapters.ses_mail import SesChannel
    from leadflow.adapters.sqs_queue import create_queues
    from leadflow.aws import inbox_handler, queue_handler, runtime
    from leadflow.bootstrap import realtime_ports, upload_ports
    from leadflow.jobs.inbox import Inbox, InboxPorts
    from leadflow.jobs.uploads import start_upload
    from leadflow.notify.notifier import Notifier, NotifierPorts
    from leadflow.settings import Settings

    settings = Settings(data_dir=workdir / "data", backend="local")
    names = ("s3", "sqs", "dynamodb", "ses")
    clients = {name: boto3.client(name, region_name=REGION) for name in names}
    s3, sqs, db, ses = clients["s3"], clients["sqs"], clients["dynamodb"], clients["ses"]
    s3.create_bucket(Bucket=bucket_name(PREFIX))
    create_tables(db, PREFIX)
    create_rest_tables(db, PREFIX)
    url, _ = create_queues(sqs, PREFIX, "jobs", settings.max_receive_count, 720)
    ses.verify_email_identity(EmailAddress="leads@acme.io")
    s = services(clients, settings)
    runtime._services = s  # the Lambda container's services, composed by hand

    meter = Meter()
    meter.attach(*clients.values())
    source = workdir / "leads.csv"
    write_messy_csv(source, rows)
    data = source.read_bytes()
    phases: dict[str, Any] = {}

    # the API: the upload stored, its job created, the split queued
    chunks = (data[i : i + (1 << 20)] for i in range(0, len(data), 1 << 20))
    job_id = start_upload(upload_ports(s), OWNER, "leads.csv", chunks, {})
    phases["upload"] = meter.take()

    # the queue Lambda: invocations of up to `lambda_batch` records until the queue is dry
    invocations = 0
    record_bytes: list[int] = []
    started = time.process_time()
    seconds: dict[str, float] = {"split": 0.0, "batches": 0.0}
    ours: dict[str, float] = {"split": 0.0, "batches": 0.0}
    while records := poll(sqs, url, lambda_batch):
        event = {"Records": [lambda_record(m) for m in records]}
        record_bytes.extend(len(json.dumps(r)) for r in event["Records"])
        kind = "split" if '"split"' in records[0]["Body"] else "batches"
        t0, moto0 = time.process_time(), MotoTime.seconds
        answer = queue_handler.handler(event, None)
        seconds[kind] += time.process_time() - t0
        ours[kind] += time.process_time() - t0 - (MotoTime.seconds - moto0)
        failed = {f["itemIdentifier"] for f in answer.get("batchItemFailures", [])}
        done = [m for m in records if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):  # the poller deletes what succeeded
            entries = [
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(done[start : start + 10])
            ]
            sqs.delete_message_batch(QueueUrl=url, Entries=entries)
        invocations += 1
        if kind == "split":
            phases["split"] = meter.take()
    phases["batches"] = meter.take()
    cpu = time.process_time() - started
    job = s.jobs.get(job_id)
    assert job is not None and job.status == "completed", job
    entries, totals = s.ledger.totals(job_id)
    meter.take()

    # the notification path: an inbox file of `notify` new leads, sent by SES
    notified = 0
    if notify:
        lines = ["email,name,company"] + [
            f"fresh{i}@newco.io,Fresh Lead {i},NewCo" for i in range(notify)
        ]
        key = "inbox/leads/fresh.csv"
        s3.put_object(Bucket=bucket_name(PREFIX), Key=key, Body="\n".join(lines).encode())
        meter.take()  # the drop itself is the sender's request
        email = SesChannel(ses, "leads@acme.io", "sales@acme.io")
        notifier_ports = NotifierPorts(settings, s.outbox, s.dead_letters, None, email)
        realtime = dataclasses.replace(realtime_ports(s), notify=True)
        inbox = Inbox(
            InboxPorts(
                settings, realtime, notifier_ports, s.orders, s.dead_letters, lambda _: False
            ),
            Notifier(notifier_ports),
        )
        inbox_handler.run_object(inbox, key)  # processes the file, then sends what is due
        while inbox.notifier.run_once():
            pass
        phases["notify"] = meter.take()
        notified = phases["notify"]["requests"].get("ses.SendEmail", 0)

    def per(phase: dict[str, Any], n: int) -> dict[str, Any]:
        return {
            "requests": round(sum(phase["requests"].values()) / n, 3),
            "dynamodbWRU": round(phase["dynamodbWRU"] / n, 2),
            "dynamodbRRU": round(phase["dynamodbRRU"] / n, 2),
            "byService": {
                svc: round(sum(v for k, v in phase["requests"].items() if k.startswith(svc)) / n, 4)
                for svc in ("dynamodb", "sqs", "s3", "ses")
            },
        }

    pipeline: dict[str, Any] = {"requests": Counter(), "dynamodbWRU": 0, "dynamodbRRU": 0}
    for name in ("upload", "split", "batches"):
        pipeline["requests"].update(phases[name]["requests"])
        pipeline["dynamodbWRU"] += phases[name]["dynamodbWRU"]
        pipeline["dynamodbRRU"] += phases[name]["dynamodbRRU"]
    created = int(totals.get("created", 0))
    table_sizes = {table: round(sum(v.values()) / len(v)) for table, v in meter.sizes.items() if v}
    return {
        "rows": rows,
        "lambdaBatch": lambda_batch,
        "batchSize": settings.batch_size,
        "batches": entries,
        "invocations": invocations,
        # an SQS event record's size (Lambda's 6 MB payload limit caps records per event)
        "eventRecordBytes": round(sum(record_bytes) / len(record_bytes)),
        "messageBodyBytes": phases["split"]["sqsBodyBytes"] // max(1, entries),
        "jobTotals": totals,
        "handlerCpuSeconds": {k: round(v, 2) for k, v in seconds.items()},
        "handlerCpuSecondsWithoutMoto": {k: round(v, 3) for k, v in ours.items()},
        "cpuSecondsPerBatchWithoutMoto": round(ours["batches"] / max(1, entries), 4),
        "benchCpuSeconds": round(cpu, 1),
        "avgItemBytes": table_sizes,
        "phases": phases,
        "perRow": per(pipeline, rows),
        "perLeadCreated": per(pipeline, max(1, created)),
        "leadsNotified": notified,
        "perLeadNotified": per(phases["notify"], notified) if notified else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--lambda-batch", type=int, default=10, help="records per invocation")
    parser.add_argument("--notify", type=int, default=50, help="leads of the inbox file (0: none)")
    args = parser.parse_args()
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "bench"),
        ("AWS_SECRET_ACCESS_KEY", "bench"),
        ("AWS_DEFAULT_REGION", REGION),
    ):
        os.environ[name] = value
    os.environ.pop("AWS_ENDPOINT_URL", None)
    copy_each_table_once()
    MotoTime.install()
    with tempfile.TemporaryDirectory() as tmp, mock_aws():
        result = run(args.rows, args.lambda_batch, args.notify, Path(tmp))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
