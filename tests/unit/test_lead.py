"""Unit tests for leadflow.domain.lead (SPEC 'Validation (leads pipeline, seed 004)')."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadflow.domain.lead import (
    FieldError,
    LeadDraft,
    Rejection,
    as_text,
    build_lead,
    parse_flag,
    parse_interests,
)


def lead(fields: dict[str, Any], attributes: dict[str, Any] | None = None, region: str = "US"):
    return build_lead(7, fields, attributes or {}, dict(fields), region)


def accepted(fields: dict[str, Any], **kwargs: Any) -> LeadDraft:
    result = lead(fields, **kwargs)
    assert isinstance(result, LeadDraft), result
    return result


def rejected(fields: dict[str, Any], **kwargs: Any) -> Rejection:
    result = lead(fields, **kwargs)
    assert isinstance(result, Rejection), result
    return result


# --- what makes a lead ------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "Ada Lovelace"},
        {"firstName": "Ada"},
        {"lastName": "Lovelace"},
        {"company": "Analytical Engines Ltd"},
        {"email": "ada@example.com"},
        {"phone": "(415) 555-0134"},
        {"phone": "call me maybe"},  # kept even though it does not parse
    ],
)
def test_any_one_of_name_company_email_phone_makes_a_lead(fields: dict[str, Any]) -> None:
    draft = accepted(fields)
    assert draft.row == 7


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"name": "", "company": "", "email": "", "phone": ""},
        {"name": "   ", "company": "\t", "phone": "  "},
        {"title": "CTO", "remarks": "met at the fair"},
        {"email": "n/a", "title": "CTO"},
        {"email": "NULL"},
        {"name": None, "email": None},
    ],
)
def test_row_without_name_company_email_or_phone_is_rejected(fields: dict[str, Any]) -> None:
    rejection = rejected(fields)
    assert [e.field for e in rejection.errors] == ["row"]
    assert "at least" in rejection.reason
    assert rejection.row == 7
    assert rejection.record == fields


def test_a_lead_with_only_title_and_attributes_is_still_rejected() -> None:
    rejection = rejected({"title": "CTO"}, attributes={"Score": "9"})
    assert [e.field for e in rejection.errors] == ["row"]


# --- email ---------------------------------------------------------------------------------


def test_email_is_normalized() -> None:
    draft = accepted({"email": "  Ada.Lovelace@Example.COM "})
    assert draft.email == "ada.lovelace@example.com"
    assert draft.key == "ada.lovelace@example.com"


def test_email_domain_is_idna_normalized() -> None:
    assert accepted({"email": "ada@Bücher.de"}).email == "ada@xn--bcher-kva.de"


@pytest.mark.parametrize("raw", ["ada@", "ada", "ada@example", "ada@@example.com", "a b@c.com"])
def test_malformed_email_rejects_the_row_with_the_reason(raw: str) -> None:
    rejection = rejected({"name": "Ada Lovelace", "email": raw, "phone": "(415) 555-0134"})
    assert [e.field for e in rejection.errors] == ["email"]
    assert "email" in rejection.reason
    assert repr(raw) in rejection.reason
    assert rejection.record["email"] == raw  # the row as received


@pytest.mark.parametrize("raw", ["n/a", "N/A", "null", "None", "none", "", "  "])
def test_no_email_markers_mean_no_email(raw: str) -> None:
    draft = accepted({"name": "Ada Lovelace", "email": raw})
    assert draft.email is None
    assert draft.key is None  # no email and no phone: never merged


# --- phone ---------------------------------------------------------------------------------


def test_phone_is_normalized_to_e164() -> None:
    draft = accepted({"name": "Ada", "phone": "(415) 555-0134"})
    assert (draft.phone, draft.phone_valid) == ("+14155550134", True)


def test_phone_uses_the_region() -> None:
    draft = accepted({"name": "Ada", "phone": "020 7946 0958"}, region="GB")
    assert (draft.phone, draft.phone_valid) == ("+442079460958", True)


@pytest.mark.parametrize("raw", ["abc", "ext 12", "555", "+999 1"])
def test_unparseable_phone_is_kept_and_flagged(raw: str) -> None:
    draft = accepted({"name": "Ada", "phone": raw})
    assert draft.phone == raw
    assert draft.phone_valid is False
    assert draft.key is None  # an invalid phone is no duplicate key


def test_no_phone_is_none() -> None:
    draft = accepted({"name": "Ada", "phone": ""})
    assert draft.phone is None and draft.phone_valid is None


def test_phone_only_lead_is_keyed_on_e164() -> None:
    draft = accepted({"phone": "415.555.0134"})
    assert draft.email is None
    assert draft.key == "+14155550134"


def test_email_is_the_key_over_the_phone() -> None:
    draft = accepted({"email": "ada@example.com", "phone": "415.555.0134"})
    assert draft.key == "ada@example.com"


@pytest.mark.parametrize("value", [4155550134.0, 4155550134, 14155550134.0])
def test_spreadsheet_numbers_become_text(value: float) -> None:
    draft = accepted({"phone": value})
    assert (draft.phone, draft.phone_valid) == ("+14155550134", True)


# --- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("full", "first", "last"),
    [
        ("John van der Berg", "John", "van der Berg"),
        ("Doe, John", "John", "Doe"),
        ("  John   Doe ", "John", "Doe"),
        ("Cher", "Cher", ""),
    ],
)
def test_full_name_is_split(full: str, first: str, last: str) -> None:
    draft = accepted({"name": full})
    assert (draft.first_name, draft.last_name) == (first, last)
    assert draft.name == f"{first} {last}".strip()


def test_explicit_first_and_last_names_win_over_the_full_name() -> None:
    draft = accepted({"name": "Someone Else", "firstName": " Ada ", "lastName": "Lovelace"})
    assert (draft.first_name, draft.last_name, draft.name) == ("Ada", "Lovelace", "Ada Lovelace")


def test_first_name_alone_is_the_name() -> None:
    draft = accepted({"firstName": "Ada"})
    assert (draft.first_name, draft.last_name, draft.name) == ("Ada", "", "Ada")


def test_last_name_alone_is_the_name() -> None:
    draft = accepted({"lastName": "Lovelace"})
    assert (draft.first_name, draft.last_name, draft.name) == ("", "Lovelace", "Lovelace")


# --- other fields ----------------------------------------------------------------------------


def test_text_fields_are_trimmed_and_attributes_kept() -> None:
    attributes = {"Lead Score": "9", "Colour": None}
    draft = accepted(
        {
            "name": "Ada Lovelace",
            "title": "  Countess ",
            "company": " Engines ",
            "remarks": " note ",
            "unknownField": "ignored",
        },
        attributes=attributes,
    )
    assert (draft.title, draft.company, draft.remarks) == ("Countess", "Engines", "note")
    assert draft.attributes == attributes
    assert draft.opt_in is None and draft.interests is None


def test_non_text_cells_become_text() -> None:
    draft = accepted(
        {"company": 1234, "title": dt.date(2024, 5, 1), "remarks": 2.5, "name": True},
    )
    assert draft.company == "1234"
    assert draft.title == "2024-05-01"
    assert draft.remarks == "2.5"
    assert draft.first_name == "true"


def test_a_cell_of_an_unsupported_type_rejects_the_row() -> None:
    rejection = rejected({"name": "Ada", "company": ["a", "list"]})
    assert [e.field for e in rejection.errors] == ["company"]
    assert "list" in rejection.reason


def test_opt_in_and_interests_are_parsed() -> None:
    draft = accepted({"email": "ada@example.com", "optIn": "Yes", "interests": "math; engines, "})
    assert draft.opt_in is True
    assert draft.interests == ["math", "engines"]


def test_empty_opt_in_and_interests_stay_unset() -> None:
    draft = accepted({"email": "ada@example.com", "optIn": "", "interests": None})
    assert draft.opt_in is None and draft.interests is None


def test_every_failing_field_is_reported() -> None:
    rejection = rejected(
        {"email": "nope", "optIn": "maybe", "interests": ["ok", 3], "company": object()}
    )
    assert {e.field for e in rejection.errors} == {"email", "optIn", "interests", "company"}
    for name in ("email", "optIn", "interests", "company"):
        assert f"{name}: " in rejection.reason


def test_field_error_and_rejection_shapes() -> None:
    error = FieldError("email", "is bad")
    assert error.as_dict() == {"field": "email", "message": "is bad"}
    rejection = Rejection(3, {"email": "x"}, [error, FieldError("row", "empty")])
    assert rejection.reason == "email: is bad; row: empty"


# --- parse_flag / parse_interests / as_text ------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["true", "TRUE", "True", "yes", "YES", "Yes", "1", " 1 ", True, 1, 1.0],
)
def test_parse_flag_true(value: Any) -> None:
    assert parse_flag(value) is True


@pytest.mark.parametrize(
    "value", ["false", "FALSE", "False", "no", "NO", "No", "0", " no ", False, 0, 0.0]
)
def test_parse_flag_false(value: Any) -> None:
    assert parse_flag(value) is False


@pytest.mark.parametrize("value", ["maybe", "2", "truee", "si", "-1", 2, 0.5, "yes please"])
def test_parse_flag_rejects_anything_else(value: Any) -> None:
    with pytest.raises(ValueError, match="true/false"):
        parse_flag(value)


@given(
    st.sampled_from(["true", "false", "yes", "no", "1", "0"]),
    st.lists(st.booleans(), min_size=5, max_size=5),
)
def test_parse_flag_ignores_case(word: str, upper: list[bool]) -> None:
    mixed = "".join(c.upper() if up else c for c, up in zip(word, upper * 2, strict=False))
    assert parse_flag(mixed) is (word in ("true", "yes", "1"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["a", " b ", ""], ["a", "b"]),
        ([], []),
        ("a; b, c", ["a", "b", "c"]),
        ("  single ", ["single"]),
        ("", []),
        (None, []),
        (";;,", []),
        (42, ["42"]),
    ],
)
def test_parse_interests(value: Any, expected: list[str]) -> None:
    assert parse_interests(value) == expected


def test_parse_interests_rejects_non_string_items() -> None:
    with pytest.raises(ValueError, match="string"):
        parse_interests(["a", 1])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        ("  x ", "x"),
        (True, "true"),
        (False, "false"),
        (4155550134.0, "4155550134"),
        (-3.0, "-3"),
        (2.5, "2.5"),
        (7, "7"),
        (dt.datetime(2024, 1, 2, 3, 4, 5), "2024-01-02T03:04:05"),
        (dt.date(2024, 1, 2), "2024-01-02"),
        (dt.time(3, 4), "03:04:00"),
    ],
)
def test_as_text(value: Any, expected: str) -> None:
    assert as_text(value) == expected


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_as_text_non_finite_floats(value: float) -> None:
    assert as_text(value) == repr(value)


@pytest.mark.parametrize("value", [[1], {"a": 1}, object(), b"bytes"])
def test_as_text_rejects_other_types(value: Any) -> None:
    with pytest.raises(TypeError, match="expected text"):
        as_text(value)


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_integral_floats_read_like_integers(number: int) -> None:
    assert as_text(float(number)) == str(number)


# --- issue 8: extensions, names, titles and email cells -------------------------------------


def test_the_extension_is_part_of_the_phone_key() -> None:
    one = accepted({"phone": "(415) 555-0109 x101"})
    two = accepted({"phone": "(415) 555-0109 x102"})
    assert (one.key, two.key) == ("+14155550109;ext=101", "+14155550109;ext=102")
    assert accepted({"phone": "415-555-0109;ext=101"}).key == one.key


@pytest.mark.parametrize("value", [4155550107.0, 4.155550107e9, "4.155550107E9", "4,155,550,107"])
def test_xlsx_and_csv_numbers_are_read_back(value: Any) -> None:
    assert accepted({"phone": value}).phone == "+14155550107"


def test_a_lossy_spreadsheet_number_is_flagged_never_guessed() -> None:
    draft = accepted({"phone": "4.16E+09", "name": "Jane Roe"})
    assert (draft.phone, draft.phone_valid, draft.key) == ("4.16E+09", False, None)


def test_salutation_and_suffix_of_a_full_name_are_attributes() -> None:
    draft = accepted({"name": "Dr. John Smith, Jr."})
    assert (draft.first_name, draft.last_name, draft.name) == ("John", "Smith", "John Smith")
    assert draft.attributes == {"salutation": "Dr.", "nameSuffix": "Jr."}


def test_a_mapped_salutation_column_wins_over_the_parsed_one() -> None:
    draft = accepted({"name": "Dr. Jane Roe"}, attributes={"salutation": "Prof."})
    assert draft.attributes["salutation"] == "Prof."


@pytest.mark.parametrize("title", ["Dr.", "Mr", "MRS.", "Mme", "Herr", "Sra."])
def test_a_courtesy_title_is_never_the_job_title(title: str) -> None:
    draft = accepted({"name": "Jane Roe", "title": title})
    assert draft.title == ""
    assert draft.attributes["salutation"] == title


@pytest.mark.parametrize("title", ["CTO", "Director", "Head of Sales", "Dr. of Physics"])
def test_a_job_title_stays_the_title(title: str) -> None:
    draft = accepted({"name": "Jane Roe", "title": title})
    assert draft.title == title
    assert "salutation" not in draft.attributes


def test_an_email_cell_with_several_addresses_warns_and_keeps_them_all() -> None:
    draft = accepted({"email": "jane@x.com ::: jane@y.org; Jane <j@z.net>"})
    assert draft.email == "jane@x.com"
    assert draft.attributes["otherEmails"] == ["jane@y.org", "j@z.net"]
    assert len(draft.warnings) == 1 and "otherEmails" in draft.warnings[0]
    assert accepted({"email": "jane@x.com"}).warnings == []
