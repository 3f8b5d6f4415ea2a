"""End-to-end tests of `leadflow import`, `leadflow users add` and `leadflow errors list`.

Each test runs the installed console script as a subprocess against a fresh data
directory and checks both what it prints and what it stored in SQLite.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from cli_runner import Cli, last_json_line

SUMMARY_KEYS = {
    "received",
    "valid",
    "invalid",
    "duplicates",
    "created",
    "updated",
    "unchanged",
    "ignored",
}


@pytest.fixture
def write(cli: Cli) -> Callable[[str, str | bytes], Path]:
    def _write(name: str, content: str | bytes) -> Path:
        path = cli.workdir / name
        if isinstance(content, str):
            content = content.encode("utf-8")
        path.write_bytes(content)
        return path

    return _write


def counts(summary: dict[str, Any]) -> dict[str, int]:
    return {key: summary[key] for key in SUMMARY_KEYS}


def one_line(text: str) -> str:
    return " ".join(text.split())


# The messy file: BOM, semicolons, the same email twice (case and spaces differ),
# a phone-only row and a malformed email.
MESSY_CSV = (
    "\ufeffFirst Name;Last Name;Email;Phone;Company;Title\n"
    "John;Doe; John.Doe@Example.COM ;415-555-0134;Acme;CEO\n"
    "Johnny;Doe;john.doe@example.com;(415) 555-0134;Acme Corp;CTO\n"
    ";;;(415) 555-0199;;\n"
    "Bad;Row;not-an-email;;Broken Inc;\n"
)


# --- the summary ----------------------------------------------------------------------


def test_json_summary_is_the_last_stdout_line(cli: Cli, write: Callable[..., Path]) -> None:
    path = write("simple.csv", "Email,Name\na@example.com,Ada Lovelace\nb@example.com,Bob\n")

    result = cli.run("import", str(path), "--json")

    assert result.returncode == 0, result.stderr
    summary = last_json_line(result.stdout)
    assert SUMMARY_KEYS | {"seconds"} <= summary.keys()
    for key in SUMMARY_KEYS:
        assert isinstance(summary[key], int) and not isinstance(summary[key], bool), key
    assert isinstance(summary["seconds"], int | float)
    assert 0 <= summary["seconds"] < 60
    assert counts(summary) == {
        "received": 2,
        "valid": 2,
        "invalid": 0,
        "duplicates": 0,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "ignored": 0,
    }
    assert {lead["email"] for lead in cli.leads()} == {"a@example.com", "b@example.com"}


def test_import_without_json_prints_a_readable_summary(
    cli: Cli, write: Callable[..., Path]
) -> None:
    path = write("simple.csv", "Email\na@example.com\nbad-email\n")

    result = cli.run("import", str(path))

    assert result.returncode == 0, result.stderr
    assert "created" in result.stdout
    assert "invalid" in result.stdout
    assert "errors list" in one_line(result.stdout)
    assert len(cli.leads()) == 1


# --- the messy CSV --------------------------------------------------------------------


def test_messy_csv_dedupes_keeps_phone_only_and_rejects_bad_email(
    cli: Cli, write: Callable[..., Path]
) -> None:
    path = write("messy.csv", MESSY_CSV)

    summary = cli.import_json(str(path))

    assert counts(summary) == {
        "received": 4,
        "valid": 3,
        "invalid": 1,
        "duplicates": 1,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "ignored": 0,
    }
    leads = cli.leads()
    assert len(leads) == 2
    assert {lead["owner"] for lead in leads} == {"admin"}
    assert {lead["source_file"] for lead in leads} == {"messy.csv"}
    assert {lead["source"] for lead in leads} == {"cli"}  # SPEC: api|upload|inbox|cli

    john = cli.lead_by_email("john.doe@example.com")
    # the BOM did not hide the first header, and the last occurrence won
    assert john["first_name"] == "Johnny"
    assert john["last_name"] == "Doe"
    assert john["company"] == "Acme Corp"
    assert john["title"] == "CTO"
    assert john["phone"] == "+14155550134"
    assert john["phone_valid"] == 1

    phone_only = [lead for lead in leads if lead["email"] is None]
    assert len(phone_only) == 1
    assert phone_only[0]["phone"] == "+14155550199"
    assert phone_only[0]["phone_valid"] == 1

    assert all(lead["company"] != "Broken Inc" for lead in leads)
    with cli.db() as conn:
        errors = conn.execute("SELECT position, record, errors FROM schema_errors").fetchall()
    conn.close()
    assert len(errors) == 1
    assert errors[0]["position"] == 3
    assert json.loads(errors[0]["record"])["Email"] == "not-an-email"
    assert [e["field"] for e in json.loads(errors[0]["errors"])] == ["email"]


def test_reimport_finds_the_leads_unchanged_instead_of_creating(
    cli: Cli, write: Callable[..., Path]
) -> None:
    path = write("messy.csv", MESSY_CSV)
    first = cli.import_json(str(path))
    ids_before = {lead["lead_id"] for lead in cli.leads()}
    stamps = {lead["lead_id"]: lead["updated_at"] for lead in cli.leads()}

    second = cli.import_json(str(path))

    assert first["created"] == 2
    assert second["created"] == 0
    assert (second["updated"], second["unchanged"]) == (0, 2)
    assert {lead["lead_id"]: lead["updated_at"] for lead in cli.leads()} == stamps
    with cli.db() as conn:
        assert conn.execute("SELECT count(*) FROM lead_audit").fetchone()[0] == 0
        # issue 9 point 5: an in-process import keeps no batch ledger that nobody reads
        assert conn.execute("SELECT count(*) FROM job_batches").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM import_receipts").fetchone()[0] == 0
    assert second["duplicates"] == 1
    assert second["invalid"] == 1
    assert second["ignored"] == 0
    assert {lead["lead_id"] for lead in cli.leads()} == ids_before


def test_create_only_reimport_ignores_existing_leads(cli: Cli, write: Callable[..., Path]) -> None:
    path = write("messy.csv", MESSY_CSV)
    cli.import_json(str(path))
    changed = write("changed.csv", MESSY_CSV.replace("Acme Corp", "Changed Co"))

    summary = cli.import_json(str(changed), "--mode", "create-only")

    assert summary["created"] == 0
    assert summary["updated"] == 0
    assert summary["ignored"] == 2
    assert summary["duplicates"] == 1
    john = cli.lead_by_email("john.doe@example.com")
    assert john["company"] == "Acme Corp"
    assert john["source_file"] == "messy.csv"
    assert len(cli.leads()) == 2


def test_update_only_ignores_new_leads(cli: Cli, write: Callable[..., Path]) -> None:
    cli.import_json(str(write("first.csv", "Email,Company\nold@example.com,Old Co\n")))
    second = write(
        "second.csv",
        "Email,Company\nnew1@example.com,N1\nOLD@example.com,Renamed Co\nnew2@example.com,N2\n",
    )

    summary = cli.import_json(str(second), "--mode", "update-only")

    assert summary["created"] == 0
    assert summary["updated"] == 1
    assert summary["ignored"] == 2
    assert [lead["email"] for lead in cli.leads()] == ["old@example.com"]
    old = cli.lead_by_email("old@example.com")
    assert old["company"] == "Renamed Co"
    assert old["source_file"] == "second.csv"


def test_merge_replace_is_the_default_and_empty_replaces(
    cli: Cli, write: Callable[..., Path]
) -> None:
    cli.import_json(
        str(write("a.csv", "Email,Company,Title\nceo@example.com,Acme,Founder\n")),
    )

    summary = cli.import_json(str(write("b.csv", "Email,Company,Title\nceo@example.com,,CEO\n")))

    assert summary["updated"] == 1
    lead = cli.lead_by_email("ceo@example.com")
    assert lead["company"] == ""
    assert lead["title"] == "CEO"


def test_merge_fill_only_fills_empty_fields(cli: Cli, write: Callable[..., Path]) -> None:
    cli.import_json(
        str(write("a.csv", "Email,Company,Title,Phone\nceo@example.com,,Founder,\n")),
    )
    update = write(
        "b.csv", "Email,Company,Title,Phone\nceo@example.com,NewCo,CEO,+1 415 555 0134\n"
    )

    summary = cli.import_json(str(update), "--merge", "fill")

    assert summary["updated"] == 1
    assert summary["created"] == 0
    lead = cli.lead_by_email("ceo@example.com")
    assert lead["company"] == "NewCo"
    assert lead["title"] == "Founder"
    assert lead["phone"] == "+14155550134"


# --- column mapping -------------------------------------------------------------------


def test_map_assigns_an_unguessable_header(cli: Cli, write: Callable[..., Path]) -> None:
    content = "Electronic Post,Org Unit,Full Name\nMix@Example.com,Sales,Ada Lovelace\n"
    unmapped = write("unmapped.csv", content)
    mapped = write("mapped.csv", content)

    plain = cli.import_json(str(unmapped), "--owner", "plain")
    summary = cli.import_json(
        str(mapped), "--owner", "mapped", "--map", "Electronic Post=email,Org Unit=company"
    )

    assert plain["created"] == 1
    (guessed,) = cli.leads("plain")
    assert guessed["email"] is None
    assert json.loads(guessed["attributes"])["Electronic Post"] == "Mix@Example.com"

    assert summary["created"] == 1
    (lead,) = cli.leads("mapped")
    assert lead["email"] == "mix@example.com"
    assert lead["company"] == "Sales"
    assert lead["first_name"] == "Ada"
    assert lead["last_name"] == "Lovelace"
    assert "Electronic Post" not in json.loads(lead["attributes"] or "{}")


def test_map_mail_equals_email(cli: Cli, write: Callable[..., Path]) -> None:
    path = write("mail.csv", "Mail,Name\nM@X.com,Ann\n")

    summary = cli.import_json(str(path), "--map", "Mail=email")

    assert summary["created"] == 1
    assert cli.lead_by_email("m@x.com")["first_name"] == "Ann"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("bad", "Column=field"),
        ("=email", "Column=field"),
        ("Mail=bogus", "is not a lead field"),
        # issue 9 4.2: a target is a canonical field name, not an alias of one
        ("Mail=fullname", "the fields are name, firstName, lastName, email"),
        # and a mapped column must be one the file has: the message names its columns
        ("Nom=name", "the file does not have; its columns are 'Mail', 'Name'"),
    ],
)
def test_bad_map_exits_2_with_a_clear_error(
    cli: Cli, write: Callable[..., Path], spec: str, expected: str
) -> None:
    path = write("mail.csv", "Mail,Name\nm@x.com,Ann\n")

    result = cli.run("import", str(path), "--map", spec, "--json")

    assert result.returncode == 2
    assert expected in one_line(result.stderr)
    assert "error" in result.stderr.lower()
    assert "Traceback" not in result.stderr
    assert result.stdout.strip() == ""
    assert not (cli.data_dir / "leadflow.db").exists() or cli.leads() == []


def test_missing_file_exits_2_with_a_message(cli: Cli) -> None:
    result = cli.run("import", "no-such-file.csv", "--json")

    assert result.returncode == 2
    message = one_line(result.stderr)
    assert "no-such-file.csv" in message
    assert "does not exist" in message
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("content", ["", "First Name,Email\r\n"])
def test_empty_or_header_only_file_completes_with_no_records(
    cli: Cli, write: Callable[..., Path], content: str
) -> None:
    path = write("empty.csv", content)

    result = cli.run("import", str(path), "--json")

    assert result.returncode == 0, result.stderr
    summary = last_json_line(result.stdout)
    assert [summary[k] for k in ("received", "valid", "invalid", "created")] == [0, 0, 0, 0]
    assert any("empty.csv has no records" in w for w in summary["warnings"])
    assert "Traceback" not in result.stderr


# --- opt-in pipeline ------------------------------------------------------------------


def test_optin_pipeline_stores_only_opted_in_rows(cli: Cli, write: Callable[..., Path]) -> None:
    path = write(
        "optin.csv",
        "name,email,optIn,interests\n"
        'Ada Lovelace,ada@example.com,yes,"a;b"\n'
        "Bob Stone,bob@example.com,no,c\n"
        "Cy Young,cy@example.com,YES,x\n"
        "Di Prince,di@example.com,0,y\n",
    )

    summary = cli.import_json(str(path), "--pipeline", "optin")

    assert summary["received"] == 4
    assert summary["valid"] == 4
    assert summary["invalid"] == 0
    assert summary["created"] == 2
    assert summary["ignored"] == 2
    leads = cli.leads()
    assert sorted(lead["email"] for lead in leads) == ["ada@example.com", "cy@example.com"]
    ada = cli.lead_by_email("ada@example.com")
    assert ada["opt_in"] == 1
    assert json.loads(ada["interests"]) == ["a", "b"]
    assert (ada["first_name"], ada["last_name"]) == ("Ada", "Lovelace")


def test_optin_pipeline_rejects_a_bad_flag(cli: Cli, write: Callable[..., Path]) -> None:
    path = write(
        "optin.csv",
        "name,email,optIn,interests\nAda,ada@example.com,maybe,a\nBo,bo@example.com,true,b\n",
    )

    summary = cli.import_json(str(path), "--pipeline", "optin")

    assert summary["invalid"] == 1
    assert summary["created"] == 1
    result = cli.run("errors", "list", "--json")
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert len(rows) == 1
    assert rows[0]["index"] == 0
    assert "optIn" in [e["field"] for e in rows[0]["errors"]]


# --- users ----------------------------------------------------------------------------


def test_users_add_reads_the_password_from_stdin(cli: Cli) -> None:
    result = cli.run("users", "add", "alice", stdin="correct horse battery\n")

    assert result.returncode == 0, result.stderr
    with cli.db() as conn:
        rows = conn.execute("SELECT username, password_hash FROM users").fetchall()
    conn.close()
    assert [row["username"] for row in rows] == ["alice"]
    assert "correct horse" not in rows[0]["password_hash"]
    assert rows[0]["password_hash"].startswith("$argon2")


def test_users_add_rejects_a_short_password(cli: Cli) -> None:
    result = cli.run("users", "add", "alice", stdin="short\n")

    assert result.returncode == 2
    assert "8 characters" in one_line(result.stderr)
    assert "Traceback" not in result.stderr
    db = cli.data_dir / "leadflow.db"
    if db.exists():
        with cli.db() as conn:
            assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 0
        conn.close()


# --- the schema-error log -------------------------------------------------------------


def test_errors_list_shows_the_rejected_row_as_received(
    cli: Cli, write: Callable[..., Path]
) -> None:
    path = write("messy.csv", MESSY_CSV)
    summary = cli.import_json(str(path))

    result = cli.run("errors", "list", "--json")

    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert len(rows) == 1
    row = rows[0]
    assert row["index"] == 3
    assert row["importId"] == summary["importId"]
    assert row["record"] == {
        "First Name": "Bad",
        "Last Name": "Row",
        "Email": "not-an-email",
        "Phone": "",
        "Company": "Broken Inc",
        "Title": "",
    }
    assert len(row["errors"]) == 1
    assert row["errors"][0]["field"] == "email"
    assert "not-an-email" in row["errors"][0]["message"]


def test_errors_list_filters_by_import_and_owner(cli: Cli, write: Callable[..., Path]) -> None:
    first = cli.import_json(str(write("a.csv", "Email\nbad-one\n")))
    second = cli.import_json(str(write("b.csv", "Email\nbad-two\n")), "--owner", "bob")

    admin = cli.run("errors", "list", "--json")
    bob = cli.run("errors", "list", "--json", "--owner", "bob", "--import", second["importId"])
    none = cli.run("errors", "list", "--json", "--import", second["importId"])

    admin_rows = [json.loads(line) for line in admin.stdout.splitlines() if line.strip()]
    bob_rows = [json.loads(line) for line in bob.stdout.splitlines() if line.strip()]
    assert [r["record"]["Email"] for r in admin_rows] == ["bad-one"]
    assert admin_rows[0]["importId"] == first["importId"]
    assert [r["record"]["Email"] for r in bob_rows] == ["bad-two"]
    assert none.stdout.strip() == ""


# --- owners ---------------------------------------------------------------------------


def test_owner_defaults_to_admin_and_can_be_overridden(
    cli: Cli, write: Callable[..., Path]
) -> None:
    path = write("one.csv", "Email\nsame@example.com\n")

    cli.import_json(str(path))
    cli.import_json(str(path), "--owner", "bob")
    cli.import_json(str(path), env={"LEADFLOW_INBOX_OWNER": "carol"})

    leads = cli.leads()
    assert sorted(lead["owner"] for lead in leads) == ["admin", "bob", "carol"]
    assert {lead["email"] for lead in leads} == {"same@example.com"}
    assert len({lead["lead_id"] for lead in leads}) == 3


# --- other inputs ---------------------------------------------------------------------


def test_xlsx_import_splits_full_name(cli: Cli) -> None:
    path = cli.workdir / "contacts.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Contacts"
    sheet.append(["Full Name", "Email Address", "Phone", "Company Name", "Score"])
    sheet.append(["Ada Lovelace", "ADA@Example.com", 4155550134, "Analytical", 10])
    sheet.append(["Doe, John", "john@example.com", None, "Acme", None])
    sheet.append(["Grace Brewster Hopper", " grace@example.com ", "(415) 555-0199", None, 3.5])
    book.create_sheet("Ignored").append(["Email Address"])
    book.save(path)

    result = cli.run("import", str(path), "--json")

    assert result.returncode == 0, result.stderr
    summary = last_json_line(result.stdout)
    assert summary["received"] == 3
    assert summary["created"] == 3
    assert summary["invalid"] == 0
    assert "sheets" in result.stderr
    ada = cli.lead_by_email("ada@example.com")
    assert (ada["first_name"], ada["last_name"]) == ("Ada", "Lovelace")
    assert ada["phone"] == "+14155550134"
    assert ada["phone_valid"] == 1
    assert ada["company"] == "Analytical"
    assert ada["source_file"] == "contacts.xlsx"
    assert json.loads(ada["attributes"]) == {"Score": "10"}
    john = cli.lead_by_email("john@example.com")
    assert (john["first_name"], john["last_name"]) == ("John", "Doe")
    grace = cli.lead_by_email("grace@example.com")
    assert (grace["first_name"], grace["last_name"]) == ("Grace", "Brewster Hopper")
    assert grace["phone"] == "+14155550199"


def test_latin1_csv_is_imported_with_a_warning(cli: Cli, write: Callable[..., Path]) -> None:
    path = write(
        "legacy.csv",
        "First Name;Last Name;Ville;Email\nJosé;Müller;Zürich;jose@example.com\n".encode("cp1252"),
    )

    result = cli.run("import", str(path), "--json")

    assert result.returncode == 0, result.stderr
    assert "UTF-8" in one_line(result.stderr)
    lead = cli.lead_by_email("jose@example.com")
    assert (lead["first_name"], lead["last_name"]) == ("José", "Müller")
    assert json.loads(lead["attributes"]) == {"Ville": "Zürich"}


def test_ndjson_with_an_invalid_line_logs_it(cli: Cli, write: Callable[..., Path]) -> None:
    path = write(
        "leads.ndjson",
        '{"email": "a@example.com", "name": "Ann Lee"}\n'
        "{oops\n"
        '{"email": "b@example.com", "company": "B Co"}\n',
    )

    summary = cli.import_json(str(path))

    assert summary["received"] == 3
    assert summary["invalid"] == 1
    assert summary["created"] == 2
    errors = cli.run("errors", "list", "--json")
    rows = [json.loads(line) for line in errors.stdout.splitlines() if line.strip()]
    assert len(rows) == 1
    assert rows[0]["index"] == 1
    assert rows[0]["record"] == "{oops"


def test_leads_without_email_are_never_merged(cli: Cli, write: Callable[..., Path]) -> None:
    path = write(
        "noemail.csv",
        "Name,Email,Company\nAnn Lee,n/a,A\nBob Ray,,B\nCy Dee,NULL,C\nDi Eve,none,D\n",
    )

    summary = cli.import_json(str(path))

    assert summary["created"] == 4
    assert summary["duplicates"] == 0
    leads = cli.leads()
    assert len(leads) == 4
    assert {lead["email"] for lead in leads} == {None}


def test_phone_only_rows_dedupe_on_e164(cli: Cli, write: Callable[..., Path]) -> None:
    path = write(
        "phones.csv",
        "Name,Phone\nFirst Version,415-555-0134\nSecond Version,+1 (415) 555 0134\n"
        "Other,415.555.0199\n",
    )

    summary = cli.import_json(str(path))

    assert summary["duplicates"] == 1
    assert summary["created"] == 2
    phones = {lead["phone"]: lead for lead in cli.leads()}
    assert set(phones) == {"+14155550134", "+14155550199"}
    assert phones["+14155550134"]["first_name"] == "Second"


@pytest.mark.parametrize("workers", ["1", "2"])
def test_duplicates_across_batches_count_once(
    cli: Cli, write: Callable[..., Path], workers: str
) -> None:
    rows = ["a@x.com,1", "b@x.com,2", "c@x.com,3", "d@x.com,4", "A@X.com,5", "b@x.com,6"]
    path = write("batches.csv", "Email,Company\n" + "\n".join(rows) + "\n")

    summary = cli.import_json(
        str(path), "--workers", workers, env={"LEADFLOW_IMPORT_CHUNK_ROWS": "2"}
    )

    assert counts(summary) == {
        "received": 6,
        "valid": 6,
        "invalid": 0,
        "duplicates": 2,
        "created": 4,
        "updated": 0,
        "unchanged": 0,
        "ignored": 0,
    }
    companies = {lead["email"]: lead["company"] for lead in cli.leads()}
    assert companies == {"a@x.com": "5", "b@x.com": "6", "c@x.com": "3", "d@x.com": "4"}


def test_worker_processes_store_what_one_process_stores(tmp_path: Path) -> None:
    # Ragged rows (longer, shorter), rows over a limit and blank lines come out of the
    # worker pool as they do out of one process, batch boundaries anywhere.
    content = (
        "Email,Company,Region\n"
        "a@x.com,Acme,EU\n"
        "b@x.com,Globex\n"  # short: no Region
        "c@x.com,Initech,US,extra cell\n"  # long: column_4 in attributes
        "\n"
        "not an email,Hooli,EU\n"
        "A@X.com ,Acme Two,\n"  # a later duplicate of a@x.com, Region empty
        "d@x.com," + "y" * 300 + ",EU\n"  # over the field limit set below
        "e@x.com,Stark,APAC\n"
    )
    stored = {}
    for workers in ("1", "2"):
        cli = Cli(workdir=tmp_path / f"work{workers}", data_dir=tmp_path / f"data{workers}")
        cli.workdir.mkdir()
        path = cli.workdir / "ragged.csv"
        path.write_text(content)
        env = {"LEADFLOW_IMPORT_CHUNK_ROWS": "2", "LEADFLOW_MAX_FIELD_CHARS": "200"}
        summary = cli.import_json(str(path), "--workers", workers, env=env)
        with cli.db() as conn:
            errors = conn.execute("SELECT position, record, errors FROM schema_errors").fetchall()
        conn.close()
        leads = {
            lead["email"]: (lead["company"], lead["attributes"], lead["search"])
            for lead in cli.leads()
        }
        stored[workers] = (counts(summary), leads, sorted(tuple(e) for e in errors))
    assert stored["2"] == stored["1"]
    summary, leads, errors = stored["1"]
    assert leads["a@x.com"][0] == "Acme Two"
    assert json.loads(leads["c@x.com"][1]) == {"Region": "US", "column_4": "extra cell"}
    assert {position for position, _, _ in errors} == {3, 5}
