"""GET /v1/leads?q=: case and accents folded for all of Unicode, phones in any format."""

from __future__ import annotations

from pathlib import Path

from api_server import live_api

from leadflow.adapters.memory_leads import MemoryLeadData, MemoryLeadReadModel, MemoryLeadRepository
from leadflow.adapters.memory_ledger import MemorySchemaErrorLog
from leadflow.pipelines.importing import ImportOptions, PipelineName, import_records
from leadflow.pipelines.upsert import WritePorts
from leadflow.ports import LeadQuery

ROWS = [
    {"name": "Jörg Müller", "email": "jm@x.de", "company": "Ørsted", "phone": "+14155550134"},
    {"name": "Ann Lee", "email": "ann@x.io", "phone": "+14155550135"},
    {"name": "Bo Ray", "email": "bo@x.io", "phone": "+441415555013"},
    {"name": "Cy Dee", "email": "cy@x.io", "phone": "+14155550134", "company": "Straße AG"},
    {"name": "Di Fox", "email": "di@x.io", "remarks": "call 415 555 0134"},
]
QUERIES = {
    "MÜLLER": ["jm@x.de"],
    "muller": ["jm@x.de"],
    "ORSTED": ["jm@x.de"],
    "strasse": ["cy@x.io"],
    "(415) 555-0134": ["jm@x.de", "cy@x.io"],  # exactly the leads with that number
    "+14155550134": ["jm@x.de", "cy@x.io"],
    " 14155550134": ["jm@x.de", "cy@x.io"],  # a '+' that a URL turned into a space
    "415-555-0135": ["ann@x.io"],
    "+44 141 555 5013": ["bo@x.io"],
    "5550134": ["jm@x.de", "cy@x.io"],  # a piece of a number: the phones containing it
}


def load(ports: WritePorts) -> None:
    options = ImportOptions(owner="alice", pipeline=PipelineName.LEADS, source="api", workers=1)
    summary, _ = import_records(ports, ROWS, options, "people.csv")
    assert summary.created == len(ROWS)


def test_search_over_the_api(tmp_path: Path) -> None:
    with live_api(tmp_path / "d") as api, api.client("alice") as client:
        load(api.services.write_ports(ledgered=False))
        for q, expected in QUERIES.items():
            response = client.get("/v1/leads", params={"q": q})
            assert response.status_code == 200, response.text
            assert sorted(i["email"] for i in response.json()["items"]) == sorted(expected), q


def test_the_memory_store_searches_the_same_way() -> None:
    data = MemoryLeadData()
    load(WritePorts(MemoryLeadRepository(data), MemorySchemaErrorLog()))
    reads = MemoryLeadReadModel(data)
    for q, expected in QUERIES.items():
        items, _ = reads.list_leads("alice", LeadQuery(q=q))
        assert sorted(i["email"] for i in items) == sorted(expected), q
