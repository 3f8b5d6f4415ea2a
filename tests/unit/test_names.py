"""Unit tests for leadflow.domain.names: full name <-> first/last name."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadflow.domain.names import join_name, split_name


@pytest.mark.parametrize(
    ("full", "expected"),
    [
        ("John van der Berg", ("John", "van der Berg")),
        ("John Doe", ("John", "Doe")),
        ("John", ("John", "")),
        ("", ("", "")),
        ("   ", ("", "")),
        ("  John   van   der Berg  ", ("John", "van der Berg")),
        ("John\tDoe", ("John", "Doe")),
        ("Doe, John", ("John", "Doe")),
        ("Doe,John", ("John", "Doe")),
        ("  van der Berg ,  John  Paul ", ("John Paul", "van der Berg")),
        ("Doe,", ("", "Doe")),
        (", John", ("John", "")),
        ("Zoë Ågren", ("Zoë", "Ågren")),
    ],
)
def test_split_name(full: str, expected: tuple[str, str]) -> None:
    assert split_name(full) == expected


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        ("John", "Doe", "John Doe"),
        ("John", "", "John"),
        ("", "Doe", "Doe"),
        ("", "", ""),
        ("  John ", " van der Berg ", "John van der Berg"),
        ("   ", "Doe", "Doe"),
    ],
)
def test_join_name(first: str, last: str, expected: str) -> None:
    assert join_name(first, last) == expected


def test_comma_form_joins_first_name_first() -> None:
    assert join_name(*split_name("Doe, John")) == "John Doe"


_name_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(" \t\n\u00a0\u2003-'."),
        st.characters(blacklist_characters=",", blacklist_categories=("Cs",)),
    ),
    max_size=40,
)


@given(_name_text)
def test_join_of_split_is_the_whitespace_normalized_name(full: str) -> None:
    assert join_name(*split_name(full)) == " ".join(full.split())


@given(_name_text)
def test_split_parts_are_trimmed_and_first_has_no_spaces(full: str) -> None:
    first, last = split_name(full)
    assert first == first.strip() and last == last.strip()
    assert " " not in first
    assert not (last and not first)  # without a comma, a last name needs a first name


@given(
    st.from_regex(r"[A-Za-z]{1,8}( [A-Za-z]{1,8}){0,2}", fullmatch=True),
    st.from_regex(r"[A-Za-z]{1,8}( [A-Za-z]{1,8}){0,2}", fullmatch=True),
)
def test_last_comma_first_round_trips(first: str, last: str) -> None:
    assert split_name(f"{last}, {first}") == (first, last)
