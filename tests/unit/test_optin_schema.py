"""Unit tests for leadflow.domain.optin_schema (SPEC 'Validation (seed 000)')."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadflow.domain.lead import LeadDraft, Rejection
from leadflow.domain.optin_schema import REQUIRED, NotAList, check_body, validate_optin_record

VALID: dict[str, Any] = {
    "name": "Ada Lovelace",
    "email": "Ada@Example.com",
    "optIn": True,
    "interests": ["math", "engines"],
}


def failing_fields(record: Any) -> list[str]:
    result = validate_optin_record(3, record)
    assert isinstance(result, Rejection), result
    assert result.row == 3
    assert result.record is record  # the record as received
    assert all(e.message for e in result.errors)
    return [e.field for e in result.errors]


def with_(**changes: Any) -> dict[str, Any]:
    return {**VALID, **changes}


def without(*names: str) -> dict[str, Any]:
    return {k: v for k, v in VALID.items() if k not in names}


# --- the body --------------------------------------------------------------------------------


def test_check_body_returns_a_non_empty_list() -> None:
    body = [VALID]
    assert check_body(body) is body


@pytest.mark.parametrize("body", [[], {}, VALID, "[]", None, 5, "records"])
def test_check_body_requires_a_non_empty_list(body: Any) -> None:
    with pytest.raises(NotAList):
        check_body(body)


def test_not_a_list_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="at least one"):
        check_body([])
    with pytest.raises(ValueError, match="list"):
        check_body({"name": "x"})


# --- valid records ---------------------------------------------------------------------------


def test_valid_record_becomes_a_draft() -> None:
    draft = validate_optin_record(4, {**VALID, "source": "web", "score": 3})
    assert isinstance(draft, LeadDraft)
    assert draft.row == 4
    assert draft.email == "ada@example.com"
    assert (draft.first_name, draft.last_name, draft.name) == ("Ada", "Lovelace", "Ada Lovelace")
    assert draft.opt_in is True
    assert draft.interests == ["math", "engines"]
    assert draft.attributes == {"source": "web", "score": 3}  # unknown fields are kept
    assert draft.phone is None and draft.phone_valid is None
    assert draft.key == "ada@example.com"


def test_opt_in_false_is_valid() -> None:
    draft = validate_optin_record(0, with_(optIn=False))
    assert isinstance(draft, LeadDraft)
    assert draft.opt_in is False


def test_interests_are_copied() -> None:
    interests = ["a"]
    draft = validate_optin_record(0, with_(interests=interests))
    assert isinstance(draft, LeadDraft)
    assert draft.interests == ["a"] and draft.interests is not interests


def test_comma_name_is_split() -> None:
    draft = validate_optin_record(0, with_(name="Lovelace, Ada"))
    assert isinstance(draft, LeadDraft)
    assert (draft.first_name, draft.last_name, draft.name) == ("Ada", "Lovelace", "Ada Lovelace")


# --- every failing field -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "fields"),
    [
        ({}, {"name", "email", "optIn", "interests"}),
        (without("name"), {"name"}),
        (without("email"), {"email"}),
        (without("optIn"), {"optIn"}),
        (without("interests"), {"interests"}),
        (without("name", "optIn"), {"name", "optIn"}),
        (with_(name=""), {"name"}),
        (with_(name="   "), {"name"}),
        (with_(name=None), {"name"}),
        (with_(name=5), {"name"}),
        (with_(name=["Ada"]), {"name"}),
        (with_(email=5), {"email"}),
        (with_(email=None), {"email"}),
        (with_(email="ada"), {"email"}),
        (with_(email="ada@"), {"email"}),
        (with_(email="ada@example"), {"email"}),
        (with_(email=""), {"email"}),
        (with_(email="n/a"), {"email"}),
        (with_(optIn="yes"), {"optIn"}),
        (with_(optIn="true"), {"optIn"}),
        (with_(optIn=1), {"optIn"}),
        (with_(optIn=0), {"optIn"}),
        (with_(optIn=None), {"optIn"}),
        (with_(interests="5"), {"interests"}),
        (with_(interests="math"), {"interests"}),
        (with_(interests=5), {"interests"}),
        (with_(interests=None), {"interests"}),
        (with_(interests={"a": 1}), {"interests"}),
        (with_(interests=[]), {"interests"}),
        (with_(interests=["math", 3]), {"interests"}),
        (with_(interests=[None]), {"interests"}),
        (
            {"name": "", "email": "bad", "optIn": "yes", "interests": "5"},
            {"name", "email", "optIn", "interests"},
        ),
        (
            {"name": 1, "email": "x@y.com", "optIn": "no", "interests": []},
            {"name", "optIn", "interests"},
        ),
        ({"email": "bad", "interests": ["ok", 1]}, {"name", "email", "optIn", "interests"}),
    ],
)
def test_every_failing_field_is_reported_once(record: dict[str, Any], fields: set[str]) -> None:
    names = failing_fields(record)
    assert set(names) == fields
    assert len(names) == len(set(names))  # each field once


def test_missing_fields_say_required() -> None:
    result = validate_optin_record(0, {})
    assert isinstance(result, Rejection)
    assert {e.field: e.message for e in result.errors} == dict.fromkeys(REQUIRED, "is required")


def test_messages_describe_what_was_received() -> None:
    result = validate_optin_record(0, with_(optIn="yes", interests="5", email="bad"))
    assert isinstance(result, Rejection)
    messages = {e.field: e.message for e in result.errors}
    assert "'yes'" in messages["optIn"]
    assert "'5'" in messages["interests"]
    assert "'bad'" in messages["email"]
    assert "optIn: " in result.reason and "interests: " in result.reason


@pytest.mark.parametrize("record", [[VALID], "Ada", 5, None, True])
def test_a_record_that_is_not_an_object_is_rejected(record: Any) -> None:
    assert failing_fields(record) == ["record"]


# --- property ------------------------------------------------------------------------------------

_GOOD = {
    "name": st.sampled_from(["Ada", "Ada Lovelace", "Lovelace, Ada"]),
    "email": st.sampled_from(["ada@example.com", " ADA@example.org "]),
    "optIn": st.booleans(),
    "interests": st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=3),
}
_BAD = {
    "name": st.sampled_from(["", "  ", None, 0, ["x"], {"a": 1}]),
    "email": st.sampled_from(["", "n/a", "bad", "a@", "@b.com", None, 1, ["a@b.com"]]),
    "optIn": st.sampled_from(["yes", "true", "1", 1, 0, None, [], "false"]),
    "interests": st.sampled_from(["5", "a", 5, None, [], [1], ["a", None], {"a": "b"}, True]),
}


@given(st.data())
def test_the_failing_fields_are_exactly_the_bad_or_missing_ones(data: st.DataObject) -> None:
    record: dict[str, Any] = {}
    expected: set[str] = set()
    for name in REQUIRED:
        state = data.draw(st.sampled_from(["good", "bad", "missing"]), label=name)
        if state == "missing":
            expected.add(name)
        elif state == "bad":
            record[name] = data.draw(_BAD[name], label=f"bad {name}")
            expected.add(name)
        else:
            record[name] = data.draw(_GOOD[name], label=f"good {name}")
    record.update(data.draw(st.dictionaries(st.sampled_from(["x", "y"]), st.integers())))
    result = validate_optin_record(0, record)
    if expected:
        assert isinstance(result, Rejection)
        names = [e.field for e in result.errors]
        assert set(names) == expected
        assert len(names) == len(expected)
    else:
        assert isinstance(result, LeadDraft)
        assert result.email is not None and result.opt_in is record["optIn"]
