"""domain.undo.plan_undo: what an undo deletes, restores and leaves as a conflict."""

from __future__ import annotations

from typing import Any

from leadflow.domain.undo import AuditEntry, plan_undo


def lead(lead_id: str, created_by: str, **values: Any) -> dict[str, Any]:
    row = {"lead_id": lead_id, "created_import_id": created_by, "first_name": "", "last_name": ""}
    row.update(title="", source_file="x.csv")
    row.update(values)
    return row


def updated(entry_id: int, import_id: str, source_file: str = "old.csv", **previous: Any) -> Any:
    return AuditEntry(entry_id, "lead_updated", import_id, previous, source_file)


def test_created_leads_go_unless_another_import_changed_them() -> None:
    leads = {"L1": lead("L1", "A"), "L2": lead("L2", "A")}
    trails = {"L2": [updated(1, "B", title="")]}
    assert plan_undo("A", leads, trails) == (["L1"], [], ["L2"])


def test_a_change_between_the_imports_own_changes_is_later_work() -> None:
    """A changed the lead, B changed it, then a later row of A again: restoring the
    value from before A would wipe B's change, so the lead is a conflict."""
    leads = {"L1": lead("L1", "Z", title="a2")}
    trails = {"L1": [updated(1, "A", title="old"), updated(2, "B", title="a1"),
                     updated(3, "A", title="b")]}  # fmt: skip
    assert plan_undo("A", leads, trails) == ([], [], ["L1"])


def test_the_oldest_value_of_each_column_is_restored_with_the_first_source_file() -> None:
    leads = {"L1": lead("L1", "Z", title="t2", first_name="Bo", last_name="X")}
    trails = {
        "L1": [
            updated(1, "A", "first.csv", title="t0", last_name="Old"),
            updated(2, "A", "mine.csv", title="t1"),
            AuditEntry(3, "import_undone", "B", {"title": "b"}, "mine.csv"),
            updated(4, "B", "mine.csv", company="b"),  # B was undone on this lead
        ]
    }
    deletes, (restore,), conflicts = plan_undo("A", leads, trails)
    assert (deletes, conflicts) == ([], [])
    assert restore.values == {"title": "t0", "last_name": "Old", "name": "Bo Old"}
    assert restore.replaced == {"title": "t2", "last_name": "X"}
    assert (restore.source_file, restore.fields) == ("first.csv", ["lastName", "title"])


def test_leads_already_undone_or_left_unchanged_are_skipped() -> None:
    leads = {"L1": lead("L1", "Z"), "L2": lead("L2", "Z")}
    trails = {"L1": [updated(1, "A", title="x"), AuditEntry(2, "import_undone", "A", {}, None)]}
    assert plan_undo("A", leads, trails) == ([], [], [])
