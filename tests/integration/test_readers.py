"""Integration tests for leadflow.readers over real files written into tmp_path."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from leadflow.readers import UnreadableFile, open_records
from leadflow.readers.base import RecordStream, unique_headers
from leadflow.readers.json_reader import InvalidLine


def read_all(stream: RecordStream) -> list[tuple[int, Any]]:
    """Every (index, record) of a stream, in order."""
    return [item for batch in stream.batches() for item in batch]


def records_of(stream: RecordStream) -> list[Any]:
    items = read_all(stream)
    assert [index for index, _ in items] == list(range(len(items)))
    return [record for _, record in items]


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def write_xlsx(path: Path, rows: list[list[Any]], extra_sheets: int = 0) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Leads"
    for row in rows:
        sheet.append(row)
    for number in range(extra_sheets):
        other = book.create_sheet(f"Other{number + 1}")
        other.append(["Secret", "Hidden"])
        other.append([f"only-in-sheet-{number + 2}", "x"])
    book.save(path)
    return path


# --- CSV ------------------------------------------------------------------------------


def test_csv_utf8_bom_is_not_part_of_the_first_header(tmp_path: Path) -> None:
    path = write_bytes(
        tmp_path / "bom.csv",
        "\ufeffEmail,Name\njosé@example.com,José Müller\n".encode(),
    )
    stream = open_records(path)
    records = records_of(stream)

    assert stream.format == "csv"
    assert stream.headers == ["Email", "Name"]
    assert not stream.headers[0].startswith("\ufeff")
    assert records == [{"Email": "josé@example.com", "Name": "José Müller"}]
    assert stream.warnings == []
    assert stream.delimiter == ","


@pytest.mark.parametrize(
    ("delimiter", "name"),
    [(";", "semicolon"), ("\t", "tab"), ("|", "pipe"), (",", "comma")],
)
def test_csv_delimiter_is_sniffed(tmp_path: Path, delimiter: str, name: str) -> None:
    lines = [
        ["First Name", "Last Name", "Email", "Company"],
        ["Ada", "Lovelace", "ada@example.com", "Analytical Engines"],
        ["Alan", "Turing", "alan@example.com", "Bletchley"],
    ]
    text = "\n".join(delimiter.join(cells) for cells in lines) + "\n"
    path = write_bytes(tmp_path / f"{name}.csv", text.encode())

    stream = open_records(path)
    records = records_of(stream)

    assert stream.delimiter == delimiter
    assert stream.headers == lines[0]
    assert records == [dict(zip(lines[0], row, strict=True)) for row in lines[1:]]


def test_csv_semicolons_with_commas_inside_values(tmp_path: Path) -> None:
    text = 'Name;Notes;Email\n"Doe, John";"a, b, c";j@x.com\nAda;"x, y";a@x.com\n'
    path = write_bytes(tmp_path / "semi.csv", text.encode())

    stream = open_records(path)
    records = records_of(stream)

    assert stream.delimiter == ";"
    assert records == [
        {"Name": "Doe, John", "Notes": "a, b, c", "Email": "j@x.com"},
        {"Name": "Ada", "Notes": "x, y", "Email": "a@x.com"},
    ]


def test_csv_quoted_fields_with_newlines_and_delimiters(tmp_path: Path) -> None:
    text = (
        "Name,Notes,Email\r\n"
        '"Doe, John","first line\r\nsecond line, with comma",john@example.com\r\n'
        '"She said ""hi""","multi\nline\nnote",she@example.com\r\n'
        "Plain,simple,plain@example.com\r\n"
    )
    path = write_bytes(tmp_path / "quoted.csv", text.encode())

    stream = open_records(path)
    items = read_all(stream)

    assert [index for index, _ in items] == [0, 1, 2]
    records = [record for _, record in items]
    assert records[0] == {
        "Name": "Doe, John",
        "Notes": "first line\r\nsecond line, with comma",
        "Email": "john@example.com",
    }
    assert records[1] == {
        "Name": 'She said "hi"',
        "Notes": "multi\nline\nnote",
        "Email": "she@example.com",
    }
    assert records[2] == {"Name": "Plain", "Notes": "simple", "Email": "plain@example.com"}


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
def test_csv_legacy_encoding_is_decoded_and_announced(tmp_path: Path, encoding: str) -> None:
    text = "Nom;Ville;Email\nJosé;Zürich;jose@example.com\nRenée;Köln;renee@example.com\n"
    path = write_bytes(tmp_path / "legacy.csv", text.encode(encoding))
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")

    stream = open_records(path)
    records = records_of(stream)

    assert records == [
        {"Nom": "José", "Ville": "Zürich", "Email": "jose@example.com"},
        {"Nom": "Renée", "Ville": "Köln", "Email": "renee@example.com"},
    ]
    assert stream.encoding is not None
    assert stream.encoding.replace("_", "-").lower() not in ("utf-8", "utf-8-sig", "utf8")
    assert any("UTF-8" in warning for warning in stream.warnings), stream.warnings


def test_csv_cp1252_specific_characters(tmp_path: Path) -> None:
    # 0x80 (euro) and 0x93/0x94 (curly quotes) exist in Windows-1252, not in Latin-1.
    text = "Name,Remarks\nFrançois,“Price” 10 €\n"
    path = write_bytes(tmp_path / "win.csv", text.encode("cp1252"))

    stream = open_records(path)
    records = records_of(stream)

    assert records == [{"Name": "François", "Remarks": "“Price” 10 €"}]
    assert any("UTF-8" in warning for warning in stream.warnings)


def test_csv_utf8_without_bom_has_no_warning(tmp_path: Path) -> None:
    path = write_bytes(tmp_path / "utf8.csv", "Name\nZoë Ærøskøbing\n".encode())
    stream = open_records(path)

    assert records_of(stream) == [{"Name": "Zoë Ærøskøbing"}]
    assert stream.warnings == []


def test_csv_blank_lines_are_skipped_and_indexes_stay_dense(tmp_path: Path) -> None:
    text = "\n\nEmail,Name\n\na@x.com,A\n\n\nb@x.com,B\n,\nc@x.com,C\n\n"
    path = write_bytes(tmp_path / "blank.csv", text.encode())

    stream = open_records(path)
    items = read_all(stream)

    assert stream.headers == ["Email", "Name"]
    assert items == [
        (0, {"Email": "a@x.com", "Name": "A"}),
        (1, {"Email": "b@x.com", "Name": "B"}),
        (2, {"Email": "c@x.com", "Name": "C"}),
    ]


def test_csv_whitespace_only_lines_are_blank_lines(tmp_path: Path) -> None:
    text = "Email,Name\na@x.com,A\n   \n\t\nb@x.com,B\n"
    path = write_bytes(tmp_path / "spaces.csv", text.encode())

    records = records_of(open_records(path))

    assert records == [{"Email": "a@x.com", "Name": "A"}, {"Email": "b@x.com", "Name": "B"}]


def test_csv_ragged_rows_keep_extra_cells_as_column_n(tmp_path: Path) -> None:
    text = "Email,Name\na@x.com,A,extra1,extra2\nb@x.com\nc@x.com,C\n"
    path = write_bytes(tmp_path / "ragged.csv", text.encode())

    stream = open_records(path)
    records = records_of(stream)

    assert records[0] == {
        "Email": "a@x.com",
        "Name": "A",
        "column_3": "extra1",
        "column_4": "extra2",
    }
    assert records[1]["Email"] == "b@x.com"
    assert records[1].get("Name") in (None, "")
    assert records[2] == {"Email": "c@x.com", "Name": "C"}


def test_csv_duplicate_and_blank_headers_are_made_unique(tmp_path: Path) -> None:
    text = "Email,,Email, Name ,Email,\n1,2,3,4,5,6\n"
    path = write_bytes(tmp_path / "dupes.csv", text.encode())

    stream = open_records(path)
    records = records_of(stream)

    expected = ["Email", "column_2", "Email_2", "Name", "Email_3", "column_6"]
    assert stream.headers == expected
    assert unique_headers(["Email", "", "Email", " Name ", "Email", None]) == expected
    assert records == [dict(zip(expected, "123456", strict=True))]


def test_csv_header_only_gives_no_records(tmp_path: Path) -> None:
    path = write_bytes(tmp_path / "header.csv", b"Email,Name\r\n")
    stream = open_records(path)

    assert read_all(stream) == []
    assert stream.headers == ["Email", "Name"]


@pytest.mark.parametrize("content", [b"", b"\n\n\r\n", b"\xef\xbb\xbf", b" , \n"])
def test_csv_without_a_header_has_no_records_and_says_so(tmp_path: Path, content: bytes) -> None:
    path = write_bytes(tmp_path / "empty.csv", content)
    stream = open_records(path)
    assert read_all(stream) == []
    assert any("empty.csv has no records" in w for w in stream.warnings)
    # true in a preview too: nothing has been imported, there is nothing to import
    assert any(w.endswith("there is nothing to import") for w in stream.warnings)
    assert not any("was imported" in w for w in stream.warnings)


# --- XLSX -----------------------------------------------------------------------------


def test_xlsx_first_sheet_header_and_numbers(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "leads.xlsx",
        [
            ["Email", "Phone", "Score", "Name"],
            ["ada@example.com", 4155550134, 12.5, "Ada Lovelace"],
            ["alan@example.com", None, 7, "Alan Turing"],
        ],
    )
    stream = open_records(path)
    records = records_of(stream)

    assert stream.format == "xlsx"
    assert stream.headers == ["Email", "Phone", "Score", "Name"]
    # cells become text as a person reads them: whole numbers without ".0"
    assert records[0] == {
        "Email": "ada@example.com",
        "Phone": "4155550134",
        "Score": "12.5",
        "Name": "Ada Lovelace",
    }
    assert records[1]["Phone"] == ""
    assert records[1]["Score"] == "7"
    assert stream.warnings == []


def test_xlsx_only_first_sheet_is_read_with_a_warning(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "multi.xlsx",
        [["Email", "Name"], ["a@x.com", "A"]],
        extra_sheets=2,
    )
    stream = open_records(path)
    records = records_of(stream)

    assert records == [{"Email": "a@x.com", "Name": "A"}]
    assert all("Secret" not in r and "only-in-sheet" not in str(r) for r in records)
    assert len(stream.warnings) == 1
    assert "3 sheets" in stream.warnings[0]
    assert "Leads" in stream.warnings[0]
    # said for the CLI, the API and the web page alike: the choice, not a flag's syntax
    assert "sheet 'Leads' was read" in stream.warnings[0]
    assert "choose another sheet" in stream.warnings[0]
    assert "--" not in stream.warnings[0] and "?sheet=" not in stream.warnings[0]


def test_xlsx_formula_is_never_read_as_its_text(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "formula.xlsx",
        [["Email", "Total"], ["a@x.com", "=1+1"]],
    )
    records = records_of(open_records(path))

    assert records[0]["Email"] == "a@x.com"
    assert records[0]["Total"] != "=1+1"
    # openpyxl saves no cached value, so there is nothing computed to read.
    assert records[0]["Total"] == ""


def test_xlsx_formula_with_cached_value_reads_the_value(tmp_path: Path) -> None:
    source = write_xlsx(
        tmp_path / "source.xlsx",
        [["Email", "Total"], ["a@x.com", "=1+1"]],
    )
    patched = tmp_path / "cached.xlsx"
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(patched, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text, count = re.subn(
                    r"<f>1\+1</f>\s*(?:<v\s*/>|<v>\s*</v>)?",
                    "<f>1+1</f><v>2</v>",
                    data.decode(),
                )
                assert count == 1
                data = text.encode()
            zout.writestr(item, data)

    records = records_of(open_records(patched))

    assert records == [{"Email": "a@x.com", "Total": "2"}]


def test_xlsx_blank_rows_ragged_cells_and_headers(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "ragged.xlsx",
        [
            [None, None],
            ["Email", None, "Email", "Name"],
            ["a@x.com", "b", "c", "A"],
            [None, None, None, None],
            ["d@x.com", None, None, "D", "extra"],
        ],
    )
    stream = open_records(path)
    items = read_all(stream)

    assert stream.headers == ["Email", "column_2", "Email_2", "Name"]
    assert [index for index, _ in items] == [0, 1]
    assert items[0][1] == {"Email": "a@x.com", "column_2": "b", "Email_2": "c", "Name": "A"}
    assert items[1][1]["Email"] == "d@x.com"
    assert items[1][1]["Name"] == "D"
    assert items[1][1]["column_5"] == "extra"


def test_xlsx_empty_sheet_has_no_records_and_says_so(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "blank.xlsx", [])
    stream = open_records(path)
    assert read_all(stream) == []
    assert any("blank.xlsx has no records" in w for w in stream.warnings)


def test_corrupt_xlsx_is_unreadable(tmp_path: Path) -> None:
    path = write_bytes(tmp_path / "broken.xlsx", b"PK\x03\x04" + b"\x00" * 200)
    with pytest.raises(UnreadableFile) as caught:
        read_all(open_records(path))
    assert "broken.xlsx" in str(caught.value)


# --- JSON and NDJSON ------------------------------------------------------------------


def test_json_list_file(tmp_path: Path) -> None:
    data = [
        {"name": "Ada", "email": "ada@example.com", "optIn": True, "interests": ["math"]},
        {"name": "Alan", "email": "alan@example.com", "optIn": False, "interests": []},
        {"name": "Grace", "score": 1.5, "nested": {"k": [1, 2]}},
    ]
    path = write_bytes(tmp_path / "list.json", json.dumps(data, indent=2).encode())

    stream = open_records(path)
    records = records_of(stream)

    assert stream.format == "json"
    assert records == data
    assert isinstance(records[0]["optIn"], bool)
    assert isinstance(records[2]["score"], float)


def test_json_list_with_bom(tmp_path: Path) -> None:
    data = [{"name": "Zoë"}, {"name": "Łukasz"}]
    path = write_bytes(tmp_path / "bom.json", b"\xef\xbb\xbf" + json.dumps(data).encode())

    stream = open_records(path)

    assert stream.format == "json"
    assert records_of(stream) == data


def test_single_pretty_printed_json_object(tmp_path: Path) -> None:
    data = {"name": "Ada Lovelace", "email": "ada@example.com", "interests": ["math", "poetry"]}
    text = json.dumps(data, indent=4)
    assert text.count("\n") >= 3
    path = write_bytes(tmp_path / "one.json", text.encode())

    stream = open_records(path)
    items = read_all(stream)

    assert stream.format == "json"
    assert items == [(0, data)]


def test_ndjson_with_an_invalid_line(tmp_path: Path) -> None:
    lines = [
        json.dumps({"email": "a@x.com", "n": 1}),
        "",
        "{not json at all",
        json.dumps({"email": "b@x.com", "n": 2}),
        json.dumps({"email": "c@x.com", "n": 3}),
    ]
    path = write_bytes(tmp_path / "leads.ndjson", ("\n".join(lines) + "\n").encode())

    stream = open_records(path)
    items = read_all(stream)

    assert stream.format == "ndjson"
    assert [index for index, _ in items] == [0, 1, 2, 3]
    assert items[0][1] == {"email": "a@x.com", "n": 1}
    bad = items[1][1]
    assert isinstance(bad, InvalidLine)
    assert bad.text == "{not json at all"
    assert bad.error
    assert items[2][1] == {"email": "b@x.com", "n": 2}
    assert items[3][1] == {"email": "c@x.com", "n": 3}


def test_invalid_json_list_is_unreadable(tmp_path: Path) -> None:
    path = write_bytes(tmp_path / "bad.json", b'[{"a": 1}, {"b": ]')
    with pytest.raises(UnreadableFile) as caught:
        read_all(open_records(path))
    assert "bad.json" in str(caught.value)


# --- format sniffing ------------------------------------------------------------------


def test_csv_saved_as_txt_is_read_as_csv(tmp_path: Path) -> None:
    path = write_bytes(tmp_path / "export.txt", b"Email;Name\na@x.com;A\n")
    stream = open_records(path)

    assert stream.format == "csv"
    assert records_of(stream) == [{"Email": "a@x.com", "Name": "A"}]


def test_xlsx_saved_with_a_csv_name_is_read_as_xlsx(tmp_path: Path) -> None:
    real = write_xlsx(tmp_path / "real.xlsx", [["Email", "Phone"], ["a@x.com", 4155550134]])
    path = tmp_path / "actually-a-workbook.csv"
    path.write_bytes(real.read_bytes())

    stream = open_records(path)

    assert stream.format == "xlsx"
    assert records_of(stream) == [{"Email": "a@x.com", "Phone": "4155550134"}]


def test_json_saved_as_dat_is_read_as_json(tmp_path: Path) -> None:
    data = [{"email": "a@x.com"}, {"email": "b@x.com"}]
    path = write_bytes(tmp_path / "dump.dat", ("\n  " + json.dumps(data)).encode())

    stream = open_records(path)

    assert stream.format == "json"
    assert records_of(stream) == data


def test_ndjson_saved_as_csv_is_read_as_ndjson(tmp_path: Path) -> None:
    path = write_bytes(tmp_path / "lines.csv", b'{"email": "a@x.com"}\n{"email": "b@x.com"}\n')

    stream = open_records(path)

    assert stream.format == "ndjson"
    assert records_of(stream) == [{"email": "a@x.com"}, {"email": "b@x.com"}]


# --- batching and streaming -----------------------------------------------------------


def _twelve_rows(tmp_path: Path, kind: str) -> Path:
    rows = [{"email": f"user{i}@example.com", "n": i} for i in range(12)]
    if kind == "csv":
        text = "email,n\n" + "".join(f"{r['email']},{r['n']}\n" for r in rows)
        return write_bytes(tmp_path / "rows.csv", text.encode())
    if kind == "xlsx":
        return write_xlsx(
            tmp_path / "rows.xlsx", [["email", "n"]] + [[r["email"], r["n"]] for r in rows]
        )
    if kind == "json":
        return write_bytes(tmp_path / "rows.json", json.dumps(rows).encode())
    text = "".join(json.dumps(r) + "\n" for r in rows)
    return write_bytes(tmp_path / "rows.ndjson", text.encode())


@pytest.mark.parametrize("kind", ["csv", "xlsx", "json", "ndjson"])
def test_batches_of_five_five_two(tmp_path: Path, kind: str) -> None:
    stream = open_records(_twelve_rows(tmp_path, kind), batch_rows=5)
    batches = list(stream.batches())

    assert stream.format == kind
    assert [len(batch) for batch in batches] == [5, 5, 2]
    indexes = [index for batch in batches for index, _ in batch]
    assert indexes == list(range(12))
    emails = [record["email"] for batch in batches for _, record in batch]
    assert emails == [f"user{i}@example.com" for i in range(12)]
    assert str(batches[2][-1][1]["n"]) == "11"


def test_exact_multiple_of_batch_size_has_no_empty_batch(tmp_path: Path) -> None:
    text = "email\n" + "".join(f"u{i}@x.com\n" for i in range(10))
    path = write_bytes(tmp_path / "ten.csv", text.encode())

    batches = list(open_records(path, batch_rows=5).batches())

    assert [len(batch) for batch in batches] == [5, 5]


def test_large_csv_is_streamed_not_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    rows = 200_000
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("First Name,Last Name,Email,Phone,Company\n")
        f.writelines(
            f"First{i},Last{i},user{i}@example.com,+1415555{i % 10000:04d},Company {i}\n"
            for i in range(rows)
        )
    size = path.stat().st_size

    stream = open_records(path, batch_rows=1000)
    batches = stream.batches()
    first = next(batches)
    done, total = stream.progress()

    assert len(first) == 1000
    assert first[0] == (
        0,
        {
            "First Name": "First0",
            "Last Name": "Last0",
            "Email": "user0@example.com",
            "Phone": "+14155550000",
            "Company": "Company 0",
        },
    )
    assert total == size
    assert 0 < done < size // 4, (done, size)

    count = len(first) + sum(len(batch) for batch in batches)
    assert count == rows
    assert stream.progress() == (size, size)


def test_large_json_list_is_streamed_not_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    rows = 50_000
    with path.open("w", encoding="utf-8") as f:
        f.write("[")
        f.write(",".join(json.dumps({"email": f"u{i}@example.com", "n": i}) for i in range(rows)))
        f.write("]")
    size = path.stat().st_size

    stream = open_records(path, batch_rows=100)
    batches = stream.batches()
    first = next(batches)
    done, total = stream.progress()

    assert [index for index, _ in first] == list(range(100))
    assert total == size
    assert done < size // 4, (done, size)
    assert len(first) + sum(len(batch) for batch in batches) == rows
