"""boto3 clients for leadflow, built lazily (boto3 is the optional `aws` extra).

boto3 itself honours AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_<SERVICE>), so the same code
talks to AWS or to a moto server on loopback.
"""

from __future__ import annotations

from typing import Any

from ..settings import Settings

DEFAULT_REGION = "us-east-1"  # when neither the settings nor the environment name one


class AwsExtraMissing(RuntimeError):
    """boto3 is not installed: `pip install 'leadflow[aws]'`."""


def client(service: str, settings: Settings) -> Any:
    """A boto3 client for `service` ("dynamodb", "sqs", ...) in the configured region.

    Typed Any: boto3's stubs are optional. AwsExtraMissing without boto3.
    """
    try:
        import boto3
    except ImportError:
        raise AwsExtraMissing(
            "the AWS backend needs the aws extra: pip install 'leadflow[aws]'"
        ) from None
    session: Any = boto3.session.Session()  # Any: the service name is not a literal here
    region = settings.aws_region or session.region_name or DEFAULT_REGION
    return session.client(service, region_name=region)
