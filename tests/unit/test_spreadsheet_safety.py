import pytest

from leadflow.domain.spreadsheet_safety import neutralize


@pytest.mark.parametrize(
    ("cell", "exported"),
    [
        ("=1+1", "'=1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
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
