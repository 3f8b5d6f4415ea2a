"""DynamoDB on moto (in-process): a client and the lead aggregate's tables per test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from leadflow.adapters.dynamo_tables import create_tables

PREFIX = "t"


@pytest.fixture
def table_prefix() -> str:
    """The table-name prefix the `dynamodb` fixture's tables were created with."""
    return PREFIX


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A DynamoDB client on moto, with the lead aggregate's tables created."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)  # in-process moto, no server
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(client, PREFIX)
        yield client
