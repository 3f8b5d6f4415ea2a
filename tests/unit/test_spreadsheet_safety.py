import pytest

from leadflow.domain.spreadsheet_safety import neutralize


@pytest.mark.parametrize(
    ("cell", "exported"),
    [
        ("=1+1", "'=1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "-2+3"),  # arithmetic only: no function can be called
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
