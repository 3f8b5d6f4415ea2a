import pytest

from leadflow.domain.spreadsheet_safety import neutralize, strip_control_characters


@pytest.mark.parametrize(
    ("cell", "exported"),
    [
        ("=1+1", "'=1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),  # not a number: a spreadsheet would show 1
        ("+2-3", "'+2-3"),
        ("-1,234.5", "-1,234.5"),
        ("+5", "+5"),
        ("+14155550107 x101", "+14155550107 x101"),
        ("+1 415 555 0134;ext=12", "+1 415 555 0134;ext=12"),
        ("+1-2", "'+1-2"),  # too few digits for a phone
        ("--1", "'--1"),
        ("-", "'-"),
        ("+", "'+"),
        ("-1e5+1", "'-1e5+1"),
        ("+44 20 7946 0958", "+44 20 7946 0958"),
        ("+1 (415) 555-0134", "+1 (415) 555-0134"),
        ("-1e5", "-1e5"),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("=1", "'=1"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("+14155550134", "+14155550134"),
        ("-12.5", "-12.5"),
        ("-3", "-3"),
        ("plain", "plain"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_formulas_are_defused_numbers_are_kept(cell: str, exported: str) -> None:
    assert neutralize(cell) == exported


@pytest.mark.parametrize(
    ("text", "cleaned", "removed"),
    [
        ("Acme\x13 Corp", "Acme Corp", 1),
        ("\x00a\x00b\x00", "ab", 3),
        ("tab\tnew\nline\rcr", "tab\tnew\nline\rcr", 0),
        ("M\u00fcller \u2603", "M\u00fcller \u2603", 0),
        ("\ufffe\x1f", "", 2),
    ],
)
def test_control_characters_are_removed_and_counted(text: str, cleaned: str, removed: int) -> None:
    assert strip_control_characters(text) == (cleaned, removed)
