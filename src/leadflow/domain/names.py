"""Full name <-> first/last name, with salutations and suffixes kept apart (nameparser).

`"Dr. Jane Roe"` is first Jane, last Roe, salutation "Dr."; `"John Smith, Jr."` is first
John, last Smith, suffix "Jr."; `"Doe, John"` is first John, last Doe. Middle names go
with the last name (`"José García López"` -> José / García López), except in the
`Last, First Middle` form where they are given names (`"Berg, John Paul"` -> John Paul).

nameparser costs tens of microseconds a name; plain names take a fast path that gives
the same answer (a property test checks it), and the rest is cached. Plain: no comma,
words of letters and digits that nameparser sets no rule for (no title, suffix, prefix,
conjunction, bound first name or Roman numeral), optionally after one leading title
(`Dr Jane Roe`, with a first and a last name after it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

from nameparser import HumanName
from nameparser.config import CONSTANTS


class ParsedName(NamedTuple):
    """The parts of a full name; empty strings where absent."""

    first: str
    last: str
    salutation: str = ""
    suffix: str = ""


_WORD = re.compile(r"[^\W_]+(?:['-][^\W_]+)*")
_TITLE_WORD = re.compile(r"[^\W\d_]+\.?")
_ROMAN = CONSTANTS.regexes.roman_numeral  # as a last word after two: nameparser's suffix
_PHD = CONSTANTS.regexes.phd  # 'Ph D' is one suffix


def _folded(*groups: Iterable[str]) -> frozenset[str]:
    """The words of nameparser's sets, lower-case without dots (as it compares them)."""
    return frozenset(word.lower().replace(".", "") for group in groups for word in group)


# Every word with a role in nameparser besides being a title.
_OTHER_ROLES = _folded(
    CONSTANTS.suffix_acronyms,
    CONSTANTS.suffix_not_acronyms,
    CONSTANTS.prefixes,
    CONSTANTS.conjunctions,
    CONSTANTS.bound_first_names,  # 'Abdul Aziz Khan': first name 'Abdul Aziz'
    CONSTANTS.non_first_name_prefixes,  # 'Ibn Sina': all of it is the last name
)
# Every word nameparser treats specially.
_SPECIAL = _folded(CONSTANTS.titles) | _OTHER_ROLES
# Leading titles with no other role, whose next word nameparser then takes as the first
# name ('Dr', 'Mrs.', 'Bench'): the ones with another role above have more rules.
_PLAIN_TITLES = _folded(CONSTANTS.titles) - _OTHER_ROLES
# word -> whether it is plain (see _plain_word); names repeat few words, so each is
# checked once. Bounded: cleared when full, it refills quickly.
_plain_words: dict[str, bool] = {}
_WORD_CACHE_LIMIT = 20_000


def _plain_word(word: str) -> bool:
    plain = _plain_words.get(word)
    if plain is None:
        plain = _WORD.fullmatch(word) is not None and word.lower() not in _SPECIAL
        if len(_plain_words) >= _WORD_CACHE_LIMIT:
            _plain_words.clear()
        _plain_words[word] = plain
    return plain


def fast_parse_name(text: str) -> ParsedName | None:
    """The parts of a plain name (see the module doc), or None when unsure.

    `text` has single spaces between words (as parse_name passes it). Without a title
    the first word is the first name and the rest the last name, as nameparser's first /
    middles / last become here; after one title the same holds for the words after it.
    """
    words = text.split(" ")
    salutation = ""
    if len(words) >= 3:
        if _PHD.search(text) is not None:
            return None
        head = words[0]  # the set first: most first words are no title at all
        if head.lower().rstrip(".") in _PLAIN_TITLES and _TITLE_WORD.fullmatch(head):
            salutation, words = head, words[1:]
    for word in words:
        if not _plain_word(word):
            return None
    if len(words) >= 3 or salutation:  # a Roman numeral last would be a suffix
        if _ROMAN.match(words[-1]) is not None:
            return None
    if len(words) == 1:
        return ParsedName(words[0], "")
    if len(words) == 2:
        return ParsedName(words[0], words[1], salutation)
    return ParsedName(words[0], " ".join(words[1:]), salutation)


def parse_name(full: str) -> ParsedName:
    """A full name split into first, last, salutation and suffix (see the module doc)."""
    text = " ".join(full.split())
    if not text:
        return ParsedName("", "")
    return fast_parse_name(text) or _parse_with_nameparser(text)


@lru_cache(maxsize=8192)
def _parse_with_nameparser(text: str) -> ParsedName:
    if "," in text:
        before, _, after = text.partition(",")
        if not before.strip() or not after.strip():  # 'Doe,' or ', John': no parser needed
            return ParsedName(after.strip(), before.strip())
    name = HumanName(text)
    salutation, suffix = name.title, name.suffix
    if _is_last_comma_first(text, name.last):
        first = " ".join(p for p in (name.first, name.middle) if p)
        last = name.last
    else:
        first = name.first
        last = " ".join(p for p in (name.middle, name.last) if p)
    if not first and last and not salutation:  # a lone name is a first name ('Jr Smith')
        first, last = last, ""  # but 'Dr. Roe' / 'Mr Smith' keep Roe / Smith as last name
    parsed = ParsedName(first, last, salutation, suffix)
    if _words(" ".join(parsed)) != _words(text):
        # nameparser set something aside (a nickname in quotes, a symbol): a name is
        # never cut, so fall back to the plain split, first word / the rest
        return _plain_split(text)
    return parsed


def _words(text: str) -> list[str]:
    return sorted(text.replace(",", " ").split())


def _plain_split(text: str) -> ParsedName:
    if "," in text:
        last, _, first = text.partition(",")
        return ParsedName(first.strip(), last.strip())
    first, _, last = text.partition(" ")
    return ParsedName(first, last)


def _is_last_comma_first(text: str, last: str) -> bool:
    """'Berg, John Paul' (not 'John Smith, Jr.'): the part before the comma is the last name."""
    before = text.partition(",")[0].strip()
    return bool(last) and "," in text and before.endswith(last)


def split_name(full: str) -> tuple[str, str]:
    """'John van der Berg' -> ('John', 'van der Berg'); 'Doe, John' -> ('John', 'Doe')."""
    parsed = parse_name(full)
    return parsed.first, parsed.last


def join_name(first: str, last: str) -> str:
    """('John', 'Doe') -> 'John Doe', skipping empty parts."""
    return " ".join(part for part in (first.strip(), last.strip()) if part)
