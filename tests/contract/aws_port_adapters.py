"""The "aws" adapter set of the non-lead ports' contract suites: the AWS adapters
(SQS, DynamoDB) on moto, in process.

To run the suites on it, tests/contract/port_adapters.py (the ports helper's) adds
`"aws": AwsSet` to ADAPTER_SETS and calls `close()` on a set that has one after the
test. moto's SQS reads the time through `moto.sqs.models.unix_time(_millis)`: the set
points those at its fake clock, so `advance(seconds)` moves leases and delays the way
it moves the memory and SQLite adapters' clocks (nothing sleeps).
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any

import boto3
import moto.sqs.models as moto_sqs
from moto import mock_aws

from leadflow.adapters.dynamo_jobs import DynamoJobStore
from leadflow.adapters.dynamo_misc import (
    DynamoMappingStore,
    DynamoOrderStore,
    DynamoProviderCache,
    DynamoUserStore,
)
from leadflow.adapters.dynamo_outbox import DynamoOutbox
from leadflow.adapters.dynamo_tables_rest import create_rest_tables
from leadflow.adapters.sqs_queue import SqsDeadLetters, SqsQueue, create_queues
from leadflow.ports import (
    DeadLetters,
    JobStore,
    MappingStore,
    OrderStore,
    Outbox,
    ProviderCache,
    Queue,
    UserStore,
)

START = 1_800_000_000.0  # epoch seconds: 2027-01-15
REGION = "us-east-1"
# each set gets tables and queues of its own: moto's state outlives one set when another
# mock (the lead suites' session-wide one, aws_lead_set.py) is active around it
_PREFIXES = (f"contract{n}" for n in itertools.count(1))
_FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
}


class AwsSet:
    """Every non-lead port on moto's SQS and DynamoDB, one fake clock for all."""

    name = "aws"
    # SQS accepts a receipt made stale by another process's receive; the adapter
    # refuses only those made stale through the same instance (sqs_queue.py)
    strict_leases = False

    def __init__(self, tmp_path: Path) -> None:
        self.now = START
        self._saved_env = {k: os.environ.get(k) for k in [*_FAKE_ENV, "AWS_ENDPOINT_URL"]}
        os.environ.update(_FAKE_ENV)
        os.environ.pop("AWS_ENDPOINT_URL", None)
        self._saved_time = (moto_sqs.unix_time, moto_sqs.unix_time_millis)
        # time never stands still: each reading is a microsecond later than the last
        # (moto compares `now > visible_at`, so a lease of 0 must end at once)
        ticks = itertools.count(1)
        moto_sqs.unix_time = lambda dt=None: self.now + next(ticks) * 1e-6  # type: ignore[assignment]
        moto_sqs.unix_time_millis = lambda dt=None: (self.now + next(ticks) * 1e-6) * 1000.0  # type: ignore[assignment]
        self._mock = mock_aws()
        self._mock.start()
        self.sqs: Any = boto3.client("sqs", region_name=REGION)
        self.dynamodb: Any = boto3.client("dynamodb", region_name=REGION)
        self.prefix = next(_PREFIXES)
        create_rest_tables(self.dynamodb, self.prefix)
        self._queues = itertools.count(1)

    def close(self) -> None:
        self._mock.stop()
        moto_sqs.unix_time, moto_sqs.unix_time_millis = self._saved_time
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    def clock(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def jobs(self) -> JobStore:
        return DynamoJobStore.for_prefix(self.dynamodb, self.prefix, self.clock)

    def queue(self, max_receive_count: int = 3) -> tuple[Queue, DeadLetters]:
        name = f"q{next(self._queues)}"
        url, dlq = create_queues(self.sqs, self.prefix, name, max_receive_count, 30)
        return (
            SqsQueue(self.sqs, url, dlq, max_receive_count, self.clock),
            SqsDeadLetters(self.sqs, url, dlq, max_receive_count, self.clock),
        )

    def outbox(self) -> Outbox:
        return DynamoOutbox.for_prefix(self.dynamodb, self.prefix, self.clock)

    def orders(self) -> OrderStore:
        return DynamoOrderStore.for_prefix(self.dynamodb, self.prefix)

    def provider_cache(self) -> ProviderCache:
        return DynamoProviderCache.for_prefix(self.dynamodb, self.prefix)

    def users(self) -> UserStore:
        return DynamoUserStore.for_prefix(self.dynamodb, self.prefix)

    def mappings(self) -> MappingStore:
        return DynamoMappingStore.for_prefix(self.dynamodb, self.prefix)
