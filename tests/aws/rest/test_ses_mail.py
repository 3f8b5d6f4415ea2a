"""The SES channel on moto: mail from a verified sender; SES's refusals as verdicts."""

from __future__ import annotations

import socket
from typing import Any

import boto3
from botocore.config import Config
from botocore.stub import Stubber
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses import ses_backends

from leadflow.adapters.ses_mail import SesChannel
from leadflow.ports import Delivery

REGION = "us-east-1"


def sent() -> list[Any]:
    return list(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


def test_sends_plain_text_mail(client: Any) -> None:
    ses = client("ses")
    ses.verify_email_identity(EmailAddress="leads@acme.io")
    channel = SesChannel(ses, "leads@acme.io", "sales@acme.io")
    assert channel.name == "email"
    delivery = channel.send("New lead:\nAnn Lee", "name: Ann Lee\nemail: ann@x.io\n", {"b": 1})
    assert delivery == Delivery("sent")
    (message,) = sent()
    assert message.source == "leads@acme.io"
    assert message.destinations["ToAddresses"] == ["sales@acme.io"]
    assert message.subject == "New lead: Ann Lee"  # one line
    assert message.body == "name: Ann Lee\nemail: ann@x.io\n"


def test_an_unverified_sender_is_refused(client: Any) -> None:
    channel = SesChannel(client("ses"), "nobody@acme.io", "sales@acme.io")
    delivery = channel.send("s", "t")
    assert delivery.verdict == "refused" and "MessageRejected" in (delivery.reason or "")
    assert sent() == []


def test_throttling_is_a_rate_limit_and_errors_may_pass(client: Any) -> None:
    ses = client("ses")
    channel = SesChannel(ses, "leads@acme.io", "sales@acme.io")
    with Stubber(ses) as stub:
        stub.add_client_error("send_email", "Throttling", "Maximum sending rate exceeded.")
        stub.add_client_error("send_email", "ServiceUnavailable", "try later", 503)
        throttled = channel.send("s", "t")
        failed = channel.send("s", "t")
    assert throttled.verdict == "rate_limited" and throttled.retry_after == 1.0
    assert failed.verdict == "failed" and "ServiceUnavailable" in (failed.reason or "")


def test_an_unreachable_endpoint_is_a_failure_not_an_exception() -> None:
    """No moto here: a client aimed at a loopback port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    ses = boto3.client(
        "ses",
        region_name=REGION,
        endpoint_url=f"http://127.0.0.1:{port}",
        config=Config(retries={"max_attempts": 1}, connect_timeout=2),
    )
    delivery = SesChannel(ses, "a@acme.io", "b@acme.io").send("s", "t")
    assert delivery.verdict == "failed" and "EndpointConnectionError" in (delivery.reason or "")
