"""Full name <-> first/last name, with salutations and suffixes kept apart (nameparser).

`"Dr. Jane Roe"` is first Jane, last Roe, salutation "Dr."; `"John Smith, Jr."` is first
John, last Smith, suffix "Jr."; `"Doe, John"` is first John, last Doe. Middle names go
with the last name (`"José García López"` -> José / García López), except in the
`Last, First Middle` form where they are given names (`"Berg, John Paul"` -> John Paul).

nameparser costs tens of microseconds a name; the plain `First Last` case (two words of
letters, neither a title, suffix, prefix or conjunction nameparser knows) takes a fast
path that gives the same answer (a property test checks it), and the rest is cached.
"""

from __future__ import annotations

import re
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


_WORD = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*")
# Every word nameparser treats specially, lower-case without dots (as it compares them).
_SPECIAL = frozenset(
    word.lower().replace(".", "")
    for group in (
        CONSTANTS.titles,
        CONSTANTS.suffix_acronyms,
        CONSTANTS.suffix_not_acronyms,
        CONSTANTS.prefixes,
        CONSTANTS.conjunctions,
    )
    for word in group
)


def _plain_word(word: str) -> bool:
    return _WORD.fullmatch(word) is not None and word.lower() not in _SPECIAL


def fast_parse_name(text: str) -> ParsedName | None:
    """The parts of a plain 'First Last' or 'First' name, or None when unsure."""
    words = text.split()
    if len(words) == 2 and _plain_word(words[0]) and _plain_word(words[1]):
        return ParsedName(words[0], words[1])
    if len(words) == 1 and _plain_word(words[0]):
        return ParsedName(words[0], "")
    return None


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
