"""`leadflow aws init` against a moto server on loopback (AWS_ENDPOINT_URL), twice."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from leadflow.aws import resources as names
from leadflow.aws.inbox_handler import object_keys

BIN = Path(sys.executable).parent
PREFIX = "crm-test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # up to a minute on a loaded machine
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise AssertionError("moto_server did not start")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def aws_env(endpoint: str) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("LEADFLOW_", "AWS_"))}
    environ.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_MAX_ATTEMPTS="1",
        LEADFLOW_AWS_PREFIX=PREFIX,
        LEADFLOW_MAX_RECEIVE_COUNT="4",
        COLUMNS="200",
    )
    return environ


def init(endpoint: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "leadflow"), "aws", "init"],
        env=aws_env(endpoint),
        capture_output=True,
        text=True,
        timeout=300,
    )


def client(endpoint: str, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(scope="module")
def first_run(endpoint: str) -> subprocess.CompletedProcess[str]:
    return init(endpoint)


def test_first_run_creates_everything(first_run: subprocess.CompletedProcess[str]) -> None:
    assert first_run.returncode == 0, first_run.stderr
    lines = first_run.stdout.splitlines()
    assert all(line.startswith("created ") for line in lines), lines
    expected = {names.table_name(PREFIX, t) for t in names.TABLES}
    expected |= {names.queue_name(PREFIX, q) for q in names.QUEUES}
    expected |= {names.bucket_name(PREFIX), names.topic_name(PREFIX), names.secret_name(PREFIX)}
    assert {line.split()[-1] for line in lines} == expected


def test_second_run_is_fine_and_creates_nothing(
    endpoint: str, first_run: subprocess.CompletedProcess[str]
) -> None:
    again = init(endpoint)
    assert again.returncode == 0, again.stderr
    assert all(line.startswith("exists ") for line in again.stdout.splitlines())
    assert len(again.stdout.splitlines()) == len(first_run.stdout.splitlines())


def test_tables_have_their_keys_index_ttl_and_recovery(
    endpoint: str, first_run: subprocess.CompletedProcess[str]
) -> None:
    dynamodb = client(endpoint, "dynamodb")
    leads = dynamodb.describe_table(TableName=f"{PREFIX}-leads")["Table"]
    (index,) = [i for i in leads["GlobalSecondaryIndexes"] if i["IndexName"] == "EmailIndex"]
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["owner", "email"]
    ttl = dynamodb.describe_time_to_live(TableName=f"{PREFIX}-processing-status")
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "ttl"
    backups = dynamodb.describe_continuous_backups(TableName=f"{PREFIX}-ledger")
    recovery = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert recovery["PointInTimeRecoveryStatus"] == "ENABLED"


def test_queues_redrive_to_their_dlq_after_max_receive_count(
    endpoint: str, first_run: subprocess.CompletedProcess[str]
) -> None:
    sqs = client(endpoint, "sqs")
    url = sqs.get_queue_url(QueueName=f"{PREFIX}-jobs")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    policy = json.loads(attributes["RedrivePolicy"])
    assert policy["deadLetterTargetArn"].endswith(f":{PREFIX}-jobs-dlq")
    assert int(policy["maxReceiveCount"]) == 4
    assert int(attributes["VisibilityTimeout"]) == 720
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"kind": "poison"}))
    for _ in range(4):  # received 4 times and never deleted ...
        got = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0, WaitTimeSeconds=0)
        assert len(got.get("Messages", [])) == 1
    dlq = sqs.get_queue_url(QueueName=f"{PREFIX}-jobs-dlq")["QueueUrl"]
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages") is None
    (moved,) = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=0)["Messages"]  # ... moved
    assert json.loads(moved["Body"]) == {"kind": "poison"}


def test_bucket_is_private_expires_files_and_notifies_the_inbox_queue(
    endpoint: str, first_run: subprocess.CompletedProcess[str]
) -> None:
    s3 = client(endpoint, "s3")
    bucket = names.bucket_name(PREFIX)
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert set(block.values()) == {True}
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert {r["Filter"]["Prefix"]: r["Expiration"]["Days"] for r in rules} == (names.LIFECYCLE_DAYS)
    sqs = client(endpoint, "sqs")
    inbox = sqs.get_queue_url(QueueName=f"{PREFIX}-inbox")["QueueUrl"]
    sqs.purge_queue(QueueUrl=inbox)
    s3.put_object(Bucket=bucket, Key="inbox/orders/mock-data.json", Body=b'{"orders": []}')
    s3.put_object(Bucket=bucket, Key="results/x/result.csv", Body=b"a\n")  # not the inbox
    keys = []
    for _ in range(20):
        got = sqs.receive_message(QueueUrl=inbox, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in got.get("Messages", []):
            keys += object_keys(message["Body"])  # what the inbox function reads of it
        if keys:
            break
    assert keys == ["inbox/orders/mock-data.json"]


def test_the_topic_and_secret_exist(
    endpoint: str, first_run: subprocess.CompletedProcess[str]
) -> None:
    topics = client(endpoint, "sns").list_topics()["Topics"]
    assert [t["TopicArn"].rsplit(":", 1)[-1] for t in topics] == [f"{PREFIX}-alarms"]
    secret = client(endpoint, "secretsmanager").get_secret_value(SecretId=f"{PREFIX}/secret-key")
    assert len(secret["SecretString"]) >= 32


def test_an_unreachable_endpoint_is_one_clear_line() -> None:
    failed = init(f"http://127.0.0.1:{free_port()}")
    assert failed.returncode == 2
    assert failed.stderr.startswith("error: aws init failed:")
    assert len(failed.stderr.strip().splitlines()) == 1
    assert "Traceback" not in failed.stderr
