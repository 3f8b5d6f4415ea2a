"""Exported cells that a spreadsheet would run as formulas are neutralized.

A cell starting with = + - @ (or tab or CR) is a formula to Excel and LibreOffice (CSV
injection). Such cells get a leading apostrophe, except numbers and phone numbers
("+14155550134", "+44 20 7946 0958", "-12.5"): made of digits, spaces and . , ( ) / + -
only, they cannot call a function, and an apostrophe would spoil them. A stored phone's
extension ("+14155550109;ext=101", domain.phones) is part of the number.
"""

from __future__ import annotations

import re

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\(?\d[\d .,()/+-]*(?:[eE][+-]?\d+)?(?:;ext=\d{1,7})?")


def neutralize(value: str) -> str:
    """The cell text to export: formulas defused, numbers and plain text unchanged."""
    if value.startswith(_TRIGGERS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value
