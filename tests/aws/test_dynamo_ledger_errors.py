"""The DynamoDB batch ledger and schema-error log on moto."""

from __future__ import annotations

from typing import Any

from leadflow.adapters.dynamo_ledger import DynamoBatchLedger
from leadflow.adapters.dynamo_schema_errors import DynamoSchemaErrorLog
from leadflow.domain.lead import FieldError, Rejection
from leadflow.ports import DEAD_LETTERED, WriteContext


def test_ledger_entries_are_put_once_and_totals_are_their_sum(
    dynamodb: Any, table_prefix: str
) -> None:
    ledger = DynamoBatchLedger(dynamodb, table_prefix)
    assert ledger.record(
        "job", 1, {"created": 2, "received": 2}, [(1, "created", "a"), (2, "created", "b")]
    )
    assert not ledger.record("job", 1, {"created": 9})  # a redelivery
    assert ledger.has("job", 1) and not ledger.has("job", 2)
    assert ledger.mark_dead("job", 2)
    assert not ledger.has("job", 2)
    assert not ledger.mark_dead("job", 2) and not ledger.mark_dead("job", 1)
    assert ledger.totals("job") == (2, {"created": 2, "received": 2, DEAD_LETTERED: 1})
    # the redriven batch takes its dead entry's place
    assert ledger.record("job", 2, {"updated": 1, "received": 1}, [(3, "updated", "c")])
    assert ledger.has("job", 2)
    # ... and says deadLettered: 0, so the job's summary shows every dead batch is back
    assert ledger.totals("job") == (
        2,
        {"created": 2, "received": 3, "updated": 1, DEAD_LETTERED: 0},
    )
    assert list(ledger.outcomes("job")) == [
        (1, "created", "a"),
        (2, "created", "b"),
        (3, "updated", "c"),
    ]
    assert ledger.totals("other") == (0, {})
    ledger.forget("job")
    assert ledger.totals("job") == (0, {}) and list(ledger.outcomes("job")) == []


def test_totals_sum_many_entries_without_a_counter_item(dynamodb: Any, table_prefix: str) -> None:
    ledger = DynamoBatchLedger(dynamodb, table_prefix)
    for batch in range(120):
        assert ledger.record("big", batch, {"received": 100, "created": batch % 3})
    entries, totals = ledger.totals("big")
    assert entries == 120
    assert totals == {"received": 12_000, "created": sum(b % 3 for b in range(120))}


def _ctx(import_id: str, now: str, owner: str = "alice") -> WriteContext:
    return WriteContext(owner, import_id, "b1", "upload", "f.csv", now)


def _rejection(row: int) -> Rejection:
    return Rejection(row, {"email": f"bad{row}"}, [FieldError("email", "not an email")])


def test_schema_errors_are_kept_once_per_row_newest_first(dynamodb: Any, table_prefix: str) -> None:
    log = DynamoSchemaErrorLog(dynamodb, table_prefix)
    log.append(_ctx("imp1", "2026-11-30T01:00:00.000Z"), [_rejection(1), _rejection(2)])
    log.append(_ctx("imp1", "2026-11-30T01:00:00.000Z"), [_rejection(2)])  # a replay
    log.append(_ctx("imp2", "2026-11-30T01:05:00.000Z"), [_rejection(1)])
    log.append(_ctx("imp3", "2026-11-30T01:06:00.000Z", owner="bob"), [_rejection(1)])
    entries = log.list("alice")
    assert [(e["importId"], e["index"]) for e in entries] == [("imp2", 1), ("imp1", 2), ("imp1", 1)]
    first = entries[0]
    assert first["record"] == {"email": "bad1"}
    assert first["errors"] == [{"field": "email", "message": "not an email"}]
    assert (first["source"], first["createdAt"]) == ("upload", "2026-11-30T01:05:00.000Z")
    assert [e["id"] for e in entries] == [3, 2, 1]  # the replay took no id; bob counts apart
    page = log.list("alice", limit=1, before=entries[0]["id"])
    assert [(e["importId"], e["index"]) for e in page] == [("imp1", 2)]
    assert [e["index"] for e in log.list("alice", import_id="imp1")] == [2, 1]
    assert log.list("alice", import_id="imp3") == []
    log.forget_import("imp1")
    assert [e["importId"] for e in log.list("alice", limit=-1)] == ["imp2"]
