"""Input limits every entry point enforces: nesting depth, characters per field, columns
per row, characters per line.

A record over a limit is rejected with its reason (it reaches the error file or the
schema-error log); it never becomes a lead, and reading it never holds more than about
one limit's worth of memory beyond the record itself. The numbers come from Settings
(LEADFLOW_MAX_NESTING_DEPTH, LEADFLOW_MAX_FIELD_CHARS, LEADFLOW_MAX_COLUMNS,
LEADFLOW_MAX_LINE_BYTES); the defaults are far above what real CRM data needs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

PREVIEW_CHARS = 1_000  # how much of a rejected oversized row the error file keeps


@dataclass(frozen=True, slots=True)
class InputLimits:
    max_depth: int = 32  # lists/objects inside one record
    max_field_chars: int = 100_000  # characters in one cell or JSON string
    max_columns: int = 2_000  # cells in one row, keys in one record
    max_line_bytes: int = 4 * 1024 * 1024  # one line of CSV or NDJSON text


def row_limit_reason(cells: Iterable[str], limits: InputLimits) -> str | None:
    """Why a spreadsheet row (its cells as text) is over a limit, or None."""
    count = 0
    for count, cell in enumerate(cells, start=1):  # noqa: B007 - count is used below
        if len(cell) > limits.max_field_chars:
            return field_too_long(count, len(cell), limits)
    if count > limits.max_columns:
        return columns_over(count, limits)
    return None


def record_limit_reason(record: Any, limits: InputLimits) -> str | None:
    """Why a JSON-like record is over a limit (depth, keys, string length), or None.

    Walks the value without recursion, so an absurdly deep value costs no stack.
    """
    stack: list[tuple[Any, int]] = [(record, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if len(item) > limits.max_field_chars:
                return value_too_long(len(item), limits)
            continue
        if isinstance(item, dict):
            if len(item) > limits.max_columns:
                return columns_over(len(item), limits)
            children: list[Any] = [*item.keys(), *item.values()]
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth >= limits.max_depth:
            return nesting_over(limits)
        stack.extend((child, depth + 1) for child in children)
    return None


def field_too_long(column: int, chars: int, limits: InputLimits) -> str:
    return f"column {column} has {chars:,} characters; {_field_rule(limits)}"


def value_too_long(chars: int, limits: InputLimits) -> str:
    return f"a value has {chars:,} characters; {_field_rule(limits)}"


def columns_over(count: int, limits: InputLimits) -> str:
    return (
        f"the row has {count:,} columns; at most {limits.max_columns:,} are read "
        "(LEADFLOW_MAX_COLUMNS)"
    )


def nesting_over(limits: InputLimits) -> str:
    return (
        f"the record is nested more than {limits.max_depth} levels deep "
        "(LEADFLOW_MAX_NESTING_DEPTH)"
    )


def line_too_long(chars: int, limits: InputLimits) -> str:
    return (
        f"the line has more than {limits.max_line_bytes:,} characters"
        f"{f' ({chars:,})' if chars else ''}; lines are read up to LEADFLOW_MAX_LINE_BYTES"
    )


def preview(text: str) -> str:
    """The start of an oversized row's text, for the error file."""
    if len(text) <= PREVIEW_CHARS:
        return text
    return text[:PREVIEW_CHARS] + f"… ({len(text):,} characters in all)"


def _field_rule(limits: InputLimits) -> str:
    return f"at most {limits.max_field_chars:,} are read (LEADFLOW_MAX_FIELD_CHARS)"
