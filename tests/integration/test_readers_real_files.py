"""Readers on the kinds of files users bring: header rows, encodings, files that are not
records, both XLSX engines, and the input limits (generated files in tmp_path)."""

from __future__ import annotations

import codecs
import datetime as dt
import gzip
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from leadflow.domain.limits import InputLimits
from leadflow.readers import InvalidLine, ReadOptions, UnreadableFile, open_records
from leadflow.readers.header_row import find_header
from real_cases import case

ENGINES = {"calamine": 1 << 30, "openpyxl": 0}  # calamine_max_bytes choosing each engine


def read(path: Path, **options: Any) -> tuple[list[Any], list[str]]:
    stream = open_records(path, 1000, ReadOptions(**options))
    records = [record for batch in stream.batches() for _, record in batch]
    return records, stream.warnings


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# --- header row -----------------------------------------------------------------------


def test_find_header_prefers_the_row_naming_most_fields() -> None:
    rows = [["Notes:"], ["When exporting, some emails are missing"], [], ["First Name", "Email"]]
    assert find_header(rows) == 3


def test_one_data_cell_that_reads_like_a_field_does_not_move_the_header() -> None:
    rows = [["Customer", "Kind"], ["Jane", "Mobile"], ["Sam", "Work"]]
    assert find_header(rows) == 0


def test_sep_hint_sets_the_delimiter_even_when_commas_abound(tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", b"sep=;\nName;Email\nRoe, Jane;jane@example.com\n")
    records, warnings = read(path)
    assert records == [{"Name": "Roe, Jane", "Email": "jane@example.com"}]
    assert warnings == []


def test_semicolon_file_with_a_preamble(tmp_path: Path) -> None:
    text = "Export CRM\nGenerated 2024-03-05\n\nPrénom;Nom;E-mail;Téléphone\nAmy;Doe;a@x.com;1\n"
    records, warnings = read(write(tmp_path / "x.csv", text.encode()))
    assert records == [{"Prénom": "Amy", "Nom": "Doe", "E-mail": "a@x.com", "Téléphone": "1"}]
    assert len(warnings) == 1 and "line 4" in warnings[0] and "Export CRM" in warnings[0]
    # neutral for the CLI, the API and the web page: the choice, not a flag's syntax
    assert warnings[0].endswith("If the header is on another line, choose the header row.")
    assert "--header-row" not in warnings[0] and "headerRow" not in warnings[0]


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_xlsx_header_below_a_title_block(tmp_path: Path, engine: str) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet["A1"] = "Quarterly leads"
    sheet.append([])
    sheet.append(["Email", "Name"])
    sheet.append(["a@x.com", "Amy"])
    book.save(tmp_path / "t.xlsx")
    records, warnings = read(tmp_path / "t.xlsx", calamine_max_bytes=ENGINES[engine])
    assert records == [{"Email": "a@x.com", "Name": "Amy"}]
    assert any("line 3" in w and "Quarterly leads" in w for w in warnings)
    records, _ = read(tmp_path / "t.xlsx", calamine_max_bytes=ENGINES[engine], header_row=1)
    assert records[0] == {"Quarterly leads": "Email", "column_2": "Name"}


# --- encodings ------------------------------------------------------------------------

TEXT = "First Name,Last Name,Email\nJosé,Núñez,jose.nunez@example.com\n"
RIGHT = [{"First Name": "José", "Last Name": "Núñez", "Email": "jose.nunez@example.com"}]


@pytest.mark.parametrize(
    ("codec", "bom"),
    [
        ("utf-8", codecs.BOM_UTF8),
        ("utf-16-le", codecs.BOM_UTF16_LE),
        ("utf-16-be", codecs.BOM_UTF16_BE),
        ("utf-16-le", b""),
        ("utf-16-be", b""),
        ("utf-32-le", codecs.BOM_UTF32_LE),
        ("utf-32-be", codecs.BOM_UTF32_BE),
        ("utf-32-le", b""),
    ],
)
def test_unicode_encodings_by_bom_or_nul_pattern(tmp_path: Path, codec: str, bom: bytes) -> None:
    records, warnings = read(write(tmp_path / "x.csv", bom + TEXT.encode(codec)))
    assert records == RIGHT
    assert warnings == []


def test_excel_unicode_text_case_has_no_nul_anywhere() -> None:
    records, _ = read(case("02-excel-unicode-text-utf16.txt"))
    assert len(records) == 2
    assert all("\x00" not in key + value for r in records for key, value in r.items())


def test_stray_nul_bytes_are_never_content(tmp_path: Path) -> None:
    records, _ = read(write(tmp_path / "x.csv", b"Name,Email\nA\x00my,a@x.com\x00\n"))
    assert records == [{"Name": "Amy", "Email": "a@x.com"}]


def test_windows_1252_is_read_with_a_warning(tmp_path: Path) -> None:
    records, warnings = read(write(tmp_path / "x.csv", TEXT.encode("cp1252")))
    assert records == RIGHT
    assert len(warnings) == 1 and "Windows-1252" in warnings[0]


def test_a_detected_legacy_encoding_is_named_in_the_warning(tmp_path: Path) -> None:
    text = "Имя,Фамилия,Email\n" + "Иван,Петров,ivan@example.ru\n" * 20
    records, warnings = read(write(tmp_path / "x.csv", text.encode("cp1251")))
    assert records[0] == {"Имя": "Иван", "Фамилия": "Петров", "Email": "ivan@example.ru"}
    assert len(warnings) == 1 and "detected" in warnings[0]


@pytest.mark.parametrize("bom", [codecs.BOM_UTF8, b""])
def test_ndjson_with_a_bom(tmp_path: Path, bom: bytes) -> None:
    data = bom + b'{"orderId": "4", "qty": "2"}\n{"orderId": "5", "qty": 1}\n'
    records, _ = read(write(tmp_path / "orders.ndjson", data))
    assert records == [{"orderId": "4", "qty": "2"}, {"orderId": "5", "qty": 1}]


@pytest.mark.parametrize("codec", ["utf-16", "utf-32", "utf-8-sig"])
def test_json_in_any_unicode_encoding(tmp_path: Path, codec: str) -> None:
    data = json.dumps([{"name": "José", "email": "j@x.com"}], ensure_ascii=False).encode(codec)
    records, _ = read(write(tmp_path / "x.json", data))
    assert records == [{"name": "José", "email": "j@x.com"}]


# --- files that are not records -------------------------------------------------------


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("a.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "PNG"),
        ("a.csv", gzip.compress(b"Email\na@x.com\n"), "gzip"),
        ("a.csv", bytes((i * 131 + 7) % 256 for i in range(8192)), "not a text file"),
        ("a.xlsx", _zip({"word/document.xml": b"<w/>"}), "not an XLSX"),
        ("a.xlsx", b"PK\x03\x04" + b"\x00" * 100, "XLSX"),
        ("a.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, ".xls"),
    ],
)
def test_a_file_that_is_not_records_is_unreadable(
    tmp_path: Path, name: str, data: bytes, says: str
) -> None:
    with pytest.raises(UnreadableFile) as caught:
        read(write(tmp_path / name, data))
    assert says in str(caught.value) and name in str(caught.value)


# --- XLSX, with each engine -----------------------------------------------------------


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_xlsx_stored_dimension_a1_is_not_trusted(engine: str) -> None:
    records, _ = read(case("03-xlsx-dimension-a1.xlsx"), calamine_max_bytes=ENGINES[engine])
    assert [r["Email"] for r in records] == ["jane.roe@example.com", "sam.poe@example.com"]


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_xlsx_values_become_text(tmp_path: Path, engine: str) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Email", "Date", "When", "At", "Phone", "Big", "Score", "Ok"])
    sheet.append(
        [
            "a@x.com",
            dt.date(2024, 3, 5),
            dt.datetime(2024, 3, 5, 10, 30, 15),
            dt.time(9, 5),
            4155550107.0,
            442071838750,
            2.5,
            True,
        ]
    )
    book.save(tmp_path / "v.xlsx")
    (record,), _ = read(tmp_path / "v.xlsx", calamine_max_bytes=ENGINES[engine])
    assert record == {
        "Email": "a@x.com",
        "Date": "2024-03-05",
        "When": "2024-03-05T10:30:15",
        "At": "09:05:00",
        "Phone": "4155550107",
        "Big": "442071838750",
        "Score": "2.5",
        "Ok": "TRUE",
    }


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_xlsx_sheet_choice(tmp_path: Path, engine: str) -> None:
    book = openpyxl.Workbook()
    cover = book.active
    assert cover is not None
    cover.title = "Cover"
    cover.append(["Report"])
    data = book.create_sheet("Data")
    data.append(["Email"])
    data.append(["a@x.com"])
    book.save(tmp_path / "s.xlsx")
    limit = ENGINES[engine]
    assert read(tmp_path / "s.xlsx", calamine_max_bytes=limit)[0] == [{"Email": "a@x.com"}]
    assert read(tmp_path / "s.xlsx", calamine_max_bytes=limit, sheet="cover")[0] == []
    assert read(tmp_path / "s.xlsx", calamine_max_bytes=limit, sheet="2")[0] == [
        {"Email": "a@x.com"}
    ]
    with pytest.raises(UnreadableFile, match="'Cover'"):
        read(tmp_path / "s.xlsx", calamine_max_bytes=limit, sheet="9")


# --- input limits ---------------------------------------------------------------------

SMALL = InputLimits(max_depth=4, max_field_chars=100, max_columns=10, max_line_bytes=1024)


def test_csv_row_over_each_limit_is_rejected_alone(tmp_path: Path) -> None:
    lines = [
        "Name,Email",
        "A" * 200 + ",long@x.com",  # a field over 100 characters
        ",".join(["x"] * 12),  # 12 columns
        "B" * 5000,  # a line over 1,024 characters
        "Sam,sam@x.com",
    ]
    path = write(tmp_path / "x.csv", ("\n".join(lines) + "\n").encode())
    records, _ = read(path, limits=SMALL)
    reasons = [r.error for r in records if isinstance(r, InvalidLine)]
    assert len(reasons) == 3
    assert "LEADFLOW_MAX_FIELD_CHARS" in reasons[0]
    assert "LEADFLOW_MAX_COLUMNS" in reasons[1]
    assert "LEADFLOW_MAX_LINE_BYTES" in reasons[2]
    assert records[-1] == {"Name": "Sam", "Email": "sam@x.com"}
    assert all(len(r.text) < 1100 for r in records if isinstance(r, InvalidLine))


def test_json_record_over_each_limit_is_rejected_alone(tmp_path: Path) -> None:
    records_in = [
        {"a": [[[[["too deep"]]]]]},
        {f"k{i}": i for i in range(20)},
        {"name": "C" * 500},
        {"name": "ok"},
    ]
    path = write(tmp_path / "x.json", json.dumps(records_in).encode())
    records, _ = read(path, limits=SMALL)
    reasons = [r.error for r in records[:3] if isinstance(r, InvalidLine)]
    assert len(reasons) == 3
    assert "LEADFLOW_MAX_NESTING_DEPTH" in reasons[0]
    assert "LEADFLOW_MAX_COLUMNS" in reasons[1]
    assert "LEADFLOW_MAX_FIELD_CHARS" in reasons[2]
    assert records[3] == {"name": "ok"}


def test_ndjson_line_over_the_limit_is_skipped_not_held(tmp_path: Path) -> None:
    big = json.dumps({"name": "x" * 5000})
    data = f'{{"name": "a"}}\n{big}\n{{"name": "[[[[[[["}}\n[[[[[[[[]]]]]]]]\n{{"name": "b"}}\n'
    records, _ = read(write(tmp_path / "x.ndjson", data.encode()), limits=SMALL)
    assert records[0] == {"name": "a"}
    assert isinstance(records[1], InvalidLine) and "LEADFLOW_MAX_LINE_BYTES" in records[1].error
    assert records[2] == {"name": "[[[[[[["}
    assert isinstance(records[3], InvalidLine) and "NESTING" in records[3].error
    assert records[4] == {"name": "b"}


def test_ndjson_in_utf16_is_read_line_by_line(tmp_path: Path) -> None:
    lines = "".join(json.dumps({"name": f"n{i}", "city": "Zürich"}) + "\n" for i in range(300))
    records, _ = read(write(tmp_path / "x.ndjson", lines.encode("utf-16")))
    assert len(records) == 300
    assert records[299] == {"name": "n299", "city": "Zürich"}
