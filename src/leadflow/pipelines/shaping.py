"""Raw records -> lead fields + attributes -> LeadDrafts or Rejections, a batch at a time.

Pure functions: they run in the importing process or in a pool of worker processes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..domain.headers import map_headers
from ..domain.lead import FieldError, LeadDraft, Rejection, build_lead, parse_flag, parse_interests
from ..domain.names import join_name
from ..domain.optin_schema import validate_optin_record
from ..readers.base import Batch
from ..readers.json_reader import InvalidLine


class RecordShaper:
    """Splits a record into known lead fields and `attributes`, caching header lookups."""

    def __init__(self, explicit: Mapping[str, str] | None = None) -> None:
        self.explicit = dict(explicit or {})
        self._fields: dict[str, str | None] = {}
        self._plans: dict[tuple[str, ...], tuple[list[tuple[str, str]], list[str]]] = {}

    def _learn(self, record: Mapping[str, Any]) -> None:
        new = [k for k in record if k not in self._fields]
        taken = {f for f in self._fields.values() if f is not None}
        self._fields.update(map_headers(new, self.explicit, taken))

    def plan(self, headers: Sequence[str]) -> tuple[list[tuple[str, str]], list[str]]:
        """For records that have exactly these keys: (header, field) pairs, attribute keys."""
        cached = self._plans.get(tuple(headers))
        if cached is None:
            self._learn(dict.fromkeys(headers))
            pairs = [(h, f) for h in headers if (f := self._fields[h]) is not None]
            rest = [h for h in headers if self._fields[h] is None]
            cached = self._plans[tuple(headers)] = (pairs, rest)
        return cached

    def shape_batch(
        self, batch: Batch, headers: Sequence[str] | None
    ) -> list[tuple[int, Any, dict[str, Any], dict[str, Any]]]:
        """(index, record, fields, attributes) for each dict record of a batch.

        Spreadsheet records share their file's headers, so a precomputed plan maps them
        with two comprehensions instead of a lookup per cell.
        """
        out: list[tuple[int, Any, dict[str, Any], dict[str, Any]]] = []
        width = -1
        if headers is not None:
            pairs, rest = self.plan(headers)
            width = len(headers)
        for index, record in batch:
            if not isinstance(record, dict):
                out.append((index, record, {}, {}))
            elif len(record) == width:
                fields = {f: record[h] for h, f in pairs}
                attributes = {h: v for h in rest if (v := record[h]) is not None and v != ""}
                out.append((index, record, fields, attributes))
            else:
                out.append((index, record, *self.shape(record)))
        return out

    def shape(self, record: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        fields_of = self._fields
        if any(k not in fields_of for k in record):
            self._learn(record)
        fields: dict[str, Any] = {}
        attributes: dict[str, Any] = {}
        for key, value in record.items():
            field = fields_of[key]
            if field is not None:
                fields[field] = value
            elif value is not None and value != "":
                attributes[key] = value
        return fields, attributes


def _not_a_record(index: int, record: Any) -> Rejection:
    if isinstance(record, InvalidLine):
        return Rejection(index, record.text, [FieldError("record", record.error)])
    return Rejection(index, record, [FieldError("record", "must be an object with fields")])


def shape_leads(
    batch: Batch, shaper: RecordShaper, region: str, headers: Sequence[str] | None = None
) -> tuple[list[LeadDraft], list[Rejection]]:
    """The leads pipeline's validation and normalization for one batch."""
    drafts: list[LeadDraft] = []
    rejections: list[Rejection] = []
    for index, record, fields, attributes in shaper.shape_batch(batch, headers):
        if not isinstance(record, dict):
            rejections.append(_not_a_record(index, record))
            continue
        result = build_lead(index, fields, attributes, record, region)
        if isinstance(result, LeadDraft):
            drafts.append(result)
        else:
            rejections.append(result)
    return drafts, rejections


def shape_optin(
    batch: Batch,
    shaper: RecordShaper,
    from_spreadsheet: bool,
    headers: Sequence[str] | None = None,
) -> tuple[list[LeadDraft], list[Rejection]]:
    """Seed 000's schema; spreadsheet cells map booleans and lists explicitly first.

    JSON records are checked as they are, with the seed's field names and strict types.
    """
    drafts: list[LeadDraft] = []
    rejections: list[Rejection] = []
    if not from_spreadsheet:
        for index, record in batch:
            if isinstance(record, InvalidLine):
                rejections.append(_not_a_record(index, record))
                continue
            result = validate_optin_record(index, record)
            (drafts if isinstance(result, LeadDraft) else rejections).append(result)  # type: ignore[arg-type]
        return drafts, rejections
    for index, record, fields, attributes in shaper.shape_batch(batch, headers):
        if not isinstance(record, dict):
            rejections.append(_not_a_record(index, record))
            continue
        candidate: dict[str, Any] = {k: v for k, v in fields.items() if k not in _NAME_PARTS}
        if "name" not in candidate and ("firstName" in fields or "lastName" in fields):
            candidate["name"] = join_name(
                str(fields.get("firstName") or ""), str(fields.get("lastName") or "")
            )
        candidate = spreadsheet_optin_values(candidate)
        candidate.update(attributes)
        result = validate_optin_record(index, candidate)
        if isinstance(result, LeadDraft):
            drafts.append(result)
        else:
            result.record = record
            rejections.append(result)
    return drafts, rejections


_NAME_PARTS = ("firstName", "lastName")


def spreadsheet_optin_values(record: dict[str, Any]) -> dict[str, Any]:
    """true/false/yes/no/1/0 -> bool and 'a; b' -> ['a', 'b']; bad cells stay for the check."""
    out = dict(record)
    if "optIn" in out:
        try:
            out["optIn"] = parse_flag(out["optIn"])
        except (ValueError, TypeError):
            pass
    if "interests" in out and isinstance(out["interests"], str):
        out["interests"] = parse_interests(out["interests"])
    if out.get("name") is None:
        out.pop("name", None)
    return out
