"""Order quantities: a whole number in any common form; anything else is a reason."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadflow.domain.orders import MAX_QTY, IncompleteOrder, parse_order, parse_qty


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1.0", 1), (2, 2), ("2", 2), (2.0, 2), (" 3 ", 3), ("+4", 4), ("007", 7), ("5.00", 5)],
)
def test_common_forms_of_a_whole_number(value: Any, expected: int) -> None:
    assert parse_qty(value) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("99999999999999999999", "'99999999999999999999' is out of range"),
        (1e30, "1e+30 is out of range"),
        (99999999999999999999, "99999999999999999999 is out of range"),
        (float("inf"), "inf is out of range"),
        ("9" * 4000, "is out of range"),
        (0, "0 is out of range"),
        ("-2", "'-2' is out of range"),
        (MAX_QTY + 1, "is out of range"),
        (1.5, "1.5 is not a whole number"),
        ("2.5", "'2.5' is not a whole number"),
        ("²", "'²' is not a number"),
        ("٣", "'٣' is not a number"),  # an Arabic-Indic digit: not a quantity here
        ("two", "'two' is not a number"),
        (float("nan"), "nan is not a number"),
        (True, "True is not a number"),
        ([2], "[2] is not a number"),
        ("1e3", "'1e3' is not a number"),
        (None, "is missing"),
        ("", "is missing"),
    ],
)
def test_anything_else_is_a_reason(value: Any, reason: str) -> None:
    outcome = parse_qty(value)
    assert isinstance(outcome, str) and reason in outcome
    assert len(outcome) < 120  # a 4,000-digit value is cut in the reason


def test_a_bad_qty_makes_the_record_incomplete_with_its_reason() -> None:
    record = {
        "contact-info": {"name": "A", "email": "a@b.co"},
        "order-info": {"orderId": 10**400, "item-id": "x", "qty": "99999999999999999999"},
    }
    outcome = parse_order(record)
    assert isinstance(outcome, IncompleteOrder)
    assert outcome.reasons == [
        "order-info.qty '99999999999999999999' is out of range "
        f"(a whole number from 1 to {MAX_QTY:,})"
    ]


@given(st.integers(min_value=1, max_value=MAX_QTY))
def test_every_form_of_an_in_range_number_is_read(n: int) -> None:
    for form in (n, str(n), float(n), f"{n}.0", f" {n} "):
        assert parse_qty(form) == n


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@given(JSON_VALUES)
def test_any_json_value_gives_a_quantity_or_a_reason(value: Any) -> None:
    outcome = parse_qty(value)
    assert (isinstance(outcome, int) and 1 <= outcome <= MAX_QTY) or isinstance(outcome, str)
    record = {"contact-info": {"name": "A", "email": "a@b.co"}, "order-info": {"qty": value}}
    json.dumps(record)  # what the DLQ keeps
    parse_order(record)  # never raises
