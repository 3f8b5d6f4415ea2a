"""Property: the web app's dry run predicts, count for count, what the import then does,
whatever the file, the stored leads, the mode and the merge policy (in-memory store)."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from leadflow.adapters.memory_leads import MemoryLeadData, MemoryLeadReadModel, MemoryLeadRepository
from leadflow.adapters.memory_ledger import MemorySchemaErrorLog
from leadflow.domain.merge import ImportMode, MergePolicy
from leadflow.pipelines.importing import ImportOptions, import_file, import_records
from leadflow.pipelines.upsert import WritePorts
from leadflow.ports import LeadQuery
from leadflow.web.import_plan import dry_run

EMAILS = st.sampled_from(
    ["ada@example.com", "ADA@example.com ", "grace@example.com", "alan@example.com", "", "bad@"]
)
ROWS = st.lists(
    st.tuples(
        st.sampled_from(["Ada", "Grace", "", "Alan"]),
        EMAILS,
        st.sampled_from(["", "4155550101", "+44 20 7946 0958", "12"]),
        st.sampled_from(["", "Acme", "Navy"]),
    ),
    min_size=1,
    max_size=12,
)
STORED = st.lists(
    st.tuples(
        st.sampled_from(["ada@example.com", "grace@example.com"]),
        st.sampled_from(["", "Acme", "Old Co"]),
    ),
    max_size=2,
    unique_by=lambda pair: pair[0],
)


@settings(max_examples=60)
@given(
    rows=ROWS,
    stored=STORED,
    mode=st.sampled_from(list(ImportMode)),
    policy=st.sampled_from(list(MergePolicy)),
)
def test_dry_run_counts_what_the_import_does(
    rows: list[tuple[str, str, str, str]],
    stored: list[tuple[str, str]],
    mode: ImportMode,
    policy: MergePolicy,
) -> None:
    data = MemoryLeadData()
    repo, store = MemoryLeadRepository(data), MemoryLeadReadModel(data)
    ports = WritePorts(repo, MemorySchemaErrorLog())
    if stored:
        existing = [{"name": "Someone", "email": e, "company": c} for e, c in stored]
        import_records(ports, existing, ImportOptions(owner="alice", source="api"), None)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "leads.csv"
        with path.open("w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["Name", "Email", "Phone", "Company"])
            writer.writerows(rows)
        before = store.list_leads("alice", LeadQuery(limit=100))[0]
        predicted = dry_run(repo, path, path.name, "alice", {}, mode, policy, "US")
        assert store.list_leads("alice", LeadQuery(limit=100))[0] == before  # nothing written
        options = ImportOptions(owner="alice", mode=mode, policy=policy, workers=1)
        summary = import_file(ports, path, options)
    assert (predicted.received, predicted.invalid, predicted.duplicates) == (
        summary.received,
        summary.invalid,
        summary.duplicates,
    )
    assert predicted.created == summary.created
    assert predicted.skipped == summary.ignored
    unchanged = getattr(summary, "unchanged", None)
    if unchanged is None:  # this summary counts a lead that changes nothing as updated
        assert predicted.updated + predicted.unchanged == summary.updated
    else:
        assert (predicted.updated, predicted.unchanged) == (summary.updated, unchanged)
