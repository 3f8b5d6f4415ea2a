"""Lead search, store-independent: what a lead is found by and what a query asks for.

Text is folded for all of Unicode: case folded (`ß` reads `ss`), accents and other
combining marks removed after compatibility decomposition (`MÜLLER`, `müller` and
`Muller` all read `muller`; `ﬁ` reads `fi`), plus the few Latin letters that carry
their stroke in the letter itself (`ø`, `ł`, `đ`, `æ`...). A store keeps each lead's
folded text (its `document`) and matches a query's folded text inside it.

A query that looks like a phone number is a phone search: one that parses as a valid
number (in any format, with the default region for numbers without +country) finds the
leads with exactly that number; a shorter run of digits finds the phones containing it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .phones import normalize_phone

# Letters with no decomposition that people type without their mark.
_LETTERS = str.maketrans(
    {
        "ø": "o",
        "đ": "d",
        "ð": "d",
        "ħ": "h",
        "ı": "i",
        "ł": "l",
        "ŀ": "l",
        "ŧ": "t",
        "ƀ": "b",
        "ɨ": "i",
        "æ": "ae",
        "œ": "oe",
        "þ": "th",
        "ŋ": "n",
    }
)
_NOT_DIGIT = re.compile(r"\D")
_PHONE_LIKE = re.compile(r"\+?[\d\s().\-/]+")
MIN_PHONE_DIGITS = 7  # shorter digit runs are searched as text (zip codes, years...)
SEPARATOR = "\n"  # between a document's fields: a query never matches across two


def fold(text: str) -> str:
    """`text` case-folded and without accents, for matching; '' stays ''."""
    if text.isascii():
        return text.lower()
    if len(text) > _FOLDED_MAX_CHARS:
        return _fold(text)
    folded = _folded.get(text)
    if folded is None:
        if len(_folded) >= _FOLDED_LIMIT:
            _folded.clear()  # bounded, whatever text comes; refills quickly
        folded = _folded[text] = _fold(text)
    return folded


# Short non-ASCII text -> its fold: the names, companies and titles of a file repeat,
# and folding one costs three normalizations (several microseconds each). Bounded in
# entries and in the length of what is kept (at most about 20 MB).
_folded: dict[str, str] = {}
_FOLDED_LIMIT = 20_000
_FOLDED_MAX_CHARS = 200


def _fold(text: str) -> str:
    # decomposed first (so `℠` is `SM`, then `sm`), and again after folding
    folded = unicodedata.normalize("NFKD", text).casefold()
    decomposed = unicodedata.normalize("NFKD", folded)
    return unicodedata.normalize("NFC", decomposed.translate(_FOLD))


class _FoldTable(dict[int, str | None]):
    """str.translate's table: every combining mark (Mn, Mc, Me) of Python's Unicode
    database removed, the stroked letters replaced, any other character kept. Filled
    per character on first sight (building it whole walked 130k code points, 0.05 s in
    every importing process)."""

    def __missing__(self, code: int) -> str | None:
        char = chr(code)
        value = None if unicodedata.category(char) in ("Mn", "Mc", "Me") else char
        if len(self) < _FOLD_LIMIT:  # bounded, whatever text comes
            self[code] = value
        return value


_FOLD_LIMIT = 100_000
_FOLD = _FoldTable(_LETTERS)


def document(
    name: str | None,
    email: str | None,
    company: str | None,
    title: str | None,
    phone: str | None,
) -> str:
    """A lead's folded search text: its name, email, company, title and phone, with the
    phone's digits alone too (so `4155550134` finds `+14155550134`)."""
    values = [value for value in (name, email, company, title, phone) if value]
    text = SEPARATOR.join(values)
    # fold() of ASCII text is lower(): one call for the whole document, the common case
    text = text.lower() if text.isascii() else SEPARATOR.join(map(fold, values))
    if phone:
        digits = phone[1:]  # E.164 is '+' and digits: no regex needed
        if phone[0] != "+" or not digits.isdecimal():  # isdecimal() is exactly \d
            digits = _NOT_DIGIT.sub("", phone)
        return f"{text}{SEPARATOR}{digits}"
    return text


@dataclass(frozen=True)
class SearchQuery:
    """What `q` asks for: `phone` (E.164, an exact match), else `text` (folded, found
    inside a lead's document)."""

    text: str
    phone: str | None = None


def parse_query(q: str, region: str = "US") -> SearchQuery:
    """The search a `q` asks for; `region` reads numbers written without +country."""
    q = q.strip()
    if _PHONE_LIKE.fullmatch(q):
        digits = "".join(c for c in q if c.isdigit())
        if len(digits) >= MIN_PHONE_DIGITS:
            phone = normalize_phone(q, region)
            if phone is not None and phone.valid:
                return SearchQuery(digits, phone.value)
            return SearchQuery(digits)
    return SearchQuery(fold(q))


def matches(query: SearchQuery, doc: str, phone: str | None) -> bool:
    """Whether a lead (its document and stored phone) is found by `query`."""
    if query.phone is not None:
        return phone == query.phone
    return query.text in doc
