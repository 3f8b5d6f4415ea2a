"""Lead search: folding for all of Unicode and phone queries in any format."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadflow.domain.search import SearchQuery, document, fold, matches, parse_query


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("MÜLLER", "muller"),
        ("Müller", "muller"),
        ("Straße", "strasse"),
        ("Łódź", "lodz"),
        ("Ørsted", "orsted"),
        ("ŞİŞLİ", "sisli"),
        ("ΆΓΓΕΛΟΣ", "αγγελοσ"),
        ("ﬁnance", "finance"),
        ("Ａｃｍｅ", "acme"),  # full-width letters
        ("Acme", "acme"),
    ],
)
def test_fold_removes_case_and_accents(text: str, folded: str) -> None:
    assert fold(text) == folded


@given(st.text())
def test_fold_is_blind_to_case_and_marks(text: str) -> None:
    folded = fold(text)
    assert fold(text.upper()) == fold(text.lower()) == folded
    assert fold(folded) == folded  # stable
    assert not any(unicodedata.combining(c) for c in unicodedata.normalize("NFD", folded))


@given(st.text(alphabet=st.characters(whitelist_categories=("Ll", "Lu")), min_size=1))
def test_a_letter_with_any_accent_is_found_by_the_bare_letter(text: str) -> None:
    accented = unicodedata.normalize("NFC", "".join(c + "\u0301" for c in text))
    assert fold(accented) == fold(text)


def test_a_phone_in_any_format_is_that_number() -> None:
    for q in ("(415) 555-0134", "+14155550134", " 14155550134", "415.555.0134", "+1 415 555 0134"):
        assert parse_query(q, "US").phone == "+14155550134", q
    assert parse_query("030 1234567", "DE").phone == "+49301234567"
    assert parse_query("5550134", "US") == SearchQuery("5550134")  # a piece: digits inside
    assert parse_query("2024", "US") == SearchQuery("2024")  # too short for a phone


def test_matching() -> None:
    doc = document("Jörg Müller", "j@x.de", "Ørsted", "CTO", "+14155550134")
    assert matches(parse_query("MÜLLER"), doc, "+14155550134")
    assert matches(parse_query("orsted"), doc, "+14155550134")
    assert matches(parse_query("(415) 555-0134"), doc, "+14155550134")
    assert not matches(parse_query("+14155550135"), doc, "+14155550134")
    assert matches(parse_query("555-0134"), doc, "+14155550134")
    assert not matches(parse_query("müller cto"), doc, "+14155550134")  # not across fields


@given(st.one_of(st.text(min_size=1), st.from_regex(r"\+[0-9٠-٩²]{1,15}(;ext=[0-9]{1,5})?")))
def test_a_document_ends_with_the_phone_digits_alone(phone: str) -> None:
    """Whatever form a stored phone has (E.164, with an extension, as given), the
    document's last line is its decimal digits, as \\d reads them."""
    expected = "".join(c for c in phone if c.isdecimal())
    assert document("Jane", None, None, None, phone).split("\n")[-1] == expected


def test_the_fold_cache_is_bounded_and_transparent() -> None:
    from leadflow.domain import search

    search._folded.clear()
    for n in range(search._FOLDED_LIMIT + 10):
        assert fold(f"Müller {n}") == f"muller {n}"
    assert len(search._folded) <= search._FOLDED_LIMIT
    long_text = "É" * (search._FOLDED_MAX_CHARS + 1)
    assert fold(long_text) == "e" * len(long_text)
    assert long_text not in search._folded
    assert fold("MÜLLER") == fold("MÜLLER") == "muller"  # the second answer from the cache
