"""The real-world cases 04-11 of ../shared/cases/real-files through `leadflow import`.

Each file is one kind of fault people's files carry (issue 8); the right values come from
that folder's README. The folder sits beside the repository (as in CI).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_runner import Cli

CASES = Path(__file__).resolve().parents[2].parent / "shared" / "cases" / "real-files"


def case(name: str) -> Path:
    path = CASES / name
    assert path.is_file(), f"missing case file {path} (../shared beside the clone)"
    return path


def leads(cli: Cli) -> list[dict[str, Any]]:
    with cli.db() as conn:
        rows = conn.execute("SELECT * FROM leads ORDER BY seq").fetchall()
    out = []
    for row in rows:
        lead = dict(row)
        lead["attributes"] = json.loads(lead["attributes"] or "{}")
        out.append(lead)
    return out


def by_email(cli: Cli) -> dict[str | None, dict[str, Any]]:
    return {lead["email"]: lead for lead in leads(cli)}


def test_04_google_contacts_export(cli: Cli) -> None:
    path = case("04-google-contacts-export.csv")
    summary = cli.import_json(str(path), "--owner", "t")
    assert (summary["created"], summary["invalid"]) == (2, 0)
    found = by_email(cli)
    jane, sam = found["jane.roe@example.com"], found["sam.poe@example.com"]
    assert (jane["phone"], jane["company"], jane["title"]) == (
        "+14155550105",
        "Acme Corp",
        "Head of Sales",
    )
    assert (jane["first_name"], jane["last_name"]) == ("Jane", "Roe")
    assert (sam["phone"], sam["company"], sam["title"]) == ("+14155550106", "Globex", "CTO")
    # the summary says how each column was mapped, and which stayed in attributes
    columns = summary["columns"]
    assert columns["E-mail 1 - Value"] == "email"
    assert columns["Phone 1 - Value"] == "phone"
    assert columns["Organization 1 - Name"] == "company"
    assert columns["Organization 1 - Title"] == "title"
    assert columns["Name Prefix"] == "salutation"
    assert columns["Birthday"] is None
    assert jane["attributes"]["Phone 1 - Type"] == "Mobile"

    again = cli.import_json(str(path), "--owner", "t")
    # the same rows again: found by their keys, nothing new, nothing changed
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert len(leads(cli)) == 2


def test_05_accented_headers(cli: Cli) -> None:
    summary = cli.import_json(str(case("05-accented-headers.csv")), "--owner", "t")
    assert summary["columns"] == {
        "Prénom": "firstName",
        "Nom": "lastName",
        "Email": "email",
        "Téléphone": "phone",
    }
    (lead,) = leads(cli)
    assert (lead["first_name"], lead["last_name"]) == ("Amélie", "Dupont")
    assert (lead["phone"], lead["phone_valid"]) == ("+33142685300", 1)


def test_06_float_phone(cli: Cli) -> None:
    path = case("06-float-phone.csv")
    cli.import_json(str(path), "--owner", "t")
    found = by_email(cli)
    assert (
        found["jane.roe@example.com"]["phone"],
        found["jane.roe@example.com"]["phone_valid"],
    ) == (
        "+14155550107",
        1,
    )
    assert (found[None]["phone"], found[None]["phone_valid"]) == ("+14155550108", 1)
    # the phone-only row is de-duplicated on its phone: a second import updates it
    again = cli.import_json(str(path), "--owner", "t")
    # the same rows again: found by their keys, nothing new, nothing changed
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert len(leads(cli)) == 2


def test_07_phone_extensions(cli: Cli) -> None:
    path = case("07-phone-extensions.csv")
    summary = cli.import_json(str(path), "--owner", "t")
    assert (summary["created"], summary["duplicates"]) == (3, 0)
    phones = {(lead["first_name"], lead["phone"], lead["phone_valid"]) for lead in leads(cli)}
    assert phones == {
        ("Front", "+14155550109;ext=101", 1),
        ("Billing", "+14155550109;ext=102", 1),
        ("Jane", "+14155550109;ext=230", 1),
    }
    # the two email-less leads stay two leads when imported again
    again = cli.import_json(str(path), "--owner", "t")
    # the same rows again: found by their keys, nothing new, nothing changed
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)
    assert len(leads(cli)) == 3


def test_08_name_title_suffix(cli: Cli) -> None:
    cli.import_json(str(case("08-name-title-suffix.csv")), "--owner", "t")
    found = by_email(cli)
    jane, sam = found["jane.roe@example.com"], found["sam.poe@example.com"]
    assert (jane["first_name"], jane["last_name"], jane["name"]) == ("Jane", "Roe", "Jane Roe")
    assert jane["attributes"]["salutation"] == "Dr."
    assert (sam["first_name"], sam["last_name"], sam["name"]) == ("Sam", "Poe", "Sam Poe")
    assert sam["attributes"]["nameSuffix"] == "III"


def test_09_invisible_chars_email(cli: Cli) -> None:
    summary = cli.import_json(str(case("09-invisible-chars-email.csv")), "--owner", "t")
    assert (summary["valid"], summary["invalid"]) == (2, 0)
    assert set(by_email(cli)) == {"jane.roe@example.com", "amy.doe@example.com"}


def test_10_two_emails_one_cell(cli: Cli) -> None:
    summary = cli.import_json(str(case("10-two-emails-one-cell.csv")), "--owner", "t")
    assert (summary["created"], summary["invalid"], summary["rowWarnings"]) == (1, 0, 1)
    assert any("otherEmails" in warning for warning in summary["warnings"])
    (lead,) = leads(cli)
    assert lead["email"] == "jane.roe@example.com"
    assert lead["attributes"]["otherEmails"] == ["jane@example.org"]
    assert lead["company"] == "Acme Corp"


def test_11_thousands_separator_phone(cli: Cli) -> None:
    cli.import_json(str(case("11-thousands-separator-phone.csv")), "--owner", "t")
    (lead,) = leads(cli)
    assert (lead["phone"], lead["phone_valid"]) == ("+14155550142", 1)


@pytest.mark.parametrize(
    ("title", "salutation", "job"),
    [("Dr.", "Dr.", ""), ("Mrs", "Mrs", ""), ("Head of Sales", None, "Head of Sales")],
)
def test_a_title_column_of_salutations_is_never_the_job_title(
    cli: Cli, title: str, salutation: str | None, job: str
) -> None:
    path = cli.workdir / "outlook-ish.csv"
    path.write_text(f"First Name,Last Name,Title,E-mail Address\nJane,Roe,{title},j@x.com\n")
    cli.import_json(str(path), "--owner", "t")
    (lead,) = leads(cli)
    assert lead["title"] == job
    assert lead["attributes"].get("salutation") == salutation


def test_an_outlook_title_beside_job_title_is_the_salutation(cli: Cli) -> None:
    path = cli.workdir / "outlook.csv"
    path.write_text(
        "Title,First Name,Last Name,Suffix,Company,Job Title,E-mail Address,Business Phone\n"
        "Prof.,Jane,Roe,Jr.,Acme,VP Sales,jane@acme.io,+1 415-555-0100 x7\n"
    )
    summary = cli.import_json(str(path), "--owner", "t")
    assert summary["columns"]["Title"] == "salutation"
    assert summary["columns"]["Job Title"] == "title"
    (lead,) = leads(cli)
    assert (lead["title"], lead["company"], lead["phone"]) == (
        "VP Sales",
        "Acme",
        "+14155550100;ext=7",
    )
    assert lead["attributes"] == {"salutation": "Prof.", "nameSuffix": "Jr."}
