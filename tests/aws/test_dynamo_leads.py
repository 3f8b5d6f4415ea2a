"""The DynamoDB lead repository and read model on moto: the write guarantee's conditions,
receipts, key claims, skips, undo, and the read model's pages and queries."""

from __future__ import annotations

from typing import Any

import pytest

from leadflow.adapters.dynamo_leads import DynamoLeadReadModel, DynamoLeadRepository
from leadflow.adapters.dynamo_tables import create_tables
from leadflow.pipelines.ids import new_lead_ids
from leadflow.ports import AuditRecord, BadCursor, LeadQuery, LeadWrite, RowReceipt

OWNER = "alice"
NOW = "2026-11-30T01:00:00.000Z"


def _values(email: str | None, row: int, import_id: str = "imp1", **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "email": email,
        "phone": None,
        "phone_valid": None,
        "first_name": "Ann",
        "last_name": "Lee",
        "name": "Ann Lee",
        "title": "",
        "company": "Acme",
        "remarks": "",
        "opt_in": True,
        "interests": ["crm"],
        "attributes": {"size": "10"},
        "source": "upload",
        "source_file": "a.csv",
        "created_at": NOW,
        "updated_at": NOW,
        "import_id": import_id,
        "import_row": row,
        "created_import_id": import_id,
    }
    values.update(extra)
    return values


def _create(
    lead_id: str, key: str | None, row: int, import_id: str = "imp1", **extra: Any
) -> LeadWrite:
    email = key if key is not None and "@" in key else None
    receipt = RowReceipt(import_id, row, "created", lead_id, {"created": 1})
    return LeadWrite(
        "create",
        OWNER,
        lead_id,
        key,
        _values(email, row, import_id, **extra),
        None,
        import_id,
        row,
        receipt=receipt,
    )


def _update(
    lead_id: str,
    key: str,
    row: int,
    version: int,
    changes: dict[str, Any],
    previous: dict[str, Any],
    import_id: str = "imp2",
) -> LeadWrite:
    values = {**changes, "import_id": import_id, "import_row": row, "updated_at": NOW}
    audit = AuditRecord(
        lead_id,
        "lead_updated",
        key,
        "a.csv",
        "b.csv",
        ["company"],
        previous,
        "batch-1",
        import_id,
        row,
        NOW,
    )
    receipt = RowReceipt(import_id, row, "updated", lead_id, {"updated": 1})
    return LeadWrite("update", OWNER, lead_id, key, values, version, import_id, row, receipt, audit)


@pytest.fixture
def repo(dynamodb: Any, table_prefix: str) -> DynamoLeadRepository:
    return DynamoLeadRepository(dynamodb, table_prefix)


@pytest.fixture
def reads(dynamodb: Any, table_prefix: str) -> DynamoLeadReadModel:
    return DynamoLeadReadModel(dynamodb, table_prefix)


def test_create_tables_twice_creates_nothing_the_second_time(
    dynamodb: Any, table_prefix: str
) -> None:
    assert all(not created for _, created in create_tables(dynamodb, table_prefix))


def test_a_create_claims_its_key_once(repo: DynamoLeadRepository) -> None:
    first, second = new_lead_ids(2)
    assert repo.apply([_create(first, "ann@x.io", 1)]) == [True]
    stored = repo.find_by_keys(OWNER, ["ann@x.io", "nobody@x.io"])
    assert list(stored) == ["ann@x.io"]
    lead = stored["ann@x.io"]
    assert lead["lead_id"] == first and lead["version"] == 1
    assert lead["interests"] == ["crm"] and lead["attributes"] == {"size": "10"}
    assert lead["opt_in"] is True and lead["phone"] is None
    # another lead for the same key (another import's row): refused
    other = _create(second, "ann@x.io", 7, import_id="imp9")
    assert repo.apply([other]) == [False]
    # the same write again (a redelivery): applied already
    assert repo.apply([_create(first, "ann@x.io", 1)]) == [True]
    assert repo.find_by_keys(OWNER, ["ann@x.io"])["ann@x.io"]["version"] == 1


def test_keys_are_per_owner(repo: DynamoLeadRepository) -> None:
    mine, theirs = new_lead_ids(2)
    write = _create(mine, "ann@x.io", 1)
    other = LeadWrite("create", "bob", theirs, "ann@x.io", write.values, None, "imp7", 1)
    assert repo.apply([write, other]) == [True, True]
    assert repo.find_by_keys("bob", ["ann@x.io"])["ann@x.io"]["lead_id"] == theirs


def test_update_checks_the_version_and_writes_receipt_and_audit(
    repo: DynamoLeadRepository, reads: DynamoLeadReadModel
) -> None:
    (lead_id,) = new_lead_ids(1)
    repo.apply([_create(lead_id, "ann@x.io", 1)])
    stale = _update(lead_id, "ann@x.io", 3, 5, {"company": "Stale"}, {"company": "Acme"})
    assert repo.apply([stale]) == [False]
    assert repo.receipts("imp2", [3]) == {}
    write = _update(lead_id, "ann@x.io", 3, 1, {"company": "Beta"}, {"company": "Acme"})
    assert repo.apply([write]) == [True]
    lead = repo.find_by_keys(OWNER, ["ann@x.io"])["ann@x.io"]
    assert (lead["company"], lead["version"], lead["import_row"]) == ("Beta", 2, 3)
    assert repo.receipts("imp2", [3, 4]) == {3: write.receipt}
    history = reads.lead_history(OWNER, lead_id)
    assert [h["action"] for h in history] == ["lead_updated"]
    assert history[0]["previousValues"] == {"company": "Acme"}
    assert history[0]["fieldsChanged"] == ["company"]
    # replayed: its receipt is in, so it counts as applied and changes nothing
    assert repo.apply([write]) == [True]
    assert repo.find_by_keys(OWNER, ["ann@x.io"])["ann@x.io"]["version"] == 2
    assert len(reads.lead_history(OWNER, lead_id)) == 1


def test_an_earlier_row_of_the_same_import_never_overwrites_a_later_one(
    repo: DynamoLeadRepository,
) -> None:
    (lead_id,) = new_lead_ids(1)
    repo.apply([_create(lead_id, "ann@x.io", 1, import_id="imp0")])
    later = _update(lead_id, "ann@x.io", 9, 1, {"company": "Later"}, {"company": "Acme"})
    assert repo.apply([later]) == [True]
    earlier = _update(lead_id, "ann@x.io", 4, 2, {"company": "Earlier"}, {"company": "Later"})
    assert repo.apply([earlier]) == [False]
    assert repo.find_by_keys(OWNER, ["ann@x.io"])["ann@x.io"]["company"] == "Later"


def test_one_failing_write_leaves_the_others_of_its_group_applied(
    repo: DynamoLeadRepository,
) -> None:
    ids = new_lead_ids(4)
    repo.apply([_create(ids[0], "taken@x.io", 1, import_id="imp0")])
    writes = [
        _create(ids[1], "one@x.io", 1),
        _create(ids[2], "taken@x.io", 2),  # the key is another import's lead's
        _create(ids[3], "three@x.io", 3),
    ]
    assert repo.apply(writes) == [True, False, True]
    assert sorted(repo.receipts("imp1", [1, 2, 3])) == [1, 3]
    assert set(repo.find_by_keys(OWNER, ["one@x.io", "three@x.io"])) == {
        "one@x.io",
        "three@x.io",
    }


def test_twenty_five_writes_of_four_items_go_in_one_transaction(
    repo: DynamoLeadRepository, dynamodb: Any
) -> None:
    ids = new_lead_ids(25)
    repo.apply([_create(i, f"u{n}@x.io", n, import_id="imp0") for n, i in enumerate(ids)])
    calls: list[str] = []
    dynamodb.meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: calls.append(model.name)
    )
    writes = [
        _update(i, f"u{n}@x.io", n, 1, {"company": f"C{n}"}, {"company": "Acme"})
        for n, i in enumerate(ids)
    ]
    assert repo.apply(writes) == [True] * 25
    assert calls == ["TransactWriteItems"]


def test_a_phone_keyed_lead_that_gets_an_email_moves_its_claim(
    repo: DynamoLeadRepository,
) -> None:
    (lead_id,) = new_lead_ids(1)
    write = _create(lead_id, "+14155550134", 1, phone="+14155550134", phone_valid=True)
    assert repo.apply([write]) == [True]
    assert set(repo.find_by_keys(OWNER, ["+14155550134"])) == {"+14155550134"}
    move = _update(lead_id, "ann@x.io", 2, 1, {"email": "ann@x.io"}, {"email": None})
    assert repo.apply([move]) == [True]
    assert set(repo.find_by_keys(OWNER, ["+14155550134", "ann@x.io"])) == {"ann@x.io"}
    (other,) = new_lead_ids(1)
    again = _create(other, "+14155550134", 5, import_id="imp5", phone="+14155550134")
    assert repo.apply([again]) == [True]  # the phone key is free again


def test_import_base_is_rebuilt_from_the_audit_trail(repo: DynamoLeadRepository) -> None:
    made, updated = new_lead_ids(2)
    repo.apply([_create(made, "new@x.io", 1, import_id="imp2")])
    repo.apply([_create(updated, "old@x.io", 1, import_id="imp0")])
    repo.apply([_update(updated, "old@x.io", 2, 1, {"company": "B"}, {"company": "Acme"})])
    repo.apply(
        [
            _update(
                updated,
                "old@x.io",
                5,
                2,
                {"company": "C", "title": "X"},
                {"company": "B", "title": ""},
            )
        ]
    )
    found = repo.find_by_keys(OWNER, ["new@x.io", "old@x.io"], import_id="imp2")
    assert found["new@x.io"]["import_base"] is None
    base = found["old@x.io"]["import_base"]
    assert (base["company"], base["title"]) == ("Acme", "")
    assert found["old@x.io"]["company"] == "C"
    assert "import_base" not in repo.find_by_keys(OWNER, ["old@x.io"], import_id="imp7")["old@x.io"]


def test_skips_keep_the_larger_row_and_their_receipts(repo: DynamoLeadRepository) -> None:
    receipt = RowReceipt("imp1", 8, "skipped", None, {"ignored": 1})
    repo.record_skips(OWNER, "imp1", {"a@x.io": 8, "b@x.io": 2}, [receipt])
    repo.record_skips(OWNER, "imp1", {"a@x.io": 3, "b@x.io": 6}, [receipt])
    assert repo.find_skips(OWNER, "imp1", ["a@x.io", "b@x.io", "c@x.io"]) == {
        "a@x.io": 8,
        "b@x.io": 6,
    }
    assert repo.find_skips("bob", "imp1", ["a@x.io"]) == {}
    assert repo.receipts("imp1", [8]) == {8: receipt}
    repo.forget_import("imp1")
    assert repo.find_skips(OWNER, "imp1", ["a@x.io"]) == {}
    assert repo.receipts("imp1", [8]) == {}


def test_undo_deletes_what_the_import_made_and_restores_what_it_changed(
    repo: DynamoLeadRepository, reads: DynamoLeadReadModel
) -> None:
    made, updated, later = new_lead_ids(3)
    repo.apply([_create(updated, "old@x.io", 1, import_id="imp0")])
    repo.apply([_create(later, "later@x.io", 2, import_id="imp0")])
    repo.apply([_create(made, "new@x.io", 1, import_id="imp2")])
    repo.apply([_update(updated, "old@x.io", 2, 1, {"company": "B"}, {"company": "Acme"})])
    repo.apply([_update(later, "later@x.io", 3, 1, {"company": "B"}, {"company": "Acme"})])
    # a later import changes `later` again: undoing imp2 must leave it alone
    repo.apply(
        [_update(later, "later@x.io", 1, 2, {"company": "Z"}, {"company": "B"}, import_id="imp3")]
    )
    result = repo.undo_import(OWNER, "imp2", "2026-11-30T02:00:00.000Z")
    assert (result.deleted, result.restored, result.conflicts) == (1, 1, [later])
    assert reads.get_lead(OWNER, made) is None
    assert repo.find_by_keys(OWNER, ["new@x.io"]) == {}
    restored = reads.get_lead(OWNER, updated)
    assert restored is not None and restored["company"] == "Acme"
    history = reads.lead_history(OWNER, updated)
    assert [h["action"] for h in history] == ["lead_updated", "import_undone"]
    assert history[-1]["restoredValues"] == {"company": "Acme"}
    again = repo.undo_import(OWNER, "imp2", "2026-11-30T03:00:00.000Z")
    assert (again.deleted, again.restored, again.conflicts) == (0, 0, [later])
    # the key of the deleted lead is free again
    (fresh,) = new_lead_ids(1)
    assert repo.apply([_create(fresh, "new@x.io", 1, import_id="imp4")]) == [True]


def test_a_delete_write_checks_the_version_and_frees_the_key(
    repo: DynamoLeadRepository, reads: DynamoLeadReadModel
) -> None:
    (lead_id,) = new_lead_ids(1)
    repo.apply([_create(lead_id, "ann@x.io", 1)])
    stale = LeadWrite("delete", OWNER, lead_id, "ann@x.io", {}, 4, None, None)
    assert repo.apply([stale]) == [False]
    delete = LeadWrite("delete", OWNER, lead_id, "ann@x.io", {}, 1, None, None)
    assert repo.apply([delete]) == [True]
    assert reads.get_lead(OWNER, lead_id) is None
    assert repo.apply([delete]) == [True]  # gone already
    assert repo.find_by_keys(OWNER, ["ann@x.io"]) == {}


def _seed(repo: DynamoLeadRepository, count: int) -> list[str]:
    ids = new_lead_ids(count)
    writes = [
        _create(
            lead_id,
            f"p{n:02d}@x.io",
            n,
            name=f"Person {count - n:02d}",
            company=["Acme", "acme", "Beta", ""][n % 4],
            title=["CEO", "Engineer"][n % 2],
            source=["upload", "api"][n % 2],
        )
        for n, lead_id in enumerate(ids)
    ]
    for start in range(0, count, 25):
        assert all(repo.apply(writes[start : start + 25]))
    return ids


def _walk(reads: DynamoLeadReadModel, query: LeadQuery) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        page, cursor = reads.list_leads(
            OWNER,
            LeadQuery(
                q=query.q,
                company=query.company,
                source=query.source,
                sort=query.sort,
                descending=query.descending,
                limit=query.limit,
                cursor=cursor,
            ),
        )
        assert len(page) <= query.limit
        seen.extend(d["leadId"] for d in page)
        if cursor is None:
            return seen


def test_pages_in_creation_order_and_every_sort(
    repo: DynamoLeadRepository, reads: DynamoLeadReadModel
) -> None:
    ids = _seed(repo, 30)
    assert _walk(reads, LeadQuery(limit=7)) == ids
    assert _walk(reads, LeadQuery(limit=7, descending=True)) == ids[::-1]
    by_name = _walk(reads, LeadQuery(limit=4, sort="name"))
    assert by_name == ids[::-1]  # names count down
    acme = _walk(reads, LeadQuery(limit=3, company="ACME"))
    assert acme == [i for n, i in enumerate(ids) if n % 4 in (0, 1)]
    api = _walk(reads, LeadQuery(limit=5, source="api", sort="company", descending=True))
    assert sorted(api) == sorted(i for n, i in enumerate(ids) if n % 2)
    assert _walk(reads, LeadQuery(limit=50, q="p07@x")) == [ids[7]]
    assert reads.count_leads(OWNER) == 30 and reads.count_leads("bob") == 0
    with pytest.raises(BadCursor):
        reads.list_leads(OWNER, LeadQuery(cursor="not-a-cursor"))


def test_find_leads_top_companies_and_get(
    repo: DynamoLeadRepository, reads: DynamoLeadReadModel
) -> None:
    ids = _seed(repo, 12)
    total, newest = reads.find_leads(OWNER, company="acm", title="ceo", limit=2)
    assert total == 3  # rows 0, 4, 8: Acme/acme and CEO
    assert [d["leadId"] for d in newest] == [ids[8], ids[4]]
    assert reads.top_companies(OWNER) == [("Acme", 6), ("Beta", 3)]
    doc = reads.get_lead(OWNER, ids[0])
    assert doc is not None
    assert (doc["email"], doc["optIn"], doc["interests"]) == ("p00@x.io", True, ["crm"])
    assert doc["attributes"] == {"size": "10"} and doc["enrichment"] == {}
    assert reads.get_lead("bob", ids[0]) is None


def test_an_update_of_other_fields_reads_nothing_before_its_transaction(
    repo: DynamoLeadRepository, dynamodb: Any
) -> None:
    (lead_id,) = new_lead_ids(1)
    repo.apply([_create(lead_id, "ann@x.io", 1)])
    calls: list[str] = []
    dynamodb.meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: calls.append(model.name)
    )
    write = _update(lead_id, "ann@x.io", 2, 1, {"phone": "+14155550134"}, {"phone": None})
    assert repo.apply([write]) == [True]
    assert calls == ["TransactWriteItems"]  # an email-keyed lead keeps its key


def test_a_rejected_or_replayed_write_is_decided_from_the_cancellation_alone(
    repo: DynamoLeadRepository, dynamodb: Any
) -> None:
    """ALL_OLD on failed conditions: the cancellation carries the lead, so deciding
    between "applied already" and "rejected" needs no read."""
    (lead_id,) = new_lead_ids(1)
    repo.apply([_create(lead_id, "ann@x.io", 1)])
    write = _update(lead_id, "ann@x.io", 3, 1, {"company": "Beta"}, {"company": "Acme"})
    assert repo.apply([write]) == [True]
    calls: list[str] = []
    dynamodb.meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: calls.append(model.name)
    )
    stale = _update(lead_id, "ann@x.io", 4, 1, {"company": "Gamma"}, {"company": "Acme"})
    assert repo.apply([stale]) == [False]
    unreceipted = LeadWrite(
        "update", OWNER, lead_id, "ann@x.io", write.values, 1, "imp2", 3, None, None
    )
    assert repo.apply([unreceipted]) == [True]  # the lead holds its stamp: applied already
    assert calls == ["TransactWriteItems", "TransactWriteItems"]
