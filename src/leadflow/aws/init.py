"""`leadflow aws init`: create what deploy/aws/template.yaml creates, for local development.

Against a moto server (AWS_ENDPOINT_URL=http://127.0.0.1:PORT) this gives the AWS backend
its tables, queues, bucket, topic and secret. Idempotent: a resource that exists already is
left as it is (its settings brought in line where the API allows), so a second run is fine.
Functions, state machines, Cognito and alarms are the template's alone.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import resources as names

ClientFactory = Callable[[str], Any]
VISIBILITY_TIMEOUT = 720  # seconds: 6x the worker function's 120 s timeout, as the template
DLQ_RETENTION = 1_209_600  # 14 days, SQS's longest


@dataclass(frozen=True, slots=True)
class Created:
    """One resource `init` looked at: its kind, name and whether this run created it."""

    kind: str
    name: str
    created: bool


def init_resources(
    clients: ClientFactory, prefix: str, max_receive_count: int, secret: bool = True
) -> list[Created]:
    """Create the tables, queues (with redrive), bucket (with lifecycle, public access
    block and inbox notifications), topic and, with `secret`, the signing-key secret.

    Errors of the AWS API other than "exists already" propagate (botocore ClientError).
    """
    done: list[Created] = []
    dynamodb = clients("dynamodb")
    for suffix in names.TABLES:
        done.append(_table(dynamodb, prefix, suffix))
    sqs = clients("sqs")
    arns: dict[str, str] = {}
    urls: dict[str, str] = {}
    for queue in (names.DLQ, names.INBOX_DLQ, names.JOBS_QUEUE, names.INBOX_QUEUE):
        attributes = {"VisibilityTimeout": str(VISIBILITY_TIMEOUT)}
        if queue in names.REDRIVES:
            policy = {
                "deadLetterTargetArn": arns[names.REDRIVES[queue]],
                "maxReceiveCount": str(max_receive_count),
            }
            attributes["RedrivePolicy"] = json.dumps(policy)
        else:
            attributes["MessageRetentionPeriod"] = str(DLQ_RETENTION)
        name = names.queue_name(prefix, queue)
        existed = _queue_url(sqs, name) is not None
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)  # brought in line
        urls[queue] = url
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        arns[queue] = arn["Attributes"]["QueueArn"]
        done.append(Created("queue", name, not existed))
    done.append(_bucket(clients("s3"), sqs, prefix, urls[names.INBOX_QUEUE], arns))
    sns = clients("sns")
    topic = names.topic_name(prefix)
    existing = {t["TopicArn"].rsplit(":", 1)[-1] for t in sns.list_topics().get("Topics", [])}
    sns.create_topic(Name=topic)  # idempotent by name
    done.append(Created("topic", topic, topic not in existing))
    if secret:
        done.append(_secret(clients("secretsmanager"), prefix))
    return done


def table_request(name: str, spec: names.TableSpec) -> dict[str, Any]:
    """CreateTable's arguments for one table (on-demand billing)."""
    keys = [spec.hash_key, *([spec.range_key] if spec.range_key else [])]
    attributes = dict(keys)
    for index in spec.indexes:
        attributes.update([index.hash_key, index.range_key])
    request: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": a, "AttributeType": t} for a, t in attributes.items()
        ],
        "KeySchema": _key_schema(spec.hash_key, spec.range_key),
    }
    if spec.indexes:
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": _key_schema(index.hash_key, index.range_key),
                "Projection": {"ProjectionType": index.projection},
            }
            for index in spec.indexes
        ]
    return request


def _key_schema(hash_key: names.Key, range_key: names.Key | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": hash_key[0], "KeyType": "HASH"}]
    if range_key is not None:
        schema.append({"AttributeName": range_key[0], "KeyType": "RANGE"})
    return schema


def _table(dynamodb: Any, prefix: str, suffix: str) -> Created:
    spec = names.TABLES[suffix]
    name = names.table_name(prefix, suffix)
    try:
        dynamodb.create_table(**table_request(name, spec))
        created = True
    except dynamodb.exceptions.ResourceInUseException:
        created = False
    dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1})
    if spec.ttl_attribute:
        ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute},
            )
    dynamodb.update_continuous_backups(
        TableName=name,
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
    )
    return Created("table", name, created)


def _queue_url(sqs: Any, name: str) -> str | None:
    try:
        return str(sqs.get_queue_url(QueueName=name)["QueueUrl"])
    except sqs.exceptions.QueueDoesNotExist:
        return None


def _bucket(s3: Any, sqs: Any, prefix: str, inbox_url: str, arns: dict[str, str]) -> Created:
    name = names.bucket_name(prefix)
    region = s3.meta.region_name
    request: dict[str, Any] = {"Bucket": name}
    if region != "us-east-1":  # S3's one region that takes no location constraint
        request["CreateBucketConfiguration"] = {"LocationConstraint": region}
    created = not _bucket_exists(s3, name)  # us-east-1 answers a second create with 200
    if created:
        try:
            s3.create_bucket(**request)
        except s3.exceptions.BucketAlreadyOwnedByYou:
            created = False
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    rules = [
        {
            "ID": f"expire-{key_prefix.rstrip('/')}",
            "Status": "Enabled",
            "Filter": {"Prefix": key_prefix},
            "Expiration": {"Days": days},
        }
        for key_prefix, days in names.LIFECYCLE_DAYS.items()
    ]
    s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})
    inbox_arn = arns[names.INBOX_QUEUE]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "BucketNotifiesInbox",
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": inbox_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": f"arn:aws:s3:::{name}"}},
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=inbox_url, Attributes={"Policy": json.dumps(policy)})
    s3.put_bucket_notification_configuration(
        Bucket=name,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "Id": f"inbox-{key_prefix.split('/')[1]}",
                    "QueueArn": inbox_arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": key_prefix}]}},
                }
                for key_prefix in names.INBOX_PREFIXES
            ]
        },
    )
    return Created("bucket", name, created)


def _bucket_exists(s3: Any, name: str) -> bool:
    try:
        s3.head_bucket(Bucket=name)
    except s3.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchBucket", "NotFound"):
            return False
        raise
    return True


def _secret(client: Any, prefix: str) -> Created:
    name = names.secret_name(prefix)
    try:
        client.describe_secret(SecretId=name)
        return Created("secret", name, False)
    except client.exceptions.ResourceNotFoundException:
        pass
    client.create_secret(
        Name=name,
        Description="leadflow's token-signing key",
        SecretString=secrets.token_urlsafe(48),
    )
    return Created("secret", name, True)
