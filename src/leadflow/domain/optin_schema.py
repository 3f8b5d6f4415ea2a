"""Seed 000's record schema, checked strictly and reporting every failing field.

    List of (min 1): name: string, email: string (valid address), optIn: boolean,
    interests: list(string) (min 1)

In JSON types are strict: "yes" is not a boolean and "5" is not a list.
"""

from __future__ import annotations

from typing import Any

from .emails import InvalidEmail, normalize_email
from .lead import FieldError, LeadDraft, Rejection
from .names import join_name, split_name

REQUIRED = ("name", "email", "optIn", "interests")
OPTIN_FIELDS = frozenset(REQUIRED)  # the lead fields a seed 000 record has


class NotAList(ValueError):
    """The body is not a non-empty list of records."""


def check_body(body: Any) -> list[Any]:
    """The request body must be a list with at least one item."""
    if not isinstance(body, list):
        raise NotAList(f"the body must be a JSON list of records, not {_kind(body)}")
    if not body:
        raise NotAList("the body must hold at least one record")
    return body


def validate_optin_record(index: int, record: Any) -> LeadDraft | Rejection:
    """One record -> a LeadDraft, or a Rejection naming every failing field."""
    if type(record) is dict:  # the common case, a valid record: checked in one pass
        name, raw_email = record.get("name"), record.get("email")
        opt_in, interests = record.get("optIn"), record.get("interests")
        if (
            type(name) is str
            and type(raw_email) is str
            and type(opt_in) is bool
            and type(interests) is list
            and interests
            and all(type(item) is str for item in interests)
            and name.strip()
        ):
            try:
                email = normalize_email(raw_email)
            except InvalidEmail:
                email = None
            if email is not None:
                return _draft(index, record, name, email, opt_in, interests)
    return _check_record(index, record)


def _check_record(index: int, record: Any) -> LeadDraft | Rejection:
    """validate_optin_record's full check, which names every failing field."""
    if not isinstance(record, dict):
        return Rejection(
            index, record, [FieldError("record", f"must be an object, not {_kind(record)}")]
        )
    errors: list[FieldError] = []
    for required in REQUIRED:
        if required not in record:
            errors.append(FieldError(required, "is required"))
    name = record.get("name")
    if "name" in record and not (isinstance(name, str) and name.strip()):
        errors.append(FieldError("name", f"must be a non-empty string, not {_kind(name)}"))
    email: str | None = None
    raw_email = record.get("email")
    if "email" in record:
        if not isinstance(raw_email, str):
            errors.append(FieldError("email", f"must be a string, not {_kind(raw_email)}"))
        else:
            try:
                email = normalize_email(raw_email)
            except InvalidEmail as exc:
                errors.append(FieldError("email", f"{raw_email!r} is not a valid email: {exc}"))
            else:
                if email is None:
                    errors.append(FieldError("email", f"{raw_email!r} is not an email address"))
    opt_in = record.get("optIn")
    if "optIn" in record and not isinstance(opt_in, bool):
        errors.append(FieldError("optIn", f"must be true or false, not {_kind(opt_in)}"))
    interests = record.get("interests")
    if "interests" in record:
        if not isinstance(interests, list):
            errors.append(
                FieldError("interests", f"must be a list of strings, not {_kind(interests)}")
            )
        elif not interests:
            errors.append(FieldError("interests", "must hold at least one interest"))
        elif not all(isinstance(item, str) for item in interests):
            errors.append(FieldError("interests", "every interest must be a string"))
    if errors:
        return Rejection(index, record, errors)
    assert isinstance(name, str) and isinstance(opt_in, bool) and isinstance(interests, list)
    return _draft(index, record, name, email, opt_in, interests)


def _draft(
    index: int,
    record: dict[str, Any],
    name: str,
    email: str | None,
    opt_in: bool,
    interests: list[Any],
) -> LeadDraft:
    first, last = split_name(name)
    extra = {k: v for k, v in record.items() if k not in OPTIN_FIELDS} if len(record) > 4 else {}
    return LeadDraft(
        row=index,
        email=email,
        phone=None,
        phone_valid=None,
        first_name=first,
        last_name=last,
        name=join_name(first, last),
        title="",
        company="",
        remarks="",
        opt_in=opt_in,
        interests=list(interests),
        attributes=extra,
        present=OPTIN_FIELDS,  # seed 000's record has no phone, title, company or remarks
    )


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the string {value!r}" if len(value) < 40 else "a string"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
