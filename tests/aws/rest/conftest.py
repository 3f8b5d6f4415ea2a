"""Fixtures of the non-lead AWS adapters' tests (SQS, S3, SES, DynamoDB jobs, outbox and
the small stores): every test here runs inside moto's `mock_aws`, with fake credentials
and a fixed region, so no request leaves the process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

REGION = "us-east-1"


@pytest.fixture(autouse=True)
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto for the whole test; credentials are fakes, endpoints are moto's."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield


@pytest.fixture
def client() -> Any:
    """A factory of boto3 clients in the test region."""
    return lambda service: boto3.client(service, region_name=REGION)
