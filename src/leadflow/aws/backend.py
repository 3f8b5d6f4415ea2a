"""The AWS adapter set (LEADFLOW_BACKEND=aws): DynamoDB, SQS, S3 and SES, named as
`leadflow aws init` and the SAM template name them (LEADFLOW_AWS_PREFIX).

Imported only for the aws backend: boto3 and botocore are the optional `aws` extra.
Clients honour AWS_ENDPOINT_URL, so the same set runs on AWS and on a moto server.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from ..adapters.dynamo_jobs import DynamoJobStore
from ..adapters.dynamo_leads import DynamoLeadReadModel, DynamoLeadRepository
from ..adapters.dynamo_ledger import DynamoBatchLedger
from ..adapters.dynamo_misc import (
    DynamoMappingStore,
    DynamoOrderStore,
    DynamoProviderCache,
    DynamoUserStore,
)
from ..adapters.dynamo_outbox import DynamoOutbox
from ..adapters.dynamo_schema_errors import DynamoSchemaErrorLog
from ..adapters.s3_blobs import S3BlobStore
from ..adapters.sqs_queue import SqsDeadLetters, SqsQueue
from ..pipelines.upsert import WritePorts
from ..settings import Settings
from . import resources as names
from .clients import client
from .secrets import MissingSecret, aws_secret_key

# Error codes that say "the service cannot take this now" (throttled, overloaded, down):
# the loops retry the same work later instead of failing it.
UNAVAILABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "SlowDown",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalError",
        "InternalServerError",
        "InternalFailure",
        "KMS.ThrottlingException",
        "AWS.SimpleQueueService.ServiceUnavailable",
    }
)
# What the start-up answers mean: the resources `leadflow aws init` creates are missing.
MISSING_CODES = frozenset(
    {"ResourceNotFoundException", "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}
)


class AwsBackendError(RuntimeError):
    """The AWS backend cannot start (no endpoint, no credentials, resources missing, no
    signing key); the message says what to do."""


def aws_unavailable(exc: BaseException) -> bool:
    """Whether an exception means an AWS service is unavailable (throttling, 5xx, the
    endpoint unreachable or timing out), not that the work itself is bad."""
    if isinstance(
        exc,
        EndpointConnectionError | ConnectTimeoutError | ReadTimeoutError | ConnectionClosedError,
    ):
        return True
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return str(error.get("Code", "")) in UNAVAILABLE_CODES or int(status or 0) >= 500
    return False


@dataclass(frozen=True)
class AwsAdapters:
    """What bootstrap's aws branch puts into Services, plus the clients the aws runtime
    (the inbox queue poller) uses."""

    sqs: Any
    inbox_queue_url: str
    s3: Any
    bucket: str  # the blob bucket; the inbox objects are in it
    adapters: dict[str, Any]
    secret: str


def build(settings: Settings, clock: Callable[[], float] = time.time) -> AwsAdapters:
    """The adapter set for `settings` (one client per service, shared by the adapters;
    boto3 clients are thread-safe). AwsBackendError when the endpoint cannot be reached,
    credentials are missing, a queue `leadflow aws init` creates does not exist, or the
    signing key is missing (aws_secret_key's rules)."""
    prefix = settings.aws_prefix
    try:
        dynamodb = client("dynamodb", settings)
        sqs = client("sqs", settings)
        s3 = client("s3", settings)
        jobs_url = _queue_url(sqs, names.queue_name(prefix, names.JOBS_QUEUE))
        dlq_url = _queue_url(sqs, names.queue_name(prefix, names.DLQ))
        inbox_url = _queue_url(sqs, names.queue_name(prefix, names.INBOX_QUEUE))
        secret = aws_secret_key(settings)
    except (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError) as exc:
        raise AwsBackendError(f"cannot reach AWS: {exc}") from None
    except NoCredentialsError:
        raise AwsBackendError(
            "no AWS credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a profile)"
        ) from None
    except ClientError as exc:
        raise AwsBackendError(f"AWS refused the start-up: {_reason(exc)}") from None
    except MissingSecret as exc:
        raise AwsBackendError(str(exc)) from None
    count = settings.max_receive_count
    adapters: dict[str, Any] = {
        "lead_repo": DynamoLeadRepository(dynamodb, prefix),
        "lead_reads": DynamoLeadReadModel(dynamodb, prefix),
        "schema_errors": DynamoSchemaErrorLog(dynamodb, prefix),
        "ledger": DynamoBatchLedger(dynamodb, prefix),
        "users": DynamoUserStore.for_prefix(dynamodb, prefix),
        "jobs": DynamoJobStore.for_prefix(dynamodb, prefix, clock),
        "queue": SqsQueue(sqs, jobs_url, dlq_url, count, clock),
        "dead_letters": SqsDeadLetters(sqs, jobs_url, dlq_url, count, clock),
        "blobs": S3BlobStore(s3, names.bucket_name(prefix)),  # the SAM template's bucket
        "provider_cache": DynamoProviderCache.for_prefix(dynamodb, prefix),
        "orders": DynamoOrderStore.for_prefix(dynamodb, prefix),
        "outbox": DynamoOutbox.for_prefix(dynamodb, prefix, clock),
        "mappings": DynamoMappingStore.for_prefix(dynamodb, prefix),
    }
    return AwsAdapters(sqs, inbox_url, s3, names.bucket_name(prefix), adapters, secret)


def open_write_ports(settings: Settings) -> WritePorts:
    """Fresh lead write ports (no ledger) on fresh clients, for an import worker process
    (clients are not shared across a fork)."""
    dynamodb = client("dynamodb", settings)
    prefix = settings.aws_prefix
    return WritePorts(
        DynamoLeadRepository(dynamodb, prefix), DynamoSchemaErrorLog(dynamodb, prefix)
    )


def ses_channel(settings: Settings) -> Any:
    """The e-mail channel through SES (LEADFLOW_EMAIL_FROM to LEADFLOW_EMAIL_TO)."""
    from ..adapters.ses_mail import SesChannel

    assert settings.email_from and settings.email_to  # the caller checked
    return SesChannel(client("ses", settings), settings.email_from, settings.email_to)


def _queue_url(sqs: Any, name: str) -> str:
    try:
        return str(sqs.get_queue_url(QueueName=name)["QueueUrl"])
    except ClientError as exc:
        if _code(exc) in MISSING_CODES:
            raise AwsBackendError(
                f"the SQS queue {name!r} does not exist: run `leadflow aws init` (with the "
                "same LEADFLOW_AWS_PREFIX and AWS_ENDPOINT_URL) or deploy the template"
            ) from None
        raise


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _reason(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    return f"{error.get('Code', '')}: {error.get('Message', '')}".strip(": ")
