"""The DynamoDB Outbox on moto: idempotent adds, leased claims, alarms."""

from __future__ import annotations

from typing import Any

import pytest

from leadflow.adapters.dynamo_outbox import DynamoOutbox
from leadflow.adapters.dynamo_tables_rest import create_rest_tables
from leadflow.ports import OUTBOX_CLAIM_SECONDS

NOW = "2027-01-15T08:00:00.000Z"


@pytest.fixture
def outbox(client: Any) -> DynamoOutbox:
    db = client("dynamodb")
    create_rest_tables(db, "t")
    return DynamoOutbox.for_prefix(db, "t", clock=lambda: 1000.0)


def test_add_is_idempotent_by_key(outbox: DynamoOutbox) -> None:
    assert outbox.add_many("alice", {"f:1": {"leadId": "1"}, "f:2": {"leadId": "2"}}, NOW) == 2
    assert outbox.add_many("alice", {"f:1": {"leadId": "changed"}, "f:3": {}}, NOW) == 1
    assert outbox.counts() == {"pending": 3}
    (entry,) = [e for e in outbox.claim(10, 1000.0) if e.id == "f:1"]
    assert entry.payload == {"leadId": "1"} and entry.owner == "alice" and entry.attempts == 1
    outbox.finish(entry, "sent", "slack", None)
    assert outbox.add_many("alice", {"f:1": {"leadId": "1"}}, NOW) == 0  # sent stays sent


def test_claim_leases_and_abandoned_claims_return(outbox: DynamoOutbox) -> None:
    outbox.add_many("alice", {f"k{i}": {"i": i} for i in range(5)}, NOW)
    first = outbox.claim(3, 1000.0)
    assert len(first) == 3
    rest = outbox.claim(10, 1000.0)
    assert {e.id for e in first} | {e.id for e in rest} == {f"k{i}" for i in range(5)}
    assert outbox.claim(10, 1000.0 + OUTBOX_CLAIM_SECONDS) == []  # not older than the limit
    again = outbox.claim(10, 1000.0 + OUTBOX_CLAIM_SECONDS + 1)  # the sender died
    assert len(again) == 5 and {e.attempts for e in again} == {2}
    assert outbox.counts() == {"sending": 5}


def test_finish_and_retry_at(outbox: DynamoOutbox) -> None:
    outbox.add_many("alice", {"a": {}, "b": {}, "c": {}}, NOW)
    entries = {e.id: e for e in outbox.claim(10, 1000.0)}
    outbox.finish(entries["a"], "sent", "email", None)
    outbox.finish(entries["b"], "dead", None, "refused")
    outbox.retry_at([entries["c"]], 2000.0, "HTTP 503", counts=False)
    assert outbox.counts() == {"sent": 1, "dead": 1, "pending": 1}
    assert outbox.claim(10, 1999.0) == []
    (c,) = outbox.claim(10, 2000.0)
    assert c.id == "c" and c.attempts == 1  # the rate-limited try was given back
    outbox.retry_at([c], 2000.0, None)
    (c,) = outbox.claim(10, 5000.0)
    assert c.attempts == 2
    assert outbox.claim(10, 5000.0 + OUTBOX_CLAIM_SECONDS) == []  # its claim is good


def test_alarm_state_changes_once_per_crossing(outbox: DynamoOutbox) -> None:
    assert outbox.alarm_raised("dlq_depth") is False
    assert outbox.set_alarm("dlq_depth", False) is True  # the first call is a change
    assert outbox.set_alarm("dlq_depth", True) is True
    assert outbox.set_alarm("dlq_depth", True) is False
    assert outbox.alarm_raised("dlq_depth") is True
    assert outbox.set_alarm("dlq_depth", False) is True
    assert outbox.alarm_raised("dlq_depth") is False
