"""The Lambda handlers with hand-built events (moto cannot run Lambda code without Docker).

Partial batch failures are tested as Powertools' own tests do: one multi-record event,
one record that fails, and the answer naming only that record.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from lambda_events import local_services, s3_notification, sqs_event, sqs_record

from leadflow.aws import (
    alarm_handler,
    api_handler,
    inbox_handler,
    queue_handler,
    sweeper_handler,
)
from leadflow.bootstrap import Services, upload_ports
from leadflow.jobs.uploads import start_upload
from leadflow.ports import DEAD_LETTERED_CODE
from leadflow.security import hash_password, issue_token

__all__ = ["local_services"]  # the fixture, shared with the other handler tests

CSV = (
    "email,first_name,last_name,company\n"
    "ann@example.com,Ann,Lee,Acme\n"
    "bob@example.com,Bob,Ray,Beta\n"
    "not-an-email,Cid,Moe,Gamma\n"
    "ann@example.com,Ann,Lee,Acme Corp\n"
)


def queued_as_records(services: Services) -> list[dict[str, Any]]:
    """What the local queue holds, as the SQS records Lambda would be handed."""
    messages = services.queue.receive(100, 60)
    return [sqs_record(json.dumps(m.body), m.owner, m.receive_count, str(m.id)) for m in messages]


def test_worker_runs_an_upload_and_fails_only_the_bad_record(local_services: Services) -> None:
    services = local_services
    job_id = start_upload(upload_ports(services), "alice", "leads.csv", [CSV.encode()], {})
    (split,) = queued_as_records(services)
    assert queue_handler.handler(sqs_event([split]), None) == {"batchItemFailures": []}
    batches = queued_as_records(services)
    assert [json.loads(r["body"])["kind"] for r in batches] == ["batch"]
    poison = sqs_record(json.dumps({"kind": "no-such-kind"}), "alice", message_id="poison-1")
    not_json = sqs_record("{not json", "alice", message_id="poison-2")
    answer = queue_handler.handler(sqs_event([poison, *batches, not_json]), None)
    assert answer == {
        "batchItemFailures": [{"itemIdentifier": "poison-1"}, {"itemIdentifier": "poison-2"}]
    }
    job = services.jobs.get(job_id)
    assert job is not None and job.status == "completed"
    entries, totals = services.ledger.totals(job_id)
    assert entries == 1
    assert totals["received"] == 4 and totals["invalid"] == 1 and totals["created"] == 2
    assert services.lead_reads.count_leads("alice") == 2


def test_the_message_carries_owner_and_tries_as_the_sqs_adapter_sets_them() -> None:
    record = sqs_record(json.dumps({"kind": "split", "jobId": "j1"}), "alice", receive_count=2)
    record["messageAttributes"]["leadflow-tries"] = {"stringValue": "3", "dataType": "Number"}
    message = queue_handler.message_of(SQSRecord(record))
    assert (message.id, message.owner, message.receive_count) == (record["messageId"], "alice", 5)
    assert message.body == {"kind": "split", "jobId": "j1"}


def test_a_redelivered_batch_changes_nothing(local_services: Services) -> None:
    services = local_services
    job_id = start_upload(upload_ports(services), "alice", "leads.csv", [CSV.encode()], {})
    queue_handler.handler(sqs_event(queued_as_records(services)), None)
    (batch,) = queued_as_records(services)
    for _ in range(2):  # at-least-once: Lambda may see the same message twice
        assert queue_handler.handler(sqs_event([batch]), None) == {"batchItemFailures": []}
    assert services.ledger.totals(job_id)[1]["created"] == 2
    assert services.lead_reads.count_leads("alice") == 2


def test_sweeper_enters_batches_sqs_dead_lettered_so_the_job_ends(
    local_services: Services,
) -> None:
    services = local_services
    job_id = start_upload(upload_ports(services), "alice", "leads.csv", [CSV.encode()], {})
    queue_handler.handler(sqs_event(queued_as_records(services)), None)
    (batch,) = services.queue.receive(10, 60)
    # SQS's redrive policy moves the message after its last receive: no handler sees it
    services.dead_letters.add([batch.body], batch.owner, "moved by the redrive policy")
    services.queue.delete(batch)
    assert services.jobs.get(job_id).status == "processing"  # type: ignore[union-attr]
    assert sweeper_handler.handler({"source": "aws.events"}, None) == {
        "forgotten": 0,
        "adopted": 1,
    }
    job = services.jobs.get(job_id)
    # it ended instead of waiting forever; its only batch is in the DLQ, so in error
    assert job is not None and job.status == "error" and job.error is not None
    assert job.error["code"] == DEAD_LETTERED_CODE
    assert services.ledger.totals(job_id)[1] == {"deadLettered": 1}
    assert sweeper_handler.handler({}, None)["adopted"] == 0  # entered once


def test_inbox_runs_leads_and_orders_objects_from_s3_events(local_services: Services) -> None:
    services = local_services
    services.blobs.put_stream("inbox/leads/new-leads.csv", [CSV.encode()])
    orders = {
        "orders": [
            {
                "contact-info": {"name": "Foo Bar", "email": "foobar@test.com"},
                "order-info": {"OrderId": "1", "item-id": "101", "item-desc": "One", "qty": "1"},
            },
            {"order-info": {"orderId": "2", "item-id": "102", "item-desc": "Two", "qty": "2"}},
        ]
    }
    services.blobs.put_stream("inbox/orders/mock-data.json", [json.dumps(orders).encode()])
    services.blobs.put_stream("inbox/orders/broken.json", [b'{"orders": 5}'])
    body = s3_notification(
        "leadflow-blobs",
        ["inbox/leads/new-leads.csv", "inbox/orders/mock-data.json", "inbox/orders/broken.json"],
    )
    body_gone = s3_notification("leadflow-blobs", ["inbox/leads/deleted-since.csv"])
    test_event = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"})
    event = sqs_event([sqs_record(body), sqs_record(test_event), sqs_record(body_gone)])
    assert inbox_handler.handler(event, None) == {"batchItemFailures": []}
    assert services.lead_reads.count_leads("alice") == 2
    (letter,) = services.dead_letters.list("alice")
    assert letter.body["index"] == 1 and "contact-info is missing" in (letter.last_error or "")
    rejected = services.settings.data_dir / "inbox" / "orders" / "rejected"
    assert [p.name.endswith("broken.json.reason.txt") for p in rejected.glob("*.reason.txt")] == [
        True
    ]
    # S3 may notify twice: the same file again changes nothing
    assert inbox_handler.handler(sqs_event([sqs_record(body)]), None) == {"batchItemFailures": []}
    assert services.lead_reads.count_leads("alice") == 2


def test_s3_keys_arrive_url_encoded() -> None:
    body = s3_notification("b", ["inbox/leads/Q3 leads, final.csv"])
    assert "Q3+leads%2C+final.csv" in body
    assert inbox_handler.object_keys(body) == ["inbox/leads/Q3 leads, final.csv"]


def api_event(method: str, path: str, token: str | None = None, body: Any = None) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event."""
    headers = {
        "host": "abc.execute-api.us-east-1.amazonaws.com",
        "content-type": "application/json",
    }
    if token:
        headers["authorization"] = f"Bearer {token}"
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc",
            "domainName": "abc.execute-api.us-east-1.amazonaws.com",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.9",
                "userAgent": "test",
            },
            "requestId": "r1",
            "routeKey": "$default",
            "stage": "$default",
            "time": "30/Nov/2026:01:00:00 +0000",
            "timeEpoch": 1_800_000_000_000,
        },
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
    }


def test_api_through_mangum(local_services: Services) -> None:
    services = local_services
    services.users.add_user("alice", hash_password("correct horse battery"), "2026-01-01T00:00:00Z")
    token = issue_token(services.secret, "alice", 600)
    records = [
        {"name": "Jo Doe", "email": "jo@example.com", "optIn": True, "interests": ["python"]},
        {"name": "No Mail", "optIn": True, "interests": ["x"]},
    ]
    answer = api_handler.handler(api_event("POST", "/v1/records", token, records), None)
    assert answer["statusCode"] == 200, answer
    summary = json.loads(answer["body"])
    assert (summary["received"], summary["saved"], len(summary["invalid"])) == (2, 1, 1)
    denied = api_handler.handler(api_event("GET", "/v1/leads"), None)
    assert denied["statusCode"] == 401
    assert json.loads(denied["body"])["error"]["code"] == "unauthorized"
    page = api_handler.handler(api_event("GET", "/"), None)  # the web app, same function
    assert page["statusCode"] in (200, 302, 303, 307)


class SlackPeer(BaseHTTPRequestHandler):
    posts: list[dict[str, Any]] = []
    status = 200

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        length = int(self.headers["content-length"])
        SlackPeer.posts.append(json.loads(self.rfile.read(length)))
        self.send_response(SlackPeer.status)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlackPeer)
    SlackPeer.posts, SlackPeer.status = [], 200
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv(
        "LEADFLOW_SLACK_ALERT_WEBHOOK_URL", f"http://127.0.0.1:{server.server_port}/hook"
    )
    yield SlackPeer.posts
    server.shutdown()
    server.server_close()


def sns_event(message: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "Sns": {
                    "Type": "Notification",
                    "TopicArn": "arn:aws:sns:us-east-1:123456789012:leadflow-alarms",
                    "Subject": "ALARM",
                    "Message": message,
                },
            }
        ]
    }


ALARM = {
    "AlarmName": "leadflow-dlq-depth",
    "NewStateValue": "ALARM",
    "NewStateReason": "Threshold Crossed: 1 datapoint [5.0] was greater than the threshold (2.0).",
    "OldStateValue": "OK",
    "Trigger": {"MetricName": "ApproximateNumberOfMessagesVisible", "Threshold": 2.0},
}


def test_dlq_alarm_posts_to_the_slack_alert_webhook(slack: list[dict[str, Any]]) -> None:
    assert alarm_handler.handler(sns_event(json.dumps(ALARM)), None) == {"posted": 1}
    (post,) = slack
    assert post["text"].startswith(":rotating_light: leadflow-dlq-depth is ALARM: Threshold")
    assert "leadflow dlq redrive" in post["text"]


def test_a_refused_alert_raises_so_sns_retries(slack: list[dict[str, Any]]) -> None:
    SlackPeer.status = 500
    with pytest.raises(alarm_handler.AlertNotDelivered, match="HTTP 500"):
        alarm_handler.handler(sns_event(json.dumps(ALARM)), None)


def test_without_a_webhook_the_alarm_is_logged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEADFLOW_SLACK_ALERT_WEBHOOK_URL", raising=False)
    assert alarm_handler.handler(sns_event("plain text <b>"), None) == {"posted": 0}
    assert alarm_handler.alarm_text("a <b>") == ":warning: leadflow alert: a &lt;b&gt;"
