"""Explicit column mappings (`--map 'Column=field'`, `?map=`), checked before they are used.

A mapping that cannot mean what its author thinks is an error, never a silent no-op:
its target must be a canonical lead field name (`firstName`, not the alias `fname`),
and its column must be one the file has (checked once the header row is read).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from ..domain.headers import MAPPABLE_FIELDS, header_key

FIELDS = MAPPABLE_FIELDS  # the canonical targets (lead fields and name parts), in this order
_MAX_LISTED = 30  # columns named in an error message, at most


class InvalidMapping(ValueError):
    """A column mapping that names an unknown field, or a column the file does not have."""


def parse_column_mapping(specs: Iterable[str]) -> dict[str, str]:
    """['E-mail=email', 'Org=company'] -> {'E-mail': 'email', 'Org': 'company'}.

    Each spec may hold several comma-separated pairs. InvalidMapping for a pair that is
    not 'Column=field' or whose field is not a canonical lead field name.
    """
    mapping: dict[str, str] = {}
    for spec in specs:
        for part in spec.split(","):
            if not part.strip():
                continue
            source, sep, target = part.partition("=")
            column, field = source.strip(), target.strip()
            if not sep or not column or not field:
                raise InvalidMapping(f"mapping {part.strip()!r} must look like 'Column=field'")
            if field not in FIELDS:
                raise InvalidMapping(
                    f"mapping {part.strip()!r}: {field!r} is not a lead field; "
                    f"the fields are {', '.join(FIELDS)}"
                )
            mapping[column] = field
    return mapping


def check_mapped_columns(mapping: Mapping[str, str], headers: Sequence[str]) -> None:
    """InvalidMapping, naming the file's columns, when a mapped column is not among
    `headers` (compared as header mapping does: case, spaces and punctuation aside)."""
    have = {header_key(h) for h in headers}
    missing = [column for column in mapping if header_key(column) not in have]
    if not missing:
        return
    shown = ", ".join(repr(h) for h in headers[:_MAX_LISTED])
    more = f" and {len(headers) - _MAX_LISTED} more" if len(headers) > _MAX_LISTED else ""
    names = ", ".join(repr(c) for c in missing)
    raise InvalidMapping(
        f"the mapping names {names}, which the file does not have; its columns are "
        f"{shown or 'none'}{more}"
    )
