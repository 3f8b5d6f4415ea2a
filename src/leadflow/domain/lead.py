"""The Lead: candidate leads built from raw rows, and the rejection of rows that are not."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .emails import InvalidEmail, parse_email_cell
from .fields import LEAD_TEXT_FIELDS as LEAD_TEXT_FIELDS  # re-exported: callers import it here
from .headers import is_courtesy_title
from .names import parse_name
from .phones import normalize_phone

# SPEC: spreadsheet booleans are true/false, yes/no and 1/0, in any case; nothing else.
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})


@dataclass(slots=True)
class FieldError:
    """One failing field of a record, with a message a person can act on."""

    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


@dataclass(slots=True)
class Rejection:
    """A row that was not accepted: where it was, what it was, and every reason."""

    row: int
    record: Any
    errors: list[FieldError]

    @property
    def reason(self) -> str:
        return "; ".join(f"{e.field}: {e.message}" for e in self.errors)


# Every canonical lead field a record may have (the targets of a column mapping).
LEAD_FIELDS = frozenset((*LEAD_TEXT_FIELDS, "optIn", "interests"))


@dataclass(slots=True)
class LeadDraft:
    """A validated, normalized incoming lead, before it meets the store."""

    row: int
    email: str | None
    phone: str | None
    phone_valid: bool | None
    first_name: str
    last_name: str
    name: str
    title: str
    company: str
    remarks: str
    opt_in: bool | None = None
    interests: list[str] | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    # The lead fields (LEAD_FIELDS names) the record had, empty or not: a field it did
    # not have never replaces a stored value (a file without a Phone column keeps phones).
    present: frozenset[str] = LEAD_FIELDS
    # What the row made us decide that a person may want to check (several addresses in
    # the email cell ...); counted in the summary's rowWarnings.
    warnings: list[str] = field(default_factory=list)

    @property
    def key(self) -> str | None:
        """The duplicate key: the email, else the E.164 phone, else None (never merged)."""
        if self.email is not None:
            return self.email
        if self.phone_valid:
            return self.phone
        return None


def as_text(value: Any) -> str:
    """A cell or JSON scalar as text: 4155550134.0 -> '4155550134', None -> ''."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    raise TypeError(f"expected text, got {type(value).__name__}")


def parse_flag(value: Any) -> bool:
    """Spreadsheet booleans: true/false, yes/no, 1/0 (any case). Anything else is an error."""
    if isinstance(value, bool):
        return value
    text = as_text(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{text!r} is not one of true/false, yes/no, 1/0")


def parse_interests(value: Any) -> list[str]:
    """A list of strings, or a spreadsheet cell 'a; b, c' split into items."""
    if isinstance(value, list):
        if not all(isinstance(item, str) for item in value):
            raise ValueError("every interest must be a string")
        return [item.strip() for item in value if item.strip()]
    text = as_text(value)
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


def build_lead(
    row: int,
    fields: Mapping[str, Any],
    attributes: dict[str, Any],
    record: Any,
    region: str,
) -> LeadDraft | Rejection:
    """The leads pipeline for one record whose fields are named (any JSON or cell types)."""
    errors: list[FieldError] = []
    texts: list[str] = []
    for name in LEAD_TEXT_FIELDS:
        value = fields.get(name)
        if value.__class__ is str:
            texts.append(value.strip())
            continue
        try:
            texts.append(as_text(value))
        except TypeError as exc:
            errors.append(FieldError(name, str(exc)))
            texts.append("")
    return lead_from_texts(
        row,
        texts,
        fields.get("optIn"),
        fields.get("interests"),
        attributes,
        record,
        region,
        errors,
        LEAD_FIELDS.intersection(fields),
    )


def lead_from_texts(
    row: int,
    texts: Sequence[str],
    raw_opt_in: Any,
    raw_interests: Any,
    attributes: dict[str, Any],
    record: Any,
    region: str,
    errors: list[FieldError] | None = None,
    present: frozenset[str] = LEAD_FIELDS,
) -> LeadDraft | Rejection:
    """The leads-pipeline rule, over stripped texts in LEAD_TEXT_FIELDS order.

    A lead needs a name, a company, an email or a phone. A malformed email rejects the
    row; an unparseable phone is kept as given and flagged. An email cell with several
    addresses keeps the first valid one and the others in attributes.otherEmails (with a
    row warning). A full name's salutation and suffix go to attributes.salutation and
    attributes.nameSuffix, as does a courtesy title ('Dr.') found in the title column.
    `present` names the lead fields the record had (a missing one is '' in `texts` but
    replaces nothing).
    """
    full_name, first, last, raw_email, raw_phone, title, company, remarks = texts
    errors = errors if errors is not None else []
    warnings: list[str] = []
    email: str | None = None
    if raw_email:
        try:
            email, others = parse_email_cell(raw_email)
        except InvalidEmail as exc:
            errors.append(FieldError("email", f"{raw_email!r} is not a valid email: {exc}"))
        else:
            if others:
                attributes["otherEmails"] = list(others)
                warnings.append(
                    f"email: {len(others) + 1} addresses in one cell; kept {email}, "
                    "the others are in attributes.otherEmails"
                )
    phone = normalize_phone(raw_phone, region) if raw_phone else None
    if not first and not last and full_name:
        parsed = parse_name(full_name)
        first, last = parsed.first, parsed.last
        if parsed.salutation:
            attributes.setdefault("salutation", parsed.salutation)
        if parsed.suffix:
            attributes.setdefault("nameSuffix", parsed.suffix)
    if title and is_courtesy_title(title):
        attributes.setdefault("salutation", title)
        title = ""
    opt_in: bool | None = None
    interests: list[str] | None = None
    if raw_opt_in is not None and raw_opt_in != "":
        try:
            opt_in = parse_flag(raw_opt_in)
        except (ValueError, TypeError) as exc:
            errors.append(FieldError("optIn", str(exc)))
    if raw_interests is not None and raw_interests != "":
        try:
            interests = parse_interests(raw_interests)
        except (ValueError, TypeError) as exc:
            errors.append(FieldError("interests", str(exc)))
    if not errors and not (first or last or company or email or phone):
        errors.append(FieldError("row", "needs at least a name, a company, an email or a phone"))
    if errors:
        return Rejection(row, record, errors)
    return LeadDraft(
        row,
        email,
        phone.value if phone else None,
        phone.valid if phone else None,
        first,
        last,
        f"{first} {last}" if first and last else first or last,
        title,
        company,
        remarks,
        opt_in,
        interests,
        attributes,
        present,
        warnings,
    )
