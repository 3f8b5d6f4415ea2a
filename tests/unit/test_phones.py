"""Unit tests for leadflow.domain.phones: E.164 normalization, fast paths vs the library."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from leadflow.domain.phones import (
    Phone,
    _normalize_uncached,
    normalize_phone,
    slow_normalize_phone,
)

# --- examples ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("(415) 555-0134", "US", "+14155550134"),
        ("415.555.0134", "US", "+14155550134"),
        ("415-555-0134", "US", "+14155550134"),
        ("4155550134", "US", "+14155550134"),
        ("+1 415 555 0134", "US", "+14155550134"),
        ("+1 (415) 555-0134", "US", "+14155550134"),
        ("1-415-555-0134", "US", "+14155550134"),
        ("  (415) 555-0134  ", "US", "+14155550134"),
        ("+1 415 555 0134", "GB", "+14155550134"),  # +1 wins over the default region
        ("+1 800 555 0199", "US", "+18005550199"),  # toll free: through the library
        ("604 555 0134", "US", "+16045550134"),  # Canada shares +1
        ("+44 20 7946 0958", "GB", "+442079460958"),
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("+44 (0)20 7946 0958", "GB", "+442079460958"),
        ("030 123456", "DE", "+4930123456"),
        ("+49 30 123456", "US", "+4930123456"),
        ("+49-30-123456", "US", "+4930123456"),
        ("+33 1 23 45 67 89", "US", "+33123456789"),
        ("+39 06 6982 1234", "US", "+390669821234"),  # Italy keeps its leading zero
    ],
)
def test_normalize_phone_examples(raw: str, region: str, expected: str) -> None:
    assert normalize_phone(raw, region) == Phone(expected, True)
    assert slow_normalize_phone(raw.strip(), region) == Phone(expected, True)


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("abc", "US"),
        ("ext 12", "US"),
        ("phone me", "GB"),
        ("415 555 013", "US"),  # too short
        ("020 7946 0958", "US"),  # a UK national number is not a US number
        ("+999 123 456", "US"),  # no such country code
        ("123", "DE"),
    ],
)
def test_unparseable_phone_is_kept_as_given_and_flagged(raw: str, region: str) -> None:
    assert normalize_phone(raw, region) == Phone(raw, False)


@pytest.mark.parametrize("raw", [None, "", "   ", "\t\n"])
def test_empty_phone_is_none(raw: str | None) -> None:
    assert normalize_phone(raw) is None
    assert normalize_phone(raw, "GB") is None


def test_default_region_is_us() -> None:
    assert normalize_phone("(415) 555-0134") == normalize_phone("(415) 555-0134", "US")


def test_cache_is_keyed_by_region() -> None:
    assert normalize_phone("020 7946 0958", "GB") == Phone("+442079460958", True)
    assert normalize_phone("020 7946 0958", "US") == Phone("020 7946 0958", False)
    # asking again (from the cache) gives the same answers
    assert normalize_phone("020 7946 0958", "GB") == Phone("+442079460958", True)
    assert normalize_phone("020 7946 0958", "US") == Phone("020 7946 0958", False)


def test_phone_is_a_value_and_valid_pair() -> None:
    phone = normalize_phone("+44 20 7946 0958", "GB")
    assert phone is not None
    value, valid = phone
    assert (value, valid) == ("+442079460958", True)
    assert phone.value == value and phone.valid is valid


# --- fast paths agree with the library -----------------------------------------------------

REGIONS = ("US", "GB", "DE")

_digit = st.sampled_from("0123456789")
_area = st.text(alphabet="0123456789", min_size=3, max_size=3)
_exchange = st.text(alphabet="0123456789", min_size=3, max_size=3)
_line = st.text(alphabet="0123456789", min_size=4, max_size=4)
_nanp_templates = st.sampled_from(
    [
        "({a}) {e}-{l}",
        "{a}.{e}.{l}",
        "+1 {a} {e} {l}",
        "1-{a}-{e}-{l}",
        "{a}{e}{l}",
        "+1{a}{e}{l}",
        "1{a}{e}{l}",
        "+1 ({a}) {e}-{l}",
        "{a}-{e}-{l}",
        "1.{a}.{e}.{l}",
        "1 ({a}) {e} {l}",
        " {a} {e} {l} ",
    ]
)
_nanp = st.builds(
    lambda template, a, e, l_: template.format(a=a, e=e, l=l_),
    _nanp_templates,
    _area,
    _exchange,
    _line,
)


@given(_nanp, st.sampled_from(REGIONS))
@example("(415) 555-0134", "US")
@example("+1 415 555 0134", "GB")
@example("1-800-555-0199", "US")
@example("(604) 555-0134", "US")
@example("(212) 555-0100", "DE")
def test_nanp_fast_path_agrees_with_library(raw: str, region: str) -> None:
    assert _normalize_uncached(raw, region) == slow_normalize_phone(raw.strip(), region)


_TYPES = (
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    phonenumbers.PhoneNumberType.TOLL_FREE,
    phonenumbers.PhoneNumberType.PREMIUM_RATE,
    phonenumbers.PhoneNumberType.VOIP,
    phonenumbers.PhoneNumberType.PERSONAL_NUMBER,
    phonenumbers.PhoneNumberType.UAN,
)
_FORMATS = (phonenumbers.PhoneNumberFormat.INTERNATIONAL, phonenumbers.PhoneNumberFormat.E164)
EXAMPLES = sorted(
    {
        phonenumbers.format_number(number, fmt)
        for region in phonenumbers.SUPPORTED_REGIONS
        for kind in _TYPES
        if (number := phonenumbers.example_number_for_type(region, kind)) is not None
        for fmt in _FORMATS
    }
)


def test_examples_cover_every_region() -> None:
    assert len(EXAMPLES) > 2 * len(phonenumbers.SUPPORTED_REGIONS)


@st.composite
def _perturbed(draw: st.DrawFn) -> str:
    """An example number with a few digits changed, dropped, added or a separator moved."""
    chars = list(draw(st.sampled_from(EXAMPLES)))
    for _ in range(draw(st.integers(0, 3))):
        digits = [i for i, c in enumerate(chars) if c.isdigit()]
        if len(digits) < 2:
            break
        where = draw(st.sampled_from(digits[1:]))  # keep the first country-code digit
        op = draw(st.sampled_from(["replace", "delete", "insert", "separator"]))
        if op == "replace":
            chars[where] = draw(_digit)
        elif op == "delete":
            del chars[where]
        elif op == "insert":
            chars.insert(where, draw(_digit))
        else:
            chars.insert(where, draw(st.sampled_from([" ", "-", "."])))
    return "".join(chars)


@given(_perturbed(), st.sampled_from(REGIONS))
@example("+44 20 7946 0958", "US")
@example("+39 06 6982 1234", "GB")
@example("+7 912 345-67-89", "DE")  # +7 is shared by Russia and Kazakhstan
@example("+61 4 1234 5678", "US")  # +61 is shared by Australia, Christmas and Cocos Islands
def test_international_fast_path_agrees_with_library(raw: str, region: str) -> None:
    assert _normalize_uncached(raw, region) == slow_normalize_phone(raw.strip(), region)


@pytest.mark.parametrize("raw", EXAMPLES[::7])
def test_unperturbed_examples_agree_with_library(raw: str) -> None:
    for region in REGIONS:
        assert _normalize_uncached(raw, region) == slow_normalize_phone(raw, region)


# --- properties ------------------------------------------------------------------------------


@given(st.one_of(_nanp, _perturbed()), st.sampled_from(REGIONS), st.sampled_from(REGIONS))
def test_normalize_phone_is_idempotent(raw: str, region: str, again: str) -> None:
    phone = normalize_phone(raw, region)
    assert phone is not None
    if phone.valid:
        assert phone.value.startswith("+") and phone.value[1:].isdigit()
        # an E.164 value normalizes to itself, whatever the default region
        assert normalize_phone(phone.value, region) == phone
        assert normalize_phone(phone.value, again) == phone
    else:
        assert phone.value == raw.strip()


@given(st.text(alphabet="abcxyz #*()/ext", min_size=1, max_size=12), st.sampled_from(REGIONS))
def test_text_without_digits_is_never_valid(raw: str, region: str) -> None:
    phone = normalize_phone(raw, region)
    if raw.strip():
        assert phone == Phone(raw.strip(), False)
    else:
        assert phone is None


def test_us_validity_depends_only_on_the_cached_prefix() -> None:
    """The prefix cache in phones._us_valid relies on this property of the US patterns."""
    import random

    from leadflow.domain.phones import _US_PREFIX_DIGITS, _US_VALID

    rng = random.Random(7)
    rest = 10 - _US_PREFIX_DIGITS
    for number in range(10**_US_PREFIX_DIGITS):
        prefix = f"{number:0{_US_PREFIX_DIGITS}d}"
        suffixes = [
            "0" * rest,
            "9" * rest,
            *(f"{rng.randrange(10**rest):0{rest}d}" for _ in range(4)),
        ]
        answers = {_US_VALID.fullmatch(prefix + s) is not None for s in suffixes}
        assert len(answers) == 1, prefix


_SEPARATOR_CHARS = st.sampled_from([" ", ".", "-", "(", ")", ""])


@given(
    digits=st.text(alphabet="0123456789", min_size=7, max_size=13),
    separators=st.lists(_SEPARATOR_CHARS, min_size=14, max_size=14),
    plus=st.booleans(),
    region=st.sampled_from(["US", "CA", "GB", "DE"]),
)
def test_fast_paths_agree_with_the_library_for_any_separators(
    digits: str, separators: list[str], plus: bool, region: str
) -> None:
    """Digits with separators scattered anywhere: the fast path never disagrees."""
    text = ("+" if plus else "") + "".join(
        d + sep for d, sep in zip(digits, separators, strict=False)
    )
    assert _normalize_uncached(text, region) == slow_normalize_phone(text.strip(), region)


@given(
    area=st.integers(200, 999),
    exchange=st.integers(200, 999),
    line=st.integers(0, 9999),
    shape=st.sampled_from(
        [
            "({a}) {e}-{l}",
            "{a}.{e}.{l}",
            "+1 {a} {e} {l}",
            "1-{a}-{e}-{l}",
            "{a}{e}{l}",
            "+1({a}){e}-{l}",
            "1 ({a}) {e} {l}",
            "{a} {e}{l}",
        ]
    ),
    region=st.sampled_from(["US", "CA", "GB"]),
)
def test_nanp_fast_path_agrees_with_the_library(
    area: int, exchange: int, line: int, shape: str, region: str
) -> None:
    text = shape.format(a=area, e=exchange, l=f"{line:04d}")
    assert _normalize_uncached(text, region) == slow_normalize_phone(text, region)


# --- numbers as spreadsheets write them, and extensions ------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("4155550107.0", "+14155550107"),
        ("4155550107.00", "+14155550107"),
        ("4,155,550,142", "+14155550142"),
        ("4.155550112E9", "+14155550112"),
        ("4.155550112e+09", "+14155550112"),
        ("14155550112.0", "+14155550112"),
    ],
)
def test_spreadsheet_numbers_are_read_back_when_no_digit_is_lost(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == Phone(expected, True)


@pytest.mark.parametrize("raw", ["4.16E+09", "4.1555501E9", "4.2e9", "1E10"])
def test_lossy_scientific_numbers_are_kept_as_given_and_flagged(raw: str) -> None:
    assert normalize_phone(raw) == Phone(raw, False)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("(415) 555-0109 x101", "+14155550109;ext=101"),
        ("(415) 555-0109 X101", "+14155550109;ext=101"),
        ("415.555.0109x7", "+14155550109;ext=7"),
        ("(415) 555-0109 ext. 230", "+14155550109;ext=230"),
        ("(415) 555-0109 ext 230", "+14155550109;ext=230"),
        ("(415) 555-0109 Ext.230", "+14155550109;ext=230"),
        ("415-555-0109;ext=230", "+14155550109;ext=230"),
        ("415 555 0109 #230", "+14155550109;ext=230"),
        ("+1 415 555 0109 extension 12", "+14155550109;ext=12"),
        ("+44 20 7946 0958 x12", "+442079460958;ext=12"),
        ("+14155550109;ext=101", "+14155550109;ext=101"),  # the stored form reads back
    ],
)
def test_extensions_are_kept_with_the_number(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == Phone(expected, True)


@pytest.mark.parametrize("raw", ["x101", "ext 123", "#230", "4.16E+09 x1"])
def test_an_extension_without_a_valid_number_is_flagged(raw: str) -> None:
    assert normalize_phone(raw) == Phone(raw, False)


_extension_form = st.sampled_from([" x", " X", "x", " ext. ", " ext ", " ext.", ";ext=", " #"])


@given(
    st.sampled_from(
        ["(415) 555-0109", "415.555.0134", "+1 212 555 0100", "+44 20 7946 0958", "020 7946 0958"]
    ),
    _extension_form,
    st.from_regex(r"[0-9]{1,6}", fullmatch=True),
    st.sampled_from(["US", "GB"]),
)
def test_extensions_agree_with_phonenumbers(
    number: str, form: str, extension: str, region: str
) -> None:
    """Our extension split + fast paths give what phonenumbers parses from the whole text."""
    raw = f"{number}{form}{extension}"
    ours = normalize_phone(raw, region)
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        assert ours == Phone(raw, False)
        return
    if not phonenumbers.is_valid_number(parsed):
        assert ours == Phone(raw, False)
        return
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    assert parsed.extension == extension
    assert ours == Phone(f"{e164};ext={extension}", True)


@given(st.integers(min_value=2_000_000_000, max_value=9_999_999_999))
def test_float_renderings_of_a_number_agree_with_its_digits(number: int) -> None:
    plain = normalize_phone(str(number))
    assert plain is not None
    for rendering in (f"{number}.0", f"{number:,}", f"{number / 1e9:.9f}E9"):
        # the same number, or flagged as given when the digits are not a valid number
        expected = plain if plain.valid else Phone(rendering, False)
        assert normalize_phone(rendering) == expected


@given(
    st.from_regex(r"0[0-9]{6,14}", fullmatch=True),
    st.sampled_from([" ", "", "-", "."]),
    st.sampled_from(["US", "CA", "PR", "JM"]),
)
@example("02079460958", " ", "US")
@example("0114420794609", " ", "US")
def test_leading_zero_numbers_in_nanp_regions_agree_with_the_library(
    digits: str, separator: str, region: str
) -> None:
    text = separator.join([digits[:3], digits[3:7], digits[7:]]).strip(separator)
    assert _normalize_uncached(text, region) == slow_normalize_phone(text, region)


@given(
    st.sampled_from(["ext ", "ext. ", "x", "X", "#", ";ext=", "extension ", " ext "]),
    st.from_regex(r"[0-9]{1,7}", fullmatch=True),
    st.sampled_from(["US", "CA", "GB"]),
)
def test_an_extension_alone_agrees_with_the_library(form: str, digits: str, region: str) -> None:
    text = f"{form}{digits}"
    assert _normalize_uncached(text, region) == slow_normalize_phone(text.strip(), region)


def test_an_extension_alone_is_never_a_number() -> None:
    # where the library would read 'ext 30000' as the (German) number 30000, we do not:
    # the digits after 'ext' are an extension, and there is no number to dial
    assert slow_normalize_phone("ext 30000", "DE").valid
    assert normalize_phone("ext 30000", "DE") == Phone("ext 30000", False)


@given(
    area=st.integers(200, 999),
    exchange=st.integers(200, 999),
    line=st.integers(0, 9999),
    shape=st.sampled_from(
        ["({a}) {e}-{l}", "+1 {a} {e} {l}", "{a}{e}{l}", "+44 20 {e}{l}", "+49 30 {a}{l}"]
    ),
    before=st.sampled_from(["", " ", "  ", "\t"]),
    after=st.sampled_from(["", " ", "\n", "  "]),
    region=st.sampled_from(["US", "GB", "DE"]),
)
def test_surrounding_spaces_never_change_the_answer(
    area: int, exchange: int, line: int, shape: str, before: str, after: str, region: str
) -> None:
    text = shape.format(a=area, e=exchange, l=f"{line:04d}")
    expected = slow_normalize_phone(text, region)
    assert normalize_phone(before + text + after, region) == expected
