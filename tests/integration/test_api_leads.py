"""GET /v1/leads and GET /v1/leads/{leadId} over a real server: search, filters, sorts,
cursor pages, audit history and per-user isolation (SPEC 'Access', 'Duplicates')."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_server import LiveApi, assert_envelope, live_api

from leadflow.pipelines.importing import ImportOptions, PipelineName, import_records

# Leads that arrive as uploads or inbox files (the leads pipeline, which keeps company and
# title); the opt-in API cannot set those. Names and companies repeat on purpose: ties
# must still page correctly.
UPLOADED = [
    {"firstName": "Carol", "lastName": "Baker", "email": "carol@acme.com", "company": "Acme Corp",
     "title": "CTO"},
    {"firstName": "Dave", "lastName": "Adams", "email": "dave@globex.com", "company": "Globex"},
    {"firstName": "Erin", "lastName": "Clark", "email": "erin@acme.com", "company": "ACME CORP"},
    {"firstName": "Frank", "lastName": "Young", "email": "frank@initech.com",
     "company": "Acme Corporation"},
    {"firstName": "Sam", "lastName": "Same", "email": "sam.one@initech.com", "company": "Initech"},
]  # fmt: skip
INBOX = [
    {"firstName": "Sam", "lastName": "Same", "email": "sam.two@hooli.com", "company": "Globex"},
    {"firstName": "Ivy", "lastName": "Stone", "email": "ivy@hooli.com", "company": "Hooli",
     "phone": "+1 415 555 0100"},
]  # fmt: skip
API_RECORDS = [
    {"name": "Zed Quinn", "email": "zed@example.com", "optIn": True, "interests": ["a"]},
    {"name": "Bea Adams", "email": "bea@example.com", "optIn": True, "interests": ["b"]},
]
SORTS = [
    "createdAt",
    "-createdAt",
    "name",
    "-name",
    "company",
    "-company",
    "email",
    "-email",
    "lastName",
    "updatedAt",
]


@pytest.fixture
def api(tmp_path: Path) -> Iterator[LiveApi]:
    with live_api(tmp_path / "data") as running:
        yield running


@pytest.fixture
def alice(api: LiveApi) -> Iterator[httpx.Client]:
    with api.client("alice") as client:
        yield client


@pytest.fixture
def bob(api: LiveApi) -> Iterator[httpx.Client]:
    with api.client("bob") as client:
        yield client


def import_as(api: LiveApi, owner: str, rows: list[dict[str, Any]], source: str) -> None:
    """Leads through the leads pipeline in-process, as an upload or the inbox would."""
    options = ImportOptions(owner=owner, pipeline=PipelineName.LEADS, source=source, workers=1)
    summary, rejections = import_records(
        api.services.write_ports(ledgered=False), rows, options, f"{source}.csv"
    )
    assert rejections == []
    assert summary.created == len(rows)


@pytest.fixture
def seeded(api: LiveApi, alice: httpx.Client) -> list[dict[str, Any]]:
    """Alice's nine leads from every source; returns them in creation order."""
    import_as(api, "alice", UPLOADED, "upload")
    response = alice.post("/v1/records", json=API_RECORDS)
    assert response.json()["saved"] == 2
    import_as(api, "alice", INBOX, "inbox")
    return page(alice, limit=500)["items"]


def page(client: httpx.Client, **params: Any) -> dict[str, Any]:
    response = client.get("/v1/leads", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"items", "nextCursor"}
    return body


def walk(client: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    """Every item of every page, following nextCursor."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        body = page(client, **params, **({"cursor": cursor} if cursor else {}))
        assert len(body["items"]) <= params.get("limit", 50)
        items += body["items"]
        cursor = body["nextCursor"]
        if cursor is None:
            return items
        assert body["items"], "a page with a cursor must not be empty"
    raise AssertionError("pagination did not end")


def emails(items: list[dict[str, Any]]) -> list[str]:
    return [item["email"] for item in items]


# --- listing ---------------------------------------------------------------------------------


def test_the_list_shows_every_lead_in_creation_order(seeded: list[dict[str, Any]]) -> None:
    expected = [r["email"] for r in UPLOADED] + [r["email"] for r in API_RECORDS]
    expected += [r["email"] for r in INBOX]
    assert emails(seeded) == expected
    assert len({lead["leadId"] for lead in seeded}) == len(seeded)
    for lead in seeded:
        uuid.UUID(lead["leadId"])
        assert lead["owner"] == "alice"
        assert "history" not in lead


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("acme", ["carol@acme.com", "erin@acme.com", "frank@initech.com"]),
        ("ACME", ["carol@acme.com", "erin@acme.com", "frank@initech.com"]),
        ("cto", ["carol@acme.com"]),  # title
        ("Adams", ["dave@globex.com", "bea@example.com"]),  # name
        ("hooli.com", ["sam.two@hooli.com", "ivy@hooli.com"]),  # email
        ("4155550100", ["ivy@hooli.com"]),  # phone, stored as E.164
        ("Sam Same", ["sam.one@initech.com", "sam.two@hooli.com"]),
        ("%", []),  # LIKE wildcards are literal
        ("_", []),
        ("nobody-has-this", []),
    ],
)
def test_q_searches_name_email_company_title_and_phone(
    alice: httpx.Client, seeded: list[dict[str, Any]], q: str, expected: list[str]
) -> None:
    assert emails(page(alice, q=q)["items"]) == expected


@pytest.mark.parametrize("company", ["acme corp", "ACME CORP", "Acme Corp"])
def test_company_filters_exactly_in_any_case(
    alice: httpx.Client, seeded: list[dict[str, Any]], company: str
) -> None:
    # "Acme Corporation" is another company: the filter is exact, not a prefix.
    assert emails(page(alice, company=company)["items"]) == ["carol@acme.com", "erin@acme.com"]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("upload", [r["email"] for r in UPLOADED]),
        ("api", [r["email"] for r in API_RECORDS]),
        ("inbox", [r["email"] for r in INBOX]),
    ],
)
def test_source_filters(
    alice: httpx.Client, seeded: list[dict[str, Any]], source: str, expected: list[str]
) -> None:
    items = page(alice, source=source)["items"]
    assert emails(items) == expected
    assert {item["source"] for item in items} == {source}


def test_filters_combine(alice: httpx.Client, seeded: list[dict[str, Any]]) -> None:
    assert emails(page(alice, company="globex", source="inbox", q="sam")["items"]) == [
        "sam.two@hooli.com"
    ]


def test_sort_by_name_company_and_descending_creation(
    alice: httpx.Client, seeded: list[dict[str, Any]]
) -> None:
    by_name = [lead["name"] for lead in page(alice, sort="name")["items"]]
    assert by_name == sorted(by_name)
    assert by_name[0] == "Bea Adams" and by_name[-1] == "Zed Quinn"
    by_company = [lead["company"] for lead in page(alice, sort="company")["items"]]
    assert by_company == sorted(by_company)
    assert by_company[:2] == ["", ""]  # the API leads have no company
    newest_first = page(alice, sort="-createdAt")["items"]
    assert emails(newest_first) == list(reversed(emails(seeded)))
    by_name_desc = [lead["name"] for lead in page(alice, sort="-name")["items"]]
    assert by_name_desc == sorted(by_name_desc, reverse=True)


@pytest.mark.parametrize("sort", SORTS)
def test_cursor_pages_return_every_lead_exactly_once(
    alice: httpx.Client, seeded: list[dict[str, Any]], sort: str
) -> None:
    one_page = page(alice, sort=sort, limit=500)["items"]
    paged = walk(alice, sort=sort, limit=2)
    assert [lead["leadId"] for lead in paged] == [lead["leadId"] for lead in one_page]
    assert sorted(lead["leadId"] for lead in paged) == sorted(lead["leadId"] for lead in seeded)


def test_cursor_pages_with_a_filter(alice: httpx.Client, seeded: list[dict[str, Any]]) -> None:
    paged = walk(alice, q="acme", sort="-name", limit=1)
    assert emails(paged) == ["frank@initech.com", "erin@acme.com", "carol@acme.com"]


def test_a_page_of_exactly_the_remaining_leads_has_no_cursor(
    alice: httpx.Client, seeded: list[dict[str, Any]]
) -> None:
    assert page(alice, limit=len(seeded))["nextCursor"] is None
    assert page(alice, limit=len(seeded) - 1)["nextCursor"] is not None


@pytest.mark.parametrize("sort", ["nope", "-", "--", "name;drop table leads", "NAME", "+name"])
def test_a_bad_sort_is_422(alice: httpx.Client, sort: str) -> None:
    error = assert_envelope(alice.get("/v1/leads", params={"sort": sort}), 422, "invalid_request")
    assert "sort" in error["message"]


@pytest.mark.parametrize("cursor", ["!!!", "abc", "bm90IGpzb24", "WzFd", "WyJhIiwgImIiXQ"])
def test_a_bad_cursor_is_422(alice: httpx.Client, cursor: str) -> None:
    # not base64 / not JSON / [1] / ["a", "b"]
    assert_envelope(alice.get("/v1/leads", params={"cursor": cursor}), 422, "invalid_cursor")


@pytest.mark.parametrize(
    "params",
    [
        {"limit": -1},
        {"limit": 0},
        {"limit": 501},
        {"limit": "abc"},
        {"limit": "1.5"},
        {"source": "ftp"},
        {"q": "x" * 201},
        {"company": "c" * 201},
    ],
)
def test_bad_query_parameters_are_422(alice: httpx.Client, params: dict[str, Any]) -> None:
    error = assert_envelope(alice.get("/v1/leads", params=params), 422, "invalid_request")
    [name] = params
    assert any(name in detail["field"] for detail in error["details"]), error


# --- one lead and its history ----------------------------------------------------------------

JOHN = {"name": "John Doe", "email": "john.doe@example.com", "optIn": True, "interests": ["py"]}


def test_one_lead_has_its_fields_and_an_empty_history(alice: httpx.Client) -> None:
    assert alice.post("/v1/records", json=[JOHN]).json()["saved"] == 1
    [listed] = page(alice)["items"]
    response = alice.get(f"/v1/leads/{listed['leadId']}")
    assert response.status_code == 200, response.text
    lead = response.json()
    assert lead["history"] == []
    assert {k: v for k, v in lead.items() if k != "history"} == listed


def test_an_update_keeps_id_and_creation_and_writes_history(alice: httpx.Client) -> None:
    assert alice.post("/v1/records", json=[JOHN]).json()["saved"] == 1
    [before] = page(alice)["items"]
    again = {**JOHN, "name": "Johnny Dough", "email": "  JOHN.DOE@Example.com "}
    response = alice.post("/v1/records", json=[again])
    assert response.json()["saved"] == 1
    lead = alice.get(f"/v1/leads/{before['leadId']}").json()
    assert lead["leadId"] == before["leadId"]
    assert lead["createdAt"] == before["createdAt"]
    assert lead["updatedAt"] >= before["updatedAt"]
    assert (lead["firstName"], lead["lastName"], lead["name"]) == (
        "Johnny",
        "Dough",
        "Johnny Dough",
    )
    assert len(page(alice)["items"]) == 1
    [entry] = lead["history"]
    assert entry["action"] == "lead_updated"
    assert entry["leadId"] == before["leadId"]
    assert entry["email"] == "john.doe@example.com"
    assert {"firstName", "lastName"} <= set(entry["fieldsChanged"])
    assert "interests" not in entry["fieldsChanged"]  # unchanged fields are not listed
    assert entry["timestamp"]
    assert entry["batchId"]
    previous = entry["previousValues"]
    assert isinstance(previous, dict)
    assert sorted(str(v) for v in previous.values()) == ["Doe", "John"]


def test_history_previous_values_use_the_api_field_names(alice: httpx.Client) -> None:
    """previousValues is keyed like fieldsChanged and the lead (camelCase), so a client
    can tell which old value belongs to which changed field."""
    assert alice.post("/v1/records", json=[JOHN]).json()["saved"] == 1
    renamed = {**JOHN, "name": "Johnny Dough", "optIn": True, "interests": ["rust"]}
    assert alice.post("/v1/records", json=[renamed]).json()["saved"] == 1
    [listed] = page(alice)["items"]
    [entry] = alice.get(f"/v1/leads/{listed['leadId']}").json()["history"]
    assert set(entry["fieldsChanged"]) == {"firstName", "lastName", "interests"}
    assert entry["previousValues"] == {
        "firstName": "John",
        "lastName": "Doe",
        "interests": ["py"],
    }


@pytest.mark.parametrize(
    "lead_id", [str(uuid.uuid4()), "not-a-uuid", "x" * 2000, "%00", "..%2F..%2Fetc"]
)
def test_an_unknown_lead_is_404(alice: httpx.Client, lead_id: str) -> None:
    assert_envelope(alice.get(f"/v1/leads/{lead_id}"), 404, "not_found")


# --- isolation between users -----------------------------------------------------------------


def test_bob_sees_none_of_alices_leads(
    api: LiveApi, alice: httpx.Client, bob: httpx.Client, seeded: list[dict[str, Any]]
) -> None:
    assert page(bob) == {"items": [], "nextCursor": None}
    assert page(bob, q="acme")["items"] == []
    assert page(bob, company="Acme Corp")["items"] == []
    for lead in seeded[:3]:
        not_found = assert_envelope(bob.get(f"/v1/leads/{lead['leadId']}"), 404, "not_found")
        unknown = assert_envelope(bob.get(f"/v1/leads/{uuid.uuid4()}"), 404, "not_found")
        assert set(not_found) == set(unknown)
    # alice's cursor does not open alice's leads to bob
    cursor = page(alice, limit=2)["nextCursor"]
    assert page(bob, cursor=cursor)["items"] == []


def test_bobs_error_log_does_not_show_alices_errors(alice: httpx.Client, bob: httpx.Client) -> None:
    bad = [{"name": "Alice Secret", "email": "nope", "optIn": True, "interests": ["x"]}]
    assert len(alice.post("/v1/records", json=bad).json()["invalid"]) == 1
    assert len(alice.get("/v1/errors").json()["items"]) == 1
    assert bob.get("/v1/errors").json() == {"items": [], "nextBefore": None}
    bobs_bad = [{"name": "Bob Own", "email": 1, "optIn": True, "interests": ["x"]}]
    assert len(bob.post("/v1/records", json=bobs_bad).json()["invalid"]) == 1
    assert [e["record"]["name"] for e in bob.get("/v1/errors").json()["items"]] == ["Bob Own"]
    assert [e["record"]["name"] for e in alice.get("/v1/errors").json()["items"]] == [
        "Alice Secret"
    ]


def test_the_same_email_never_merges_across_users(alice: httpx.Client, bob: httpx.Client) -> None:
    assert alice.post("/v1/records", json=[JOHN]).json()["saved"] == 1
    bobs_john = {**JOHN, "name": "Bobs John"}
    assert bob.post("/v1/records", json=[bobs_john]).json()["saved"] == 1
    [alices] = page(alice)["items"]
    [bobs] = page(bob)["items"]
    assert alices["leadId"] != bobs["leadId"]
    assert (alices["name"], alices["owner"]) == ("John Doe", "alice")
    assert (bobs["name"], bobs["owner"]) == ("Bobs John", "bob")
    assert alice.get(f"/v1/leads/{alices['leadId']}").json()["history"] == []
    assert_envelope(alice.get(f"/v1/leads/{bobs['leadId']}"), 404, "not_found")
