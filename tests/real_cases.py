"""The real-world import cases in ../shared/cases/real-files/ and their right values.

Shared by the CLI test (tests/e2e) and the upload test (tests/integration): the same file
must give the same leads through both entry points. The folder sits beside the clone
(`../shared` from the repository root), as in CI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CASES = Path(__file__).resolve().parents[1] / ".." / "shared" / "cases" / "real-files"

# file -> the leads it must give: (firstName, lastName, email, phone, company); None: any
EXPECTED: dict[str, list[tuple[str | None, str | None, str, str, str | None]]] = {
    "01-excel-sep-hint.csv": [
        (None, None, "jane.roe@example.com", "+14155550101", None),
        (None, None, "sam.poe@example.com", "+14155550102", None),
    ],
    "02-excel-unicode-text-utf16.txt": [
        ("José", "Núñez", "jose.nunez@example.com", "+14155550103", "Éclair SARL"),
        ("Sam", "Poe", "sam.poe@example.com", "+14155550104", "Globex"),
    ],
    "03-xlsx-dimension-a1.xlsx": [
        ("Jane", "Roe", "jane.roe@example.com", "+14155550113", "Acme Corp"),
        ("Sam", "Poe", "sam.poe@example.com", "+14155550114", "Globex"),
    ],
}


def case(name: str) -> Path:
    path = CASES / name
    assert path.is_file(), f"missing case file {path} (../shared beside the clone)"
    return path


def assert_case_leads(name: str, leads: list[dict[str, Any]]) -> None:
    """`leads` (API-shaped: firstName, lastName, email, phone, company) are the case's."""
    by_email = {lead["email"]: lead for lead in leads}
    expected = EXPECTED[name]
    assert sorted(by_email) == sorted(e[2] for e in expected), leads
    for first, last, email, phone, company in expected:
        lead = by_email[email]
        assert lead["phone"] == phone, lead
        if first is not None:
            assert (lead["firstName"], lead["lastName"]) == (first, last), lead
        if company is not None:
            assert lead["company"] == company, lead
        for value in lead.values():  # no field is made of NUL bytes (the UTF-16 bug)
            assert "\x00" not in str(value), lead
