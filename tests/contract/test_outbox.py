"""The Outbox contract (ports.Outbox), on every adapter set."""

from __future__ import annotations

from port_adapters import AdapterSet

from leadflow.ports import OUTBOX_CLAIM_SECONDS


def test_add_many_is_idempotent_by_key(adapter_set: AdapterSet) -> None:
    outbox = adapter_set.outbox()
    assert outbox.add_many("alice", {"f:1": {"leadId": "1"}, "f:2": {"leadId": "2"}}, "t") == 2
    assert outbox.add_many("alice", {"f:1": {"leadId": "changed"}, "f:3": {}}, "t") == 1
    assert outbox.counts() == {"pending": 3}
    entries = outbox.claim(10)
    assert {e.payload.get("leadId") for e in entries} == {"1", "2", None}
    for entry in entries:
        outbox.finish(entry, "sent", "slack", None)
    assert outbox.add_many("alice", {"f:1": {"leadId": "1"}}, "t") == 0, "sent keys too"
    assert outbox.counts() == {"sent": 3}


def test_claim_leases_and_counts_attempts(adapter_set: AdapterSet) -> None:
    outbox = adapter_set.outbox()
    outbox.add_many("alice", {f"k{n}": {"n": n} for n in range(3)}, "t")
    first = outbox.claim(2)
    assert len(first) == 2 and all(e.attempts == 1 and e.owner == "alice" for e in first)
    assert all(isinstance(e.id, str) for e in first)
    (third,) = outbox.claim(10)
    assert third.payload["n"] not in {e.payload["n"] for e in first}
    assert outbox.claim(10) == [], "all claimed"
    assert outbox.counts() == {"sending": 3}


def test_a_claim_whose_sender_died_is_taken_again(adapter_set: AdapterSet) -> None:
    outbox = adapter_set.outbox()
    outbox.add_many("alice", {"k": {"n": 1}}, "t")
    (entry,) = outbox.claim(now=adapter_set.clock())
    assert outbox.claim(now=adapter_set.clock() + OUTBOX_CLAIM_SECONDS - 1) == []
    (again,) = outbox.claim(now=adapter_set.clock() + OUTBOX_CLAIM_SECONDS + 1)
    assert again.id == entry.id and again.attempts == 2


def test_finish_ends_an_entry_for_good(adapter_set: AdapterSet) -> None:
    outbox = adapter_set.outbox()
    outbox.add_many("alice", {"a": {}, "b": {}}, "t")
    a, b = outbox.claim(now=adapter_set.clock())
    outbox.finish(a, "sent", "email", "slack: 500")
    outbox.finish(b, "dead", None, "after 6 attempts")
    assert outbox.counts() == {"sent": 1, "dead": 1}
    assert outbox.claim(now=adapter_set.clock() + 10 * OUTBOX_CLAIM_SECONDS) == []


def test_retry_at_puts_entries_back_due_later(adapter_set: AdapterSet) -> None:
    outbox = adapter_set.outbox()
    outbox.add_many("alice", {"a": {"n": 1}, "b": {"n": 2}}, "t")
    now = adapter_set.clock()
    entries = outbox.claim(now=now)
    outbox.retry_at(entries, now + 30, "slack: 503")
    assert outbox.counts() == {"pending": 2}
    assert outbox.claim(now=now + 29) == []
    again = outbox.claim(now=now + 30)
    assert sorted(e.attempts for e in again) == [2, 2]
    outbox.retry_at(again, now + 40, None, counts=False)  # a rate limit: not a try
    last = outbox.claim(now=now + 40)
    assert sorted(e.attempts for e in last) == [2, 2]


def test_alarms_change_once_per_crossing(adapter_set: AdapterSet) -> None:
    outbox = adapter_set.outbox()
    assert outbox.alarm_raised("dlq_depth") is False
    assert outbox.set_alarm("dlq_depth", True) is True
    assert outbox.alarm_raised("dlq_depth") is True
    assert outbox.set_alarm("dlq_depth", True) is False
    assert outbox.set_alarm("dlq_depth", False) is True
    assert outbox.set_alarm("dlq_depth", False) is False
    assert outbox.alarm_raised("dlq_depth") is False
    assert outbox.alarm_raised("other") is False
