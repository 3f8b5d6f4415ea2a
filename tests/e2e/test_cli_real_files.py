"""`leadflow import` on real-world files: the shared cases, header rows, sheets,
encodings, files that are not records, and input limits (memory stays bounded)."""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import subprocess
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from cli_runner import LEADFLOW, Cli, last_json_line

from real_cases import EXPECTED, assert_case_leads, case


def api_shaped(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Lead rows of the database with the API's field names."""
    names = {"first_name": "firstName", "last_name": "lastName"}
    return [{names.get(k, k): v for k, v in row.items()} for row in rows]


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shared_case_gives_its_right_values(cli: Cli, name: str) -> None:
    summary = cli.import_json(str(case(name)), "--owner", "t")

    assert (summary["received"], summary["valid"], summary["invalid"]) == (2, 2, 0)
    assert summary["created"] == 2
    assert_case_leads(name, api_shaped(cli.leads("t")))


def test_sep_hint_is_obeyed_and_not_reported_as_a_skipped_row(cli: Cli) -> None:
    summary = cli.import_json(str(case("01-excel-sep-hint.csv")), "--owner", "t")
    assert not any("skipped" in w for w in summary["warnings"])


def test_linkedin_preamble_is_skipped_and_named(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "Connections.csv"
    path.write_text(
        "Notes:\n"
        '"When exporting your connection data, you may notice that some of the email '
        "addresses are missing. You will only see email addresses for connections who "
        'have allowed their connections to see or download their email address."\n'
        "\n"
        "First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
        "Jane,Roe,https://www.linkedin.com/in/janeroe,jane.roe@example.com,Acme,CTO,"
        "05 Mar 2024\n"
        "Sam,Poe,https://www.linkedin.com/in/sampoe,,Globex,Buyer,06 Mar 2024\n",
        encoding="utf-8",
    )
    summary = cli.import_json(str(path), "--owner", "t")

    assert (summary["received"], summary["valid"], summary["invalid"]) == (2, 2, 0)
    jane = cli.lead_by_email("jane.roe@example.com")
    assert (jane["first_name"], jane["company"], jane["title"]) == ("Jane", "Acme", "CTO")
    skipped = [w for w in summary["warnings"] if "skipped" in w]
    assert len(skipped) == 1
    assert "line 4" in skipped[0] and "Notes:" in skipped[0]


def test_header_row_flag_overrides_detection(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    path.write_text(
        "Email,Phone\n"  # looks like a header, but the export's header is line 3
        "exported 2024-03-05,by admin\n"
        "Mail,Tel,Person\n"
        "jane.roe@example.com,(415) 555-0101,Jane Roe\n"
    )
    summary = cli.import_json(
        str(path), "--owner", "t", "--header-row", "3", "--map", "Mail=email,Tel=phone"
    )

    assert (summary["received"], summary["valid"]) == (1, 1)
    lead = cli.lead_by_email("jane.roe@example.com")
    assert lead["phone"] == "+14155550101"
    assert any("line 3" in w and "2 rows above it" in w for w in summary["warnings"])


def _workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    info = book.active
    assert info is not None
    info.title = "Info"
    info.append(["Exported from Example CRM"])
    old = book.create_sheet("Old")
    old.append(["Email", "Name"])
    old.append(["old@example.com", "Old Lead"])
    new = book.create_sheet("New")
    new.append(["Email", "Name", "Signed up", "Phone"])
    new.append(["a@example.com", "Amy Doe", dt.datetime(2024, 3, 5), 4155550107])
    new.append(["b@example.com", "Bob Doe", dt.datetime(2024, 3, 5, 10, 30), 4155550108.0])
    book.save(path)
    return path


@pytest.mark.parametrize(
    ("flags", "emails"),
    [
        ((), ["old@example.com"]),  # the first sheet that has a header row
        (("--sheet", "New"), ["a@example.com", "b@example.com"]),
        (("--sheet", "3"), ["a@example.com", "b@example.com"]),
    ],
)
def test_sheet_is_chosen(
    cli: Cli, tmp_path: Path, flags: tuple[str, ...], emails: list[str]
) -> None:
    summary = cli.import_json(str(_workbook(tmp_path / "book.xlsx")), *flags)

    assert sorted(lead["email"] for lead in cli.leads()) == emails
    assert summary["received"] == len(emails)
    assert any("3 sheets" in w for w in summary["warnings"])


def test_sheet_dates_and_numbers_become_text(cli: Cli, tmp_path: Path) -> None:
    cli.import_json(str(_workbook(tmp_path / "book.xlsx")), "--sheet", "New")

    amy = cli.lead_by_email("a@example.com")
    bob = cli.lead_by_email("b@example.com")
    assert json.loads(amy["attributes"]) == {"Signed up": "2024-03-05"}
    assert json.loads(bob["attributes"]) == {"Signed up": "2024-03-05T10:30:00"}
    assert (amy["phone"], bob["phone"]) == ("+14155550107", "+14155550108")


def test_unknown_sheet_exits_2_naming_the_sheets(cli: Cli, tmp_path: Path) -> None:
    result = cli.run("import", str(_workbook(tmp_path / "book.xlsx")), "--sheet", "Nope")

    assert result.returncode == 2
    message = one_line(result.stderr)
    assert "Nope" in message and "'New'" in message


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("logo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8),
        ("noise.csv", bytes((i * 131 + 7) % 256 for i in range(8192))),
        ("bundle.xlsx", b"PK\x03\x04" + b"\x00" * 300),
    ],
)
def test_a_file_that_is_not_records_exits_2_in_one_line(
    cli: Cli, tmp_path: Path, name: str, content: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(content)

    result = cli.run("import", str(path), "--json")

    assert result.returncode == 2
    assert name in one_line(result.stderr)
    assert "Traceback" not in result.stderr
    assert cli.leads() == []


def _limit_memory(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def test_deeply_nested_json_is_rejected_in_bounded_memory(cli: Cli, tmp_path: Path) -> None:
    """100,000 nested brackets once grew the server to 24 GB: now one rejected record,
    read with the whole process capped at 1 GiB of address space."""
    path = tmp_path / "nested.json"
    depth = 100_000
    path.write_text(
        '[{"name": "Jane Roe", "email": "jane.roe@example.com"}, '
        + "[" * depth
        + "]" * depth
        + ', {"name": "Sam Poe", "email": "sam.poe@example.com"}]'
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LEADFLOW_")}
    environ["LEADFLOW_DATA_DIR"] = str(cli.data_dir)
    result = subprocess.run(
        [str(LEADFLOW), "import", str(path), "--json"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: _limit_memory(1024**3),
    )

    assert result.returncode == 0, result.stderr
    summary = last_json_line(result.stdout)
    assert (summary["received"], summary["valid"], summary["invalid"]) == (3, 2, 1)
    errors = cli.run("errors", "list", "--json")
    assert "LEADFLOW_MAX_NESTING_DEPTH" in errors.stdout


def test_field_over_the_limit_rejects_only_its_row(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text(
        "Name,Email\n" + "A" * 5_000 + ",big@example.com\nSam Poe,sam.poe@example.com\n"
    )
    summary = cli.import_json(str(path), env={"LEADFLOW_MAX_FIELD_CHARS": "1000"})

    assert (summary["received"], summary["valid"], summary["invalid"]) == (2, 1, 1)
    assert [lead["email"] for lead in cli.leads()] == ["sam.poe@example.com"]
