"""Phone normalization to E.164 with phonenumbers, a NANP fast path and a bounded cache.

phonenumbers costs about 20 us a call. North American numbers in the usual shapes
("(415) 555-0134", "415.555.0134", "+1 415 555 0134") are checked against the library's
own US metadata pattern with one regex instead; everything else, and every number the
fast path is unsure of, goes through the library. Results are cached by raw string.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import phonenumbers

_NANP_SHAPE = re.compile(r"(?:\+?1[\s.-]?)?\(?([2-9]\d{2})\)?[\s.-]?(\d{3})[\s.-]?(\d{4})")
_US = phonenumbers.PhoneMetadata.metadata_for_region("US")
_US_VALID = re.compile(
    f"(?:{_US.fixed_line.national_number_pattern})|(?:{_US.mobile.national_number_pattern})"
)
_NANP_REGIONS = frozenset(phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1])
_CACHE_LIMIT = 200_000


class Phone(NamedTuple):
    """A phone as stored: E.164 when valid, else the input as given (flagged)."""

    value: str
    valid: bool


_cache: dict[tuple[str, str], Phone | None] = {}


def normalize_phone(raw: str | None, region: str = "US") -> Phone | None:
    """None for an empty value; Phone(e164, True) when parseable; Phone(raw, False) if not."""
    if raw is None:
        return None
    key = (raw, region)
    try:
        return _cache[key]
    except KeyError:
        pass
    result = _normalize_uncached(raw, region)
    if len(_cache) >= _CACHE_LIMIT:
        _cache.clear()  # bounded memory on million-row files; the cache refills quickly
    _cache[key] = result
    return result


def _normalize_uncached(raw: str, region: str) -> Phone | None:
    text = raw.strip()
    if not text:
        return None
    if region in _NANP_REGIONS or text.startswith("+1"):
        match = _NANP_SHAPE.fullmatch(text)
        if match is not None:
            national = "".join(match.groups())
            if _US_VALID.fullmatch(national):
                return Phone("+1" + national, True)
    return slow_normalize_phone(text, region)


def slow_normalize_phone(text: str, region: str) -> Phone:
    """The reference path: phonenumbers parse + is_valid_number + E.164 format."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return Phone(text, False)
    if not phonenumbers.is_valid_number(number):
        return Phone(text, False)
    return Phone(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), True)
