"""Phone normalization to E.164 with phonenumbers, fast paths and a bounded cache.

phonenumbers costs about 25 us a call. For numbers written as digits and the usual
separators (space, dot, dash, parentheses), two fast paths check the digits against the
library's own metadata patterns instead:
- North American numbers ("(415) 555-0134", "415.555.0134", "+1 415 555 0134");
- international numbers written with +country code ("+44 20 7946 0958").
Each fast path only ever says "valid, and this is its E.164"; whenever it is unsure
(national prefixes, leading zeros, shared country codes with leading-digit rules) the
number goes through the library. A property test checks both paths agree.
Results are cached by raw string.

Spreadsheet renderings of a number are read back when no digit is lost: `4155550107.0`,
`4,155,550,142` and `4.155550112E9` are 4155550107 / 4155550142 / 4155550112; a lossy
scientific form (`4.16E+09`) is kept as given and flagged (valid False), never guessed.

Extensions (`x101`, `ext. 230`, `ext 230`, `;ext=230`, `#230`) are kept: a valid number
is stored as E.164 plus the RFC 3966 extension parameter, `+14155550109;ext=101`.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

import phonenumbers


def _pattern(desc: phonenumbers.PhoneNumberDesc | None) -> str | None:
    return None if desc is None else desc.national_number_pattern


def _lengths(desc: phonenumbers.PhoneNumberDesc | None) -> frozenset[int]:
    return frozenset(desc.possible_length or ()) if desc is not None else frozenset()


_US = phonenumbers.PhoneMetadata.metadata_for_region("US")
assert _US is not None
_US_VALID = re.compile(f"(?:{_pattern(_US.fixed_line)})|(?:{_pattern(_US.mobile)})")
_NANP_REGIONS = frozenset(phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1])
_NXX = frozenset("23456789")  # NANP area codes and exchanges never start with 0 or 1
_CACHE_LIMIT = 20_000
_MISSING = object()


class Phone(NamedTuple):
    """A phone as stored: E.164 when valid, else the input as given (flagged)."""

    value: str
    valid: bool


_cache: dict[str, dict[str, Phone | None]] = {}  # region -> raw text -> result


def normalize_phone(raw: str | None, region: str = "US") -> Phone | None:
    """None for an empty value; Phone(e164, True) when parseable; Phone(raw, False) if not.

    A valid number with an extension is 'E.164;ext=DIGITS' ('+14155550109;ext=101').
    """
    if raw is None:
        return None
    cache = _cache.get(region)
    if cache is None:
        cache = _cache[region] = {}
    result = cache.get(raw, _MISSING)
    if result is _MISSING:
        result = _normalize_uncached(raw, region)
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()  # bounded memory on million-row files; the cache refills quickly
        cache[raw] = result
    return result  # type: ignore[return-value]


_EXTENSION = re.compile(
    r"(?:\s*;\s*ext=|\s*(?:extension|ext\.?|x|#)\s*)(\d{1,7})\s*$", re.IGNORECASE
)
_DECIMAL_ZERO = re.compile(r"(\d+)\.0+")
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+")
_SCIENTIFIC = re.compile(r"(\d+)(?:\.(\d+))?[eE]\+?(\d{1,2})")
EXTENSION_SEPARATOR = ";ext="


class LossyNumber(ValueError):
    """A spreadsheet number that lost digits (4.16E+09): the phone cannot be known."""


def spreadsheet_number(text: str) -> str:
    """The digits of a number a spreadsheet wrote as one, or the text unchanged.

    '4155550107.0' -> '4155550107', '4,155,550,142' -> '4155550142',
    '4.155550112E9' -> '4155550112'; LossyNumber for '4.16E+09' (digits were dropped).
    """
    if not text[:1].isdigit() or text.isdigit():
        return text
    match = _DECIMAL_ZERO.fullmatch(text)
    if match is not None:
        return match.group(1)
    if _THOUSANDS.fullmatch(text) is not None:
        return text.replace(",", "")
    match = _SCIENTIFIC.fullmatch(text)
    if match is not None:
        whole, fraction, _ = match.groups()
        try:
            value = Decimal(text)
        except InvalidOperation:  # pragma: no cover - the regex admits only numbers
            return text
        digits = str(int(value)) if value == value.to_integral_value() else ""
        written = (whole + (fraction or "")).lstrip("0")
        if not digits or len(written) < len(digits):
            raise LossyNumber(text)
        return digits
    return text


def split_extension(text: str) -> tuple[str, str]:
    """'(415) 555-0109 x101' -> ('(415) 555-0109', '101'); ('ext 11' -> ('', '11'));
    no extension: (text, '')."""
    if "x" not in text and "X" not in text and "#" not in text:  # every form has one
        return text, ""
    match = _EXTENSION.search(text)
    if match is None:
        return text, ""
    return text[: match.start()].rstrip(), match.group(1)


def _normalize_uncached(raw: str, region: str) -> Phone | None:
    text = raw.strip()
    if not text:
        return None
    try:
        number = spreadsheet_number(text)
    except LossyNumber:
        return Phone(text, False)
    base, extension = split_extension(number)
    if not base:  # an extension alone ('ext 11'): no number to dial
        return Phone(text, False)
    phone = _normalize_number(base, region)
    if phone is None or not phone.valid:
        return Phone(text, False)
    if extension:
        if EXTENSION_SEPARATOR in phone.value:  # the library found one too: ours is it
            return Phone(text, False)
        return Phone(f"{phone.value}{EXTENSION_SEPARATOR}{extension}", True)
    return phone


def _normalize_number(text: str, region: str) -> Phone | None:
    if not text:
        return None
    plus = text[0] == "+"
    digits = _without_separators(text[1:] if plus else text)
    if digits.isascii() and digits.isdigit():
        national = _nanp_national(digits, plus, region)
        if national is not None:
            if _us_valid(national):
                return Phone("+1" + national, True)
        elif plus and "(" not in text and ")" not in text and _international_is_valid(digits):
            return Phone("+" + digits, True)
        elif _nanp_never_valid(digits, plus, region):
            return Phone(text, False)
    return slow_normalize_phone(text, region)


def _without_separators(text: str) -> str:
    """`text` without spaces, dashes, parentheses and dots (str.translate would look each
    character up in a table: a third slower)."""
    return text.replace(" ", "").replace("-", "").replace("(", "").replace(")", "").replace(".", "")


def _nanp_never_valid(digits: str, plus: bool, region: str) -> bool:
    """A number written nationally for another country ('020 7946 0958') read in a North
    American region: a leading 0 that is not the 011 international prefix is never valid
    there (a property test checks this against the library), and the library's answer
    costs the most of all (it tries every NANP region)."""
    return not plus and digits[:1] == "0" and digits[:3] != "011" and region in _NANP_REGIONS


def _nanp_national(digits: str, plus: bool, region: str) -> str | None:
    """The 10-digit national number of a North American number, or None."""
    if len(digits) == 11 and digits[0] == "1" and digits[1] in _NXX:
        if plus or region in _NANP_REGIONS:
            return digits[1:]
    elif len(digits) == 10 and not plus and digits[0] in _NXX and region in _NANP_REGIONS:
        return digits
    return None


# The US patterns only constrain the area code and the exchange's first digit (a test
# checks this over every such prefix), so validity is cached per 4-digit prefix.
_US_PREFIX_DIGITS = 4
_us_prefixes: dict[str, bool] = {}


def _us_valid(national: str) -> bool:
    prefix = national[:_US_PREFIX_DIGITS]
    valid = _us_prefixes.get(prefix)
    if valid is None:
        if len(_us_prefixes) >= _CACHE_LIMIT:
            _us_prefixes.clear()
        valid = _us_prefixes[prefix] = _US_VALID.fullmatch(national) is not None
    return valid


class _CountryRule(NamedTuple):
    prefix: re.Pattern[str] | None  # national prefix for parsing: if it matches, go slow
    general: re.Pattern[str]
    general_lengths: frozenset[int]
    number: re.Pattern[str]  # fixed line | mobile
    number_lengths: frozenset[int]


_rules: dict[int, _CountryRule | None] = {}


def _country_rule(code: int) -> _CountryRule | None:
    """The main region's patterns for a country code, or None where no fast path is safe."""
    if code in _rules:
        return _rules[code]
    rule = None
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code, ())
    meta = phonenumbers.PhoneMetadata.metadata_for_region(regions[0]) if regions else None
    # A main region with leading-digit rules shares its code in ways only the library knows.
    if meta is not None and code != 1 and meta.leading_digits is None:
        fixed, mobile = _pattern(meta.fixed_line), _pattern(meta.mobile)
        general = _pattern(meta.general_desc)
        if fixed and mobile and general:
            prefix = meta.national_prefix_for_parsing or meta.national_prefix
            rule = _CountryRule(
                prefix=re.compile(prefix) if prefix else None,
                general=re.compile(general),
                general_lengths=_lengths(meta.general_desc),
                number=re.compile(f"(?:{fixed})|(?:{mobile})"),
                number_lengths=_lengths(meta.fixed_line) | _lengths(meta.mobile),
            )
    _rules[code] = rule
    return rule


def _international_is_valid(digits: str) -> bool:
    for size in (1, 2, 3):
        code = int(digits[:size])
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return False
    rule = _country_rule(code)
    national = digits[size:]
    if rule is None or not national or national[0] == "0":
        return False
    if rule.prefix is not None and rule.prefix.match(national):
        return False
    size = len(national)
    if rule.general_lengths and size not in rule.general_lengths:
        return False
    if rule.number_lengths and size not in rule.number_lengths:
        return False
    return bool(rule.general.fullmatch(national) and rule.number.fullmatch(national))


def slow_normalize_phone(text: str, region: str) -> Phone:
    """The reference path: phonenumbers parse + is_valid_number + E.164 format."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return Phone(text, False)
    if not phonenumbers.is_valid_number(number):
        return Phone(text, False)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if number.extension:  # a form the extension pattern above does not know ('anexo 12')
        return Phone(f"{e164}{EXTENSION_SEPARATOR}{number.extension}", True)
    return Phone(e164, True)
