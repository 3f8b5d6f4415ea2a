"""Unit tests for leadflow.domain.emails (SPEC 'Duplicates': the key is the normalized email)."""

from __future__ import annotations

import random
from typing import Any
from unittest import mock

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from leadflow.domain import emails
from leadflow.domain.emails import (
    NO_EMAIL_MARKERS,
    InvalidEmail,
    is_no_email,
    normalize_email,
)

_SPECIAL_TLDS = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})
# The common shape of an address: a dot-atom local part and a DNS domain.
_FAST = (
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)

# --- examples ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("john@example.com", "john@example.com"),
        ("  John.Doe@Example.COM  ", "john.doe@example.com"),
        ("\tJANE@ACME.IO\n", "jane@acme.io"),
        ("first.last+tag@sub.example.co.uk", "first.last+tag@sub.example.co.uk"),
        ("o'brien@example.ie", "o'brien@example.ie"),
        ("a@1.com", "a@1.com"),
        # IDNA: the domain is stored in its ASCII (punycode) form
        ("user@Bücher.de", "user@xn--bcher-kva.de"),
        ("USER@BÜCHER.DE", "user@xn--bcher-kva.de"),
        ("user@xn--bcher-kva.de", "user@xn--bcher-kva.de"),
        ("info@münchen.example", "info@xn--mnchen-3ya.example"),
        # an internationalized local part is kept, lower-cased
        ("Jöhn@example.com", "jöhn@example.com"),
    ],
)
def test_normalize_email_examples(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw", [None, "", "   ", "n/a", "N/A", " n/a ", "null", "NULL", "None", "none", "NONE"]
)
def test_no_email_markers_mean_no_email(raw: str | None) -> None:
    assert normalize_email(raw) is None
    assert is_no_email(raw)


@pytest.mark.parametrize("marker", sorted(NO_EMAIL_MARKERS))
def test_every_marker_is_no_email(marker: str) -> None:
    assert normalize_email(marker) is None
    assert normalize_email(marker.upper()) is None
    assert is_no_email(f"  {marker.upper()} ")


@pytest.mark.parametrize("raw", ["john@example.com", "x", "n/a@example.com", "nullable"])
def test_is_no_email_false_for_other_values(raw: str) -> None:
    assert not is_no_email(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "john",
        "john@",
        "@example.com",
        "john@example",
        "john@@example.com",
        "john doe@example.com",
        "john@exa mple.com",
        ".john@example.com",
        "john.@example.com",
        "jo..hn@example.com",
        "john@-example.com",
        "john@example-.com",
        "john@example..com",
        "john@example.com.",
        "john@example.123",
        "john@" + "a" * 64 + ".com",
        "a@" + ".".join(["b" * 60] * 5) + ".com",
        # special-use names email-validator rejects
        "john@example.test",
        "john@host.local",
        "john@localhost.localhost",
        "john@x.invalid",
        "john@abc.onion",
        "john@1.in-addr.arpa",
    ],
)
def test_malformed_email_raises_invalid_email(raw: str) -> None:
    with pytest.raises(InvalidEmail):
        normalize_email(raw)


def test_long_local_part_follows_email_validator() -> None:
    # email-validator (non-strict) accepts a local part over 64 characters; the fast path
    # steps aside for it and the result is the library's.
    addr = "a" * 65 + "@example.com"
    assert normalize_email(addr) == _reference(addr) == addr


def test_invalid_email_is_a_value_error_with_a_message() -> None:
    with pytest.raises(ValueError, match=r"@") as info:
        normalize_email("john@")
    assert isinstance(info.value, InvalidEmail)
    assert str(info.value)


@pytest.mark.parametrize(
    "raw",
    [
        "a@ab--cd.com",  # R-LDH label (RFC 5890): two characters then '--', not 'xn'
        "john@mail.zz--top.org",
        "a@xn--zz.com",  # looks like punycode but is not valid IDNA
        "a@xn--a.com",
    ],
)
def test_domains_idna_forbids_are_invalid(raw: str) -> None:
    """email-validator rejects these; the fast path must not let them through."""
    with pytest.raises(EmailNotValidError):
        validate_email(raw, check_deliverability=False)
    with pytest.raises(InvalidEmail):
        normalize_email(raw)


# --- the regex fast path agrees with email-validator -------------------------------------


def _fast_path(addr: str) -> tuple[bool, str | None]:
    """(whether normalize_email answered without giving email-validator the address, its
    answer). The fast path may ask email-validator about the domain alone (once per
    domain, as 'a@domain'); it never hands it the whole address.

    email-validator is spied on rather than the fast-path guard mirrored here, so the
    test follows the guard as it changes.
    """
    emails._domains.clear()
    calls: list[str] = []
    real = emails.validate_email

    def spy(value: str, **kwargs: Any) -> Any:
        calls.append(value)
        return real(value, **kwargs)

    with mock.patch.object(emails, "validate_email", spy):
        try:
            value = normalize_email(addr)
        except InvalidEmail:
            return False, None
    whole = addr.strip().lower()
    return all(call.startswith("a@") and call != whole for call in calls), value


def _reference(addr: str) -> str:
    result = validate_email(addr, check_deliverability=False)
    return f"{result.local_part.lower()}@{result.ascii_domain.lower()}"


# Domain labels built to exercise the hyphen rules (R-LDH labels "ab--..", "xn--" labels)
# that plain regex generation only rarely reaches.
_label = st.one_of(
    st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,12}[a-z0-9])?", fullmatch=True),
    st.from_regex(r"[a-z0-9]{2}--[a-z0-9]{1,8}", fullmatch=True),
    st.from_regex(r"xn--[a-z0-9]{1,10}", fullmatch=True),
)
_hyphen_rich = st.builds(
    lambda local, labels, tld: f"{local}@{'.'.join(labels)}.{tld}",
    st.from_regex(r"[a-z0-9._%+-]{1,20}", fullmatch=True).filter(
        lambda s: not s.startswith(".") and not s.endswith(".") and ".." not in s
    ),
    st.lists(_label, min_size=1, max_size=3),
    st.from_regex(r"[a-z]{2,6}", fullmatch=True),
)


@settings(suppress_health_check=[HealthCheck.filter_too_much])
@given(st.one_of(st.from_regex(_FAST, fullmatch=True), _hyphen_rich))
@example("a@ab--cd.com")  # an R-LDH label: RFC 5890 forbids it, email-validator rejects it
@example("a@xn--zz.com")  # an 'xn--' label that is not valid punycode
@example("a@xn--a.com")
@example("first.last+tag@sub.example.co.uk")
def test_fast_path_accepts_only_what_email_validator_accepts(addr: str) -> None:
    fast, value = _fast_path(addr)
    assume(fast)
    try:
        expected = _reference(addr)
    except EmailNotValidError as exc:  # pragma: no cover - only on a fast-path bug
        pytest.fail(f"fast path accepts {addr!r} but email-validator rejects it: {exc}")
    assert expected == addr
    assert value == expected


@pytest.mark.parametrize(
    "addr", ["john@example.com", "first.last+tag@sub.example.co.uk", "a_b-c@mail-1.example.io"]
)
def test_common_addresses_take_the_fast_path(addr: str) -> None:
    # keeps the property above from passing vacuously
    assert _fast_path(addr) == (True, addr)


@given(st.one_of(st.from_regex(_FAST, fullmatch=True), _hyphen_rich))
def test_normalize_agrees_with_email_validator_whenever_either_accepts(addr: str) -> None:
    """Whatever path normalize_email takes, it accepts exactly what email-validator does."""
    try:
        expected: str | None = _reference(addr)
    except EmailNotValidError:
        expected = None
    if expected is None:
        with pytest.raises(InvalidEmail):
            normalize_email(addr)
    else:
        assert normalize_email(addr) == expected


# --- properties ----------------------------------------------------------------------------

_any_address = st.one_of(
    st.emails(),
    st.from_regex(_FAST, fullmatch=True),
    st.builds(
        lambda local, domain: f"{local}@{domain}",
        st.from_regex(r"[A-Za-z0-9._+-]{1,12}", fullmatch=True),
        st.sampled_from(["Bücher.de", "MÜNCHEN.example", "例え.jp", "Example.COM", "xn--p1ai.ru"]),
    ),
)


@given(_any_address)
def test_normalize_email_is_idempotent(raw: str) -> None:
    try:
        once = normalize_email(raw)
    except InvalidEmail:
        assume(False)
        return
    assert once is not None
    assert normalize_email(once) == once


@given(
    st.from_regex(r"[a-z0-9]{1,10}@[a-z0-9]{1,10}\.[a-z]{2,6}", fullmatch=True),
    st.text(alphabet=" \t\n", max_size=3),
    st.text(alphabet=" \t\n", max_size=3),
    st.randoms(use_true_random=False),
)
def test_case_and_surrounding_whitespace_do_not_change_the_key(
    addr: str, before: str, after: str, rnd: random.Random
) -> None:
    assume(addr.rpartition(".")[2] not in _SPECIAL_TLDS)
    expected = normalize_email(addr)
    mixed = "".join(c.upper() if rnd.random() < 0.5 else c for c in addr)
    assert normalize_email(before + mixed + after) == expected
    assert normalize_email(addr.upper()) == expected


@given(_any_address)
def test_normalized_email_is_lower_case_and_trimmed(raw: str) -> None:
    try:
        value = normalize_email(raw)
    except InvalidEmail:
        assume(False)
        return
    assert value is not None
    assert value == value.strip()
    assert value == value.lower()
    local, at, domain = value.rpartition("@")
    assert at == "@" and local
    assert domain.isascii()  # the domain is IDNA ASCII


# --- addresses as people paste them ------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("\u200bjane.roe@example.com", "jane.roe@example.com"),  # zero-width space
        ("amy.doe@example.com\u00a0 ", "amy.doe@example.com"),  # no-break space
        ("\ufeffjane@example.com", "jane@example.com"),  # a byte-order mark
        ("ja\u00adne@example.com", "jane@example.com"),  # a soft hyphen
        ("jane@exam\u200dple.com\u2060", "jane@example.com"),
        ("mailto:Jane@Example.com", "jane@example.com"),
        ("MAILTO:jane@example.com?subject=hi", "jane@example.com"),
        ("Jane Roe <Jane.Roe@Example.com>", "jane.roe@example.com"),
        ('"Roe, Jane" <jane@example.com>', "jane@example.com"),
        ("<jane@example.com>", "jane@example.com"),
    ],
)
def test_pasted_decorations_are_removed(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected
    assert emails.parse_email_cell(raw) == (expected, ())


@pytest.mark.parametrize(
    ("raw", "email", "others"),
    [
        ("jane.roe@example.com; jane@example.org", "jane.roe@example.com", ("jane@example.org",)),
        ("a@x.com, b@y.com,c@z.com", "a@x.com", ("b@y.com", "c@z.com")),
        ("a@x.com b@y.com", "a@x.com", ("b@y.com",)),
        ("a@x.com ::: B@Y.com", "a@x.com", ("b@y.com",)),  # Google Contacts' separator
        ("bad@; b@y.com", "b@y.com", ("bad@",)),  # the first VALID one
        ("Jane <a@x.com>, Sam <b@y.com>", "a@x.com", ("b@y.com",)),
        ("a@x.com; A@X.com", "a@x.com", ()),  # the same address twice is one address
    ],
)
def test_a_cell_with_several_addresses_keeps_the_first_valid_one(
    raw: str, email: str, others: tuple[str, ...]
) -> None:
    assert emails.parse_email_cell(raw) == (email, others)


def test_a_cell_without_any_valid_address_is_invalid() -> None:
    with pytest.raises(InvalidEmail):
        emails.parse_email_cell("a@; b@@c")
    assert emails.parse_email_cell(None) == (None, ())
    assert emails.parse_email_cell(" n/a ") == (None, ())


_IDN_DOMAINS = ["bücher.de", "münchen.example", "例え.jp", "straße.de", "xn--p1ai.ru", "ëxample.fr"]
_local = st.from_regex(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,10}(\.[A-Za-z0-9_+-]{1,8}){0,2}", fullmatch=True
)
_domain = st.one_of(
    st.sampled_from(_IDN_DOMAINS),
    st.sampled_from(_IDN_DOMAINS).map(str.upper),
    st.from_regex(r"[a-z0-9-]{1,12}\.(com|de|co\.uk|io|test|xn--p1ai)", fullmatch=True),
)
_pasted = st.builds(
    lambda before, local, domain, after: f"{before}{local}@{domain}{after}",
    st.sampled_from(["", " ", "  ", "\t", "\u00a0", "\u200b"]),
    _local,
    _domain,
    st.sampled_from(["", " ", "\n", "\u00a0 ", "\ufeff"]),
)


@given(_pasted)
@example("User1.Mueller@BÜCHER.DE ")
@example("x@straße.de")
def test_every_path_agrees_with_email_validator_on_pasted_idn_input(raw: str) -> None:
    """Mixed case, surrounding spaces, invisible characters and internationalized domains:
    normalize_email (domain cache or not) answers what email-validator answers on the
    cleaned, lower-cased text."""
    cleaned = emails.clean_email_text(raw).lower()
    try:
        expected: str | None = _reference(cleaned)
    except EmailNotValidError:
        expected = None
    for _ in range(2):  # the second time, the domain comes from the cache
        if expected is None:
            with pytest.raises(InvalidEmail):
                normalize_email(raw)
        else:
            assert normalize_email(raw) == expected


_invisible_inside = st.builds(
    lambda raw, at, char: raw[:at] + char + raw[at:],
    _pasted,
    st.integers(min_value=0, max_value=30),
    st.sampled_from(["", "\u200b", "\u00ad", "\ufeff", "\u2060", "\u00a0"]),
)


@given(_invisible_inside)
@example("user3.nguyen@straße.de")
@example("Us\u200ber@Bücher.de ")
def test_a_one_address_cell_agrees_with_normalize_email(raw: str) -> None:
    """parse_email_cell's fast path for one non-ASCII address (invisible characters
    anywhere) gives what normalize_email gives for the cleaned cell."""
    try:
        expected: str | None = normalize_email(emails.clean_email_text(raw))
    except InvalidEmail:
        with pytest.raises(InvalidEmail):
            emails.parse_email_cell(raw)
        return
    assert emails.parse_email_cell(raw) == emails.EmailCell(expected)


def test_an_idn_domain_is_checked_once() -> None:
    emails._domains.clear()
    calls: list[str] = []
    real = emails.validate_email

    def spy(value: str, **kwargs: Any) -> Any:
        calls.append(value)
        return real(value, **kwargs)

    with mock.patch.object(emails, "validate_email", spy):
        for n in range(50):
            assert normalize_email(f" User{n}@Bücher.de") == f"user{n}@xn--bcher-kva.de"
    assert calls == ["a@bücher.de"]


def test_one_address_with_a_space_is_not_split() -> None:
    """Splitting needs two @: 'john doe@x.com' is one malformed address, not 'doe@x.com'."""
    with pytest.raises(InvalidEmail):
        emails.parse_email_cell("john doe@example.com")


@given(
    st.from_regex(r"[a-z0-9.]{0,6}@[a-z0-9.@]{0,6}@[a-z0-9.]{0,8}", fullmatch=True),
)
@example("user1@@broken")
@example("a@b@example.com")
def test_two_at_signs_without_quotes_are_rejected_like_email_validator(addr: str) -> None:
    with pytest.raises(EmailNotValidError):
        validate_email(addr, check_deliverability=False)
    with pytest.raises(InvalidEmail):
        normalize_email(addr)
