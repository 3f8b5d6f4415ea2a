"""On AWS the signing key comes from SSM Parameter Store or Secrets Manager (moto here);
a missing one stops the start-up with a clear message, never a key made per container."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from leadflow.aws.secrets import MissingSecret, aws_secret_key
from leadflow.settings import Settings

KEY = "k3y-" * 16


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield


def settings(**values: Any) -> Settings:
    return Settings(backend="aws", aws_region="eu-west-1", **values)


def test_from_ssm_parameter_store(aws: None) -> None:
    ssm = boto3.client("ssm", region_name="eu-west-1")
    ssm.put_parameter(Name="/leadflow/secret-key", Value=KEY, Type="SecureString")
    assert aws_secret_key(settings(secret_key_parameter="/leadflow/secret-key")) == KEY


def test_from_secrets_manager(aws: None) -> None:
    client = boto3.client("secretsmanager", region_name="eu-west-1")
    arn = client.create_secret(Name="leadflow/secret-key", SecretString=KEY)["ARN"]
    assert aws_secret_key(settings(secret_key_secret_id="leadflow/secret-key")) == KEY
    assert aws_secret_key(settings(secret_key_secret_id=arn)) == KEY


def test_nothing_configured_is_a_clear_start_up_error(aws: None) -> None:
    with pytest.raises(MissingSecret, match="LEADFLOW_SECRET_KEY_SECRET_ID") as caught:
        aws_secret_key(settings())
    assert "per container" in str(caught.value)


def test_a_named_secret_that_does_not_exist_is_an_error(aws: None) -> None:
    with pytest.raises(MissingSecret, match="ParameterNotFound"):
        aws_secret_key(settings(secret_key_parameter="/nope"))
    with pytest.raises(MissingSecret, match="ResourceNotFoundException"):
        aws_secret_key(settings(secret_key_secret_id="nope"))


def test_a_short_key_is_refused(aws: None) -> None:
    ssm = boto3.client("ssm", region_name="eu-west-1")
    ssm.put_parameter(Name="/short", Value="hunter2", Type="SecureString")
    with pytest.raises(MissingSecret, match="7 characters; it needs at least 32"):
        aws_secret_key(settings(secret_key_parameter="/short"))


def test_a_key_set_directly_needs_no_call(aws: None) -> None:
    def no_clients(service: str) -> Any:
        raise AssertionError(f"{service} was asked")

    assert aws_secret_key(settings(secret_key=KEY), no_clients) == KEY
