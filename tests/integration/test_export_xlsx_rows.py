"""The XLSX export's row writer (TextRowSheet.write_text_row) writes, byte for byte, the
sheet XML that XlsxWriter's own write_string gives for the same cells: escapes, control
characters, whitespace, Excel's cell limit, blank cells. If a new XlsxWriter changes its
cell XML, this fails instead of the export drifting from it."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence

import pytest
import xlsxwriter
from hypothesis import given
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from leadflow.api.routes.export import TextRowSheet

TRICKY = [
    ["plain", "Müller", "", "VIP ★", "emoji 😀", "a&b", "<tag>", "x > y", 'say "hi"'],
    [" leading", "trailing ", "\tx", "x\n", "new\nline", "cr\rhere", "\rx", "x\r", "\u2003em"],
    ["_x0041_", "a_x00e9_b", "_X0041_", "_x004_", "snake_case", "__init__", "_", "_x", "mail_x"],
    ["nul\x00", "\x01\x02", "bell\x07", "\x1f", "\ufffe", "\uffff", "\x0b\x0c", "tab\tok", "'=1"],
    ["", "", "", "", "only fifth", "", "", "", ""],
    ["x" * 40_000, "😀" * 20_000, "é" * 16_384, "a" * 32_767 + "😀", "", "", "", "", ""],
]


def sheet_xml(rows: Sequence[Sequence[str]], fast: bool) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"constant_memory": True, "in_memory": False})
    sheet = book.add_worksheet("leads", worksheet_class=TextRowSheet)
    sheet.write_string(0, 0, "header")  # a row written cell by cell, then text rows
    sheet.write_string(0, 2, "third")
    for r, row in enumerate(rows, start=1):
        if fast:
            sheet.write_text_row(r, row)
        else:
            for col, text in enumerate(row):
                if text:
                    sheet.write_string(r, col, text)
    book.close()
    with zipfile.ZipFile(out) as archive:
        return archive.read("xl/worksheets/sheet1.xml")


def test_text_rows_are_what_write_string_writes() -> None:
    assert sheet_xml(TRICKY, fast=True) == sheet_xml(TRICKY, fast=False)


@given(st.lists(st.lists(st.text(max_size=12), min_size=1, max_size=6), max_size=6))
def test_any_text_rows_are_what_write_string_writes(rows: list[list[str]]) -> None:
    assert sheet_xml(rows, fast=True) == sheet_xml(rows, fast=False)


def test_text_rows_read_back_as_written() -> None:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"constant_memory": True})
    sheet = book.add_worksheet("s", worksheet_class=TextRowSheet)
    written = ["a&b", " x ", "_x0041_", "=1+1", "", "cr\rx", "<b>", "http://x"]
    sheet.write_text_row(0, written)
    book.close()
    # calamine (as Excel) reads "_x005F_x0041_" back as "_x0041_"; openpyxl does not
    book_read = CalamineWorkbook.from_filelike(io.BytesIO(out.getvalue()))
    assert book_read.get_sheet_by_index(0).to_python() == [written]


def test_a_row_is_written_once_inside_the_sheet() -> None:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"constant_memory": True})
    sheet = book.add_worksheet("s", worksheet_class=TextRowSheet)
    sheet.write_text_row(3, ["a"])
    with pytest.raises(ValueError, match="row 4 is outside the sheet or already written"):
        sheet.write_text_row(3, ["b"])
    with pytest.raises(ValueError, match="row 3 is outside"):
        sheet.write_text_row(2, ["b"])
    with pytest.raises(ValueError, match="outside the sheet"):
        sheet.write_text_row(1_048_576, ["b"])
    assert sheet.write_string(3, 1, "late") == -1  # refused, as for a row already flushed
    book.close()
    with zipfile.ZipFile(out) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert xml.count('<row r="4">') == 1
    assert "late" not in xml


def test_it_needs_constant_memory() -> None:
    book = xlsxwriter.Workbook(io.BytesIO())
    sheet = book.add_worksheet("s", worksheet_class=TextRowSheet)
    with pytest.raises(ValueError, match="constant_memory"):
        sheet.write_text_row(0, ["a"])
    book.close()
