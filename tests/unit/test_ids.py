import uuid

from leadflow.pipelines.ids import new_lead_ids


def test_lead_ids_are_unique_time_ordered_uuid7() -> None:
    ids = new_lead_ids(10_000)
    parsed = [uuid.UUID(i) for i in ids]
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in parsed)
    assert [str(u) for u in parsed] == ids  # canonical lower-case form
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert new_lead_ids(0) == []


def test_later_calls_sort_after_earlier_ones() -> None:
    first = new_lead_ids(3)
    second = new_lead_ids(3)
    assert max(first)[:13] <= min(second)[:13]  # the millisecond stamp never goes back
