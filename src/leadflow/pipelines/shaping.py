"""Raw records -> lead fields + attributes -> LeadDrafts or Rejections, a batch at a time.

Pure functions: they run in the importing process or in a pool of worker processes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..domain.headers import NAME_PART_FIELDS, map_headers
from ..domain.lead import (
    LEAD_TEXT_FIELDS,
    FieldError,
    LeadDraft,
    Rejection,
    build_lead,
    lead_from_texts,
    parse_flag,
    parse_interests,
)
from ..domain.names import join_name
from ..domain.optin_schema import validate_optin_record
from ..readers.base import Batch
from ..readers.json_reader import InvalidLine

# A record layout's mapping: (header, field) pairs; (header, attribute name) pairs.
Plan = tuple[list[tuple[str, str]], list[tuple[str, str]]]
_PARTS = frozenset(NAME_PART_FIELDS)


class RecordShaper:
    """Splits records into known lead fields and `attributes`.

    Each distinct set of keys (a spreadsheet's header row, or a JSON record's keys) is
    mapped once, on its own: the first key that maps to a field takes it, and a later key
    of the same record that maps to the same field stays an attribute. Columns mapped to
    a name part (salutation, nameSuffix) are attributes under that name.
    """

    _MAX_PLANS = 1024  # JSON records with ever-new key sets must not grow this forever

    def __init__(self, explicit: Mapping[str, str] | None = None) -> None:
        self.explicit = dict(explicit or {})
        self._plans: dict[tuple[str, ...], Plan] = {}

    def plan(self, headers: Sequence[str]) -> Plan:
        """For records that have exactly these keys: (header, field) pairs, and
        (header, attribute name) pairs for the rest."""
        key = tuple(headers)
        cached = self._plans.get(key)
        if cached is None:
            mapped = map_headers(key, self.explicit)
            pairs = [(h, f) for h, f in mapped.items() if f is not None and f not in _PARTS]
            rest = [(h, f or h) for h, f in mapped.items() if f is None or f in _PARTS]
            if len(self._plans) >= self._MAX_PLANS:
                self._plans.clear()
            cached = self._plans[key] = (pairs, rest)
        return cached

    def text_plan(
        self, headers: Sequence[str]
    ) -> tuple[list[str | None], str | None, str | None, list[tuple[str, str]]]:
        """For text-only records with these keys: the header of each LEAD_TEXT_FIELDS
        entry (None when absent), of optIn, of interests, and the attribute pairs."""
        pairs, rest = self.plan(headers)
        header_of = {field: header for header, field in pairs}
        texts = [header_of.get(field) for field in LEAD_TEXT_FIELDS]
        return texts, header_of.get("optIn"), header_of.get("interests"), rest

    def map_batch(
        self, batch: Batch, headers: Sequence[str] | None
    ) -> list[tuple[int, Any, dict[str, Any], dict[str, Any]]]:
        """(index, record, fields, attributes) for each record of a batch ({} for non-dicts).

        Spreadsheet records share their file's headers: their plan is looked up once.
        """
        out: list[tuple[int, Any, dict[str, Any], dict[str, Any]]] = []
        width = len(headers) if headers is not None else -1
        shared = self.plan(headers) if headers is not None else None
        for index, record in batch:
            if not isinstance(record, dict):
                out.append((index, record, {}, {}))
                continue
            plan = shared if shared is not None and len(record) == width else None
            out.append((index, record, *self._apply(plan or self.plan(tuple(record)), record)))
        return out

    def shape(self, record: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """(fields, attributes) of one record; empty attribute values are dropped."""
        return self._apply(self.plan(tuple(record)), record)

    @staticmethod
    def _apply(plan: Plan, record: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        pairs, rest = plan
        fields = {f: record[h] for h, f in pairs}
        attributes = {a: v for h, a in rest if (v := record[h]) is not None and v != ""}
        return fields, attributes


def _not_a_record(index: int, record: Any) -> Rejection:
    if isinstance(record, InvalidLine):
        return Rejection(index, record.text, [FieldError("record", record.error)])
    return Rejection(index, record, [FieldError("record", "must be an object with fields")])


def shape_leads(
    batch: Batch,
    shaper: RecordShaper,
    region: str,
    headers: Sequence[str] | None = None,
    text_only: bool = False,
) -> tuple[list[LeadDraft], list[Rejection]]:
    """The leads pipeline's validation and normalization for one batch.

    `text_only` says every value is a string (CSV): records with exactly the file's
    headers then skip the generic field mapping, the hot path of large imports.
    """
    drafts: list[LeadDraft] = []
    rejections: list[Rejection] = []
    if text_only and headers is not None:
        batch = _shape_text_records(batch, shaper, region, headers, drafts, rejections)
    for index, record, fields, attributes in shaper.map_batch(batch, headers):
        if not isinstance(record, dict):
            rejections.append(_not_a_record(index, record))
            continue
        _keep(build_lead(index, fields, attributes, record, region), drafts, rejections)
    return drafts, rejections


def _shape_text_records(
    batch: Batch,
    shaper: RecordShaper,
    region: str,
    headers: Sequence[str],
    drafts: list[LeadDraft],
    rejections: list[Rejection],
) -> Batch:
    """Shape the records that have exactly `headers`; return the others (ragged rows)."""
    text_headers, opt_in_header, interests_header, rest = shaper.text_plan(headers)
    present = frozenset(
        [f for f, h in zip(LEAD_TEXT_FIELDS, text_headers, strict=True) if h is not None]
        + ["optIn"] * (opt_in_header is not None)
        + ["interests"] * (interests_header is not None)
    )
    width = len(headers)
    others: Batch = []
    for index, record in batch:
        if not isinstance(record, dict) or len(record) != width:  # ragged, or over a limit
            others.append((index, record))
            continue
        texts = [record[h].strip() if h is not None else "" for h in text_headers]
        result = lead_from_texts(
            index,
            texts,
            record[opt_in_header] if opt_in_header is not None else None,
            record[interests_header] if interests_header is not None else None,
            {a: v for h, a in rest if (v := record[h])},
            record,
            region,
            None,
            present,
        )
        _keep(result, drafts, rejections)
    return others


def _keep(
    result: LeadDraft | Rejection, drafts: list[LeadDraft], rejections: list[Rejection]
) -> None:
    if isinstance(result, LeadDraft):
        drafts.append(result)
    else:
        rejections.append(result)


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
            _keep(validate_optin_record(index, record), drafts, rejections)
        return drafts, rejections
    for index, record, fields, attributes in shaper.map_batch(batch, headers):
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
        if isinstance(result, Rejection):
            result.record = record  # the row as received, not as mapped
        _keep(result, drafts, rejections)
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
