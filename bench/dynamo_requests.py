"""DynamoDB requests per lead of a queued import, counted on moto (issue 11 point 5).

Runs the worker's write path (validate_batch, lead_batch with a ledger entry,
write_batches) over the DynamoDB adapters on in-process moto, and counts every request
with a botocore hook (`before-parameter-build`: once per API call, with its parameters)
by operation, with the items each one carries (TransactWriteItems items, BatchGetItem
keys, BatchWriteItem requests). Four passes of
one file of N rows, in batches of B (LEADFLOW_BATCH_SIZE's default, 100):
  create    every row a new lead
  update    the same keys, one field changed
  unchanged the same file again (each lead only re-stamped)
  redeliver every batch of the last pass delivered again (the ledger has it)
10% of the rows are invalid (one schema-error entry each). Prints JSON; the numbers per
lead are the counts divided by N (the same at 100 and 500 rows). Timing is not measured:
moto's speed says nothing of DynamoDB's, and moto copies every table on each
transaction (memory and time grow with the square of N: 500 rows take 4 minutes and
3 GB), so keep N small.

    python bench/dynamo_requests.py [--rows 300] [--batch 100]

Runs on the tree with helper core's pipeline (write_batches, lead_batch, ImportSpec).
"""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from typing import Any

import boto3
from moto import mock_aws

from leadflow.adapters.dynamo_leads import DynamoLeadReadModel, DynamoLeadRepository
from leadflow.adapters.dynamo_ledger import DynamoBatchLedger
from leadflow.adapters.dynamo_schema_errors import DynamoSchemaErrorLog
from leadflow.adapters.dynamo_tables import create_tables
from leadflow.pipelines.importing import ImportOptions, ImportSpec, lead_batch, validate_batch
from leadflow.pipelines.shaping import RecordShaper
from leadflow.pipelines.upsert import WritePorts, write_batches

_ITEMS = {
    "TransactWriteItems": lambda p: len(p["TransactItems"]),
    "BatchGetItem": lambda p: sum(len(t["Keys"]) for t in p["RequestItems"].values()),
    "BatchWriteItem": lambda p: sum(len(t) for t in p["RequestItems"].values()),
}
READS = {"GetItem", "BatchGetItem", "Query", "Scan"}


class Counts:
    """Requests and items by operation, from botocore's before-parameter-build events."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.items: Counter[str] = Counter()

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.requests[model.name] += 1
        self.items[model.name] += _ITEMS.get(model.name, lambda p: 1)(params)

    def take(self, rows: int) -> dict[str, Any]:
        """This pass's figures (total and per lead), and a fresh start."""
        reads = sum(n for op, n in self.requests.items() if op in READS)
        writes = sum(n for op, n in self.requests.items() if op not in READS)
        report = {
            "requests": dict(self.requests),
            "items": dict(self.items),
            "per_lead": {
                "read_requests": round(reads / rows, 3),
                "write_requests": round(writes / rows, 3),
                "transact_items": round(self.items["TransactWriteItems"] / rows, 3),
                "batch_get_keys": round(self.items["BatchGetItem"] / rows, 3),
                "batch_write_items": round(self.items["BatchWriteItem"] / rows, 3),
            },
        }
        self.requests.clear()
        self.items.clear()
        return report


def records(rows: int, title: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for n in range(rows):
        if n % 10 == 9:
            out.append({"email": f"not-an-email-{n}", "name": "Bad Row"})
        else:
            out.append({"email": f"p{n}@example.com", "name": f"Person {n}", "title": title})
    return out


def run_import(
    ports: WritePorts, job: str, rows: list[dict[str, Any]], batch: int, again: bool = False
) -> None:
    spec = ImportSpec(ImportOptions(owner="alice"), job, "leads.csv", None, False)
    shaper = RecordShaper()
    for first in range(0, len(rows), batch):
        chunk = list(enumerate(rows[first : first + batch], start=first))
        shaped = validate_batch(chunk, spec, shaper)
        written = write_batches(ports, [lead_batch(spec, shaped, first // batch)])
        assert (written == [None]) is again, "a redelivery writes nothing, a first run does"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        os.environ.setdefault(name, value)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(client, "bench")
        ports = WritePorts(
            DynamoLeadRepository(client, "bench"),
            DynamoSchemaErrorLog(client, "bench"),
            DynamoBatchLedger(client, "bench"),
        )
        counts = Counts()
        client.meta.events.register("before-parameter-build.dynamodb.*", counts)
        passes: dict[str, Any] = {}
        run_import(ports, "job-create", records(args.rows, "A"), args.batch)
        passes["create"] = counts.take(args.rows)
        run_import(ports, "job-update", records(args.rows, "B"), args.batch)
        passes["update"] = counts.take(args.rows)
        run_import(ports, "job-unchanged", records(args.rows, "B"), args.batch)
        passes["unchanged"] = counts.take(args.rows)
        run_import(ports, "job-unchanged", records(args.rows, "B"), args.batch, again=True)
        passes["redeliver"] = counts.take(args.rows)
        reads = DynamoLeadReadModel(client, "bench")
        leads = reads.count_leads("alice")
        totals = DynamoBatchLedger(client, "bench").totals("job-update")[1]
    print(
        json.dumps(
            {
                "rows": args.rows,
                "batch": args.batch,
                "invalid_share": 0.1,
                "leads_stored": leads,
                "update_job_totals": totals,
                "passes": passes,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
