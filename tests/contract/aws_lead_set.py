"""The "aws" adapter set of the lead-aggregate contract suites: DynamoDB on moto.

lead_adapter_sets.ADAPTER_SETS gets `"aws": aws_set`. Each set has tables of its own (a
fresh prefix) in one in-process moto started for the test session on first use: the
suites open sets from fixtures and from inside property tests alike, so the mock cannot
be scoped to one test. Other tests' `mock_aws()` nest inside it (moto counts nesting).

In-process moto is not thread-safe (a transaction deep-copies tables that another
thread's request is changing), so the client given to the adapters sends one request
at a time, in short turns (see _Turns): the thread tests still interleave their
requests, and their conditions still fail between one request and the next, as on
DynamoDB, which is thread-safe itself.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from pathlib import Path
from typing import Any

_sets = itertools.count()
_mock: list[Any] = []


class _Turns:
    """One request at a time, in turns of up to TURN seconds: a thread keeps its turn
    for back-to-back requests (as CPython's GIL gives a thread 5 ms slices) and gives it
    up when the turn is over or it pauses. Strict request-by-request alternation would
    put two writers of one lead in lockstep, where the first to write always wins and
    the other loses every round."""

    TURN = 0.005
    PAUSE = 0.001

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._owner: int | None = None
        self._busy = False
        self._since = 0.0
        self._last = 0.0

    def __enter__(self) -> None:
        me = threading.get_ident()
        with self._cv:
            while True:
                now = time.monotonic()
                mine = self._owner in (None, me)
                over = now - self._since >= self.TURN or now - self._last >= self.PAUSE
                if not self._busy and (mine or over):
                    break
                self._cv.wait(self.PAUSE)
            if self._owner != me:
                self._owner, self._since = me, now
            self._busy = True

    def __exit__(self, *_: object) -> None:
        with self._cv:
            self._busy = False
            self._last = time.monotonic()
            self._cv.notify_all()


_one_request_at_a_time = _Turns()


class SerialClient:
    """A boto3 client whose API calls hold one process-wide lock (moto's limit)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.meta = client.meta

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute) or name.startswith("get_"):  # waiters, paginators
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            with _one_request_at_a_time:
                return attribute(*args, **kwargs)

        return call


def dynamodb_client() -> Any:
    """A DynamoDB client on the session's in-process moto (started on first use)."""
    import boto3
    from moto import mock_aws

    if not _mock:
        for name, value in (
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
        ):
            os.environ.setdefault(name, value)
        mock = mock_aws()
        mock.start()
        _mock.append(mock)
    return SerialClient(boto3.client("dynamodb", region_name="us-east-1"))


def aws_set(directory: Path) -> Any:
    """The lead aggregate's four ports on DynamoDB (moto), over fresh tables."""
    from lead_adapter_sets import LeadAdapters

    from leadflow.adapters.dynamo_leads import DynamoLeadReadModel, DynamoLeadRepository
    from leadflow.adapters.dynamo_ledger import DynamoBatchLedger
    from leadflow.adapters.dynamo_schema_errors import DynamoSchemaErrorLog
    from leadflow.adapters.dynamo_tables import create_tables

    client = dynamodb_client()
    prefix = f"c{next(_sets)}"
    create_tables(client, prefix)
    return LeadAdapters(
        "aws",
        DynamoLeadRepository(client, prefix),
        DynamoLeadReadModel(client, prefix),
        DynamoSchemaErrorLog(client, prefix),
        DynamoBatchLedger(client, prefix),
    )
