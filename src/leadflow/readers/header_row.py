"""Find the header row: the row among the first few whose cells best name lead fields.

Exports do not always start with their header: Excel writes a `sep=;` hint line, and
LinkedIn's Connections export opens with a `Notes:` block and a blank line. A row is
scored by how many distinct lead fields its cells name (`resolve_field`); the best row
wins, the earliest on a tie. A later row beats the first non-blank row only when it names
at least two fields, or one and is wider than every row above it (a preamble of notes is
narrow): one data cell that happens to read "Mobile" does not move the header.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..domain.headers import resolve_field

SCAN_ROWS = 20  # rows looked at for the header
_NAMED = 3  # skipped rows quoted in the warning
_QUOTE = 60  # characters quoted of each


def header_score(cells: Sequence[Any]) -> int:
    """How many distinct lead fields the row's cells name."""
    fields = set()
    for cell in cells:
        if cell is None:
            continue
        text = str(cell).strip()
        if text and len(text) <= 100 and (field := resolve_field(text)) is not None:
            fields.add(field)
    return len(fields)


def is_blank(cells: Sequence[Any]) -> bool:
    return not any(cell is not None and str(cell).strip() for cell in cells)


def _filled(cells: Sequence[Any]) -> int:
    return sum(1 for cell in cells if cell is not None and str(cell).strip())


def find_header(rows: Sequence[Sequence[Any]]) -> int | None:
    """Index (into `rows`) of the header among the first SCAN_ROWS rows; None if all blank."""
    first: int | None = None
    best, best_score = None, 0
    for index, cells in enumerate(rows[:SCAN_ROWS]):
        if is_blank(cells):
            continue
        if first is None:
            first = index
        score = header_score(cells)
        if score > best_score:
            best, best_score = index, score
    if best is None or best == first or best_score >= 2:
        return first if best is None else best
    widest_above = max(_filled(cells) for cells in rows[:best])
    return best if _filled(rows[best]) > widest_above else first


def skipped_warning(name: str, skipped: Sequence[tuple[int, str]], header_line: int) -> str:
    """The warning naming the non-blank rows read above the header (line, text) pairs."""
    quoted = "; ".join(
        f"{line}: {text[:_QUOTE] + ('…' if len(text) > _QUOTE else '')!r}"
        for line, text in skipped[:_NAMED]
    )
    more = f" and {len(skipped) - _NAMED} more" if len(skipped) > _NAMED else ""
    rows = "row" if len(skipped) == 1 else "rows"
    return (
        f"{name}: the header is on line {header_line}; {len(skipped)} {rows} above it "
        f"{'was' if len(skipped) == 1 else 'were'} skipped ({quoted}{more}). "
        "If the header is on another line, choose the header row."
    )
