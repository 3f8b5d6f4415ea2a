"""Exported cells that a spreadsheet would run as formulas are neutralized.

A cell starting with = + - @ (or tab or CR) is a formula to Excel and LibreOffice (CSV
injection). Such cells get a leading apostrophe, except two shapes that cannot call a
function and that an apostrophe would spoil:
- a number: "-12.5", "+5", "-1,234.5", "-1e5" (one sign, then digits only);
- a phone number: "+" then at least 7 digits with spaces, dots, hyphens or parentheses
  between them, and an optional extension ("+14155550134", "+44 20 7946 0958",
  "+1 (415) 555-0134 x101").
Anything else that starts with a trigger is defused, arithmetic included: "-2+3" is not
a number, and a spreadsheet would show 1 instead of what was stored.

Exported text also loses the control characters (U+0000-U+001F but tab, LF and CR) that
XML 1.0, and so XLSX, cannot hold; `strip_control_characters` says how many it removed.
"""

from __future__ import annotations

import re

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_PHONE = re.compile(
    r"\+\(?\d[\d .()-]*\d\)?(?:\s*(?:x|ext\.?|extension|#|;ext=)\s*\d{1,10})?", re.IGNORECASE
)
_EXTENSION = re.compile(r"\s*(?:x|ext|extension|#|;ext=)", re.IGNORECASE)
_MIN_PHONE_DIGITS = 7
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _is_phone(value: str) -> bool:
    if _PHONE.fullmatch(value) is None:
        return False
    main: str = _EXTENSION.split(value, maxsplit=1)[0]
    return sum(ch.isdigit() for ch in main) >= _MIN_PHONE_DIGITS


def neutralize(value: str) -> str:
    """The cell text to export: formulas defused, numbers, phones and plain text unchanged."""
    if value.startswith(_TRIGGERS) and not (_NUMBER.fullmatch(value) or _is_phone(value)):
        return "'" + value
    return value


def strip_control_characters(value: str) -> tuple[str, int]:
    """`value` without the characters XML 1.0 cannot hold, and how many were removed.

    Tab, LF and CR stay (they are valid XML and real cell content).
    """
    cleaned, removed = _CONTROL.subn("", value)
    return cleaned, removed
