"""Unit tests for leadflow.domain.names: full name <-> first/last name."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from leadflow.domain.names import (
    _parse_with_nameparser,
    fast_parse_name,
    join_name,
    parse_name,
    split_name,
)


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
        st.sampled_from(" \t\n\u00a0\u2003-'.,"),
        st.characters(blacklist_categories=("Cs",)),
    ),
    max_size=40,
)


@given(_name_text)
def test_split_parts_are_trimmed_and_keep_every_word(full: str) -> None:
    parsed = parse_name(full)
    for part in parsed:
        assert part == " ".join(part.split())
    # nothing invented, nothing lost: every word lands in exactly one part
    assert sorted(" ".join(parsed).replace(",", " ").split()) == sorted(
        full.replace(",", " ").split()
    )
    if "," not in full and not parsed.salutation:  # a lone name is a first name
        assert not (parsed.last and not parsed.first)


def _plain_words(text: str) -> bool:
    """No title, suffix, prefix or conjunction nameparser would set apart."""
    return all(fast_parse_name(word) is not None for word in text.split())


_plain = st.from_regex(r"[A-Z][a-z]{1,8}", fullmatch=True)
_special = st.sampled_from(
    ["Dr.", "Dr", "Mr", "Mrs.", "Prof.", "Jr.", "Jr", "III", "PhD", "van", "de", "and", "y"]
)
_word = st.one_of(_plain, _plain.map(str.upper), _plain.map(str.lower), _special)


@given(st.lists(_word, min_size=1, max_size=2))
@example(["Jane", "Roe"])
@example(["Van", "Morrison"])
def test_the_fast_path_agrees_with_nameparser(words: list[str]) -> None:
    text = " ".join(words)
    fast = fast_parse_name(text)
    if fast is not None:
        assert fast == _parse_with_nameparser(text)


_tricky = st.sampled_from(
    ["Bench", "Mrs.", "Sir", "Ms", "Prof.", "Dr", "Lt.", "Vi", "IV", "X", "I", "V", "Abdul",
     "Umm", "Ibn", "Bint", "Ter", "Ph", "Ph.", "D", "D.", "5-3", "2nd", "3rd", "1st", "42",
     "E", "J", "O'Neil", "Anne-Marie", "Zoë"]
)  # fmt: skip
_digits = st.from_regex(r"[A-Za-z]{1,6}[0-9]{0,3}(-[0-9]{1,3})?", fullmatch=True)


@given(st.lists(st.one_of(_word, _tricky, _digits), min_size=1, max_size=5))
@example(["Bench", "User", "5-3"])
@example(["Mrs.", "Jane", "Roe"])
@example(["Anna", "Maria", "Vi"])
@example(["John", "Ph", "D", "Smith"])
@example(["Ibn", "Sina", "Ali"])
@example(["Abdul", "Aziz", "Khan"])
def test_the_fast_path_agrees_with_nameparser_for_longer_names(words: list[str]) -> None:
    text = " ".join(words)
    fast = fast_parse_name(text)
    if fast is not None:
        assert fast == _parse_with_nameparser(text)


def test_the_fast_path_takes_plain_names() -> None:
    # keeps the property above from passing vacuously
    assert fast_parse_name("Jane Roe") == ("Jane", "Roe", "", "")
    assert fast_parse_name("Zoë O'Brien-Ågren") == ("Zoë", "O'Brien-Ågren", "", "")
    assert fast_parse_name("Dr. Roe") is None
    assert fast_parse_name("Sam Poe III") is None
    assert fast_parse_name("Mary Ann Smith") == ("Mary", "Ann Smith", "", "")
    assert fast_parse_name("Mrs. Jane Maria Roe") == ("Jane", "Maria Roe", "Mrs.", "")
    assert fast_parse_name("Test User 12") == ("Test", "User 12", "", "")
    assert fast_parse_name("Anna Maria Vi") is None  # Vi: a Roman numeral, a suffix
    assert fast_parse_name("Ibn Sina Ali") is None  # no first name in nameparser's view


@given(
    st.lists(st.sampled_from(["Dr.", "Mr", "Mrs.", "Prof."]), max_size=2),
    st.lists(st.one_of(_plain, _plain.map(str.upper)).filter(_plain_words), min_size=2, max_size=3),
    st.lists(st.sampled_from(["Jr.", "III", "PhD"]), max_size=1),
)
def test_every_word_of_a_name_lands_in_one_part(
    titles: list[str], names: list[str], suffixes: list[str]
) -> None:
    words = [*titles, *names, *suffixes]
    parsed = parse_name(" ".join(words))
    assert parsed.salutation.split() == titles
    assert parsed.suffix.split() == suffixes
    kept = " ".join(p for p in parsed if p).split()
    assert sorted(kept) == sorted(words)


@pytest.mark.parametrize(
    ("full", "expected"),
    [
        ("Dr. Jane Roe", ("Jane", "Roe", "Dr.", "")),
        ("Sam Poe III", ("Sam", "Poe", "", "III")),
        ("John Smith, Jr.", ("John", "Smith", "", "Jr.")),
        ("Smith, John Jr.", ("John", "Smith", "", "Jr.")),
        ("Ms Sara Lee PhD", ("Sara", "Lee", "Ms", "PhD")),
        ("Prof. Dr. Hans Müller", ("Hans", "Müller", "Prof. Dr.", "")),
        ("Dr. Roe", ("", "Roe", "Dr.", "")),  # 'Mr Smith': Smith is the last name
        ("José García López", ("José", "García López", "", "")),
    ],
)
def test_titles_and_suffixes_are_kept_apart(full: str, expected: tuple[str, ...]) -> None:
    assert parse_name(full) == expected


@given(
    st.from_regex(r"[A-Za-z]{1,8}( [A-Za-z]{1,8}){0,2}", fullmatch=True).filter(_plain_words),
    st.from_regex(r"[A-Za-z]{1,8}( [A-Za-z]{1,8}){0,2}", fullmatch=True).filter(_plain_words),
)
def test_last_comma_first_round_trips(first: str, last: str) -> None:
    assert split_name(f"{last}, {first}") == (first, last)
