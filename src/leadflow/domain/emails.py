"""Email normalization: clean, trim, lower-case, IDNA domain, syntax check.

What people paste is cleaned first: zero-width characters, byte-order marks and soft
hyphens are removed, no-break spaces become spaces, and `mailto:` or the display-name
form `Jane Roe <jane@x.com>` give the bare address.

Addresses whose part before the @ is a plain ASCII dot-atom take a fast path: that part
is checked with a regex, and the domain is checked by email-validator once per distinct
domain (real files repeat few domains), IDNA included. Anything else goes through
email-validator whole. Both give the same answer (a property test checks it).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from email_validator import EmailNotValidError, validate_email

NO_EMAIL_MARKERS = frozenset({"", "n/a", "na", "null", "none", "-", "nil"})

_LOCAL = re.compile(r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_MAX_LENGTH = 254  # RFC 3696 errata 1690, as email-validator checks it (UTF-8 bytes)
_DOMAIN_CACHE_LIMIT = 50_000
# Invisible characters pasted with addresses: removed. No-break spaces: plain spaces.
_INVISIBLE = {
    **dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u200e\u200f"), None),
    **dict.fromkeys(map(ord, "\u00a0\u2007\u202f\u3000"), " "),
}
# Whether a text holds any of _INVISIBLE's characters: translate() looks each character
# up in the table (3 us for an address), the search does not (0.3 us).
_HAS_INVISIBLE = re.compile("[" + "".join(map(chr, _INVISIBLE)) + "]")
_DISPLAY_FORM = re.compile(r"<([^<>]*)>")
_SEPARATORS = re.compile(r":::|[;,\s]+")
# a display name (quoted, or up to the previous separator) and its <address>
_NAMED_ADDRESS = re.compile(r'(?:"[^"]*"|[^;,<>"])*<([^<>]*)>')
_NEEDS_SPLIT = re.compile(r"[\s;,<:]")


class InvalidEmail(ValueError):
    """The value is present but is not a syntactically valid email address."""


class EmailCell(NamedTuple):
    """An email cell: its address (None for 'no email') and any further addresses."""

    email: str | None
    others: tuple[str, ...] = ()


def is_no_email(raw: str | None) -> bool:
    """True when the value means 'no email' (empty, n/a, null, none ...)."""
    return raw is None or clean_email_text(raw).lower() in NO_EMAIL_MARKERS


def clean_email_text(raw: str) -> str:
    """The text without invisible characters, `mailto:` or a display name, stripped."""
    value = raw if raw.isascii() else _visible(raw)
    value = value.strip()
    if "<" in value:
        found = _DISPLAY_FORM.search(value)
        if found is not None:
            value = found.group(1).strip()
    if value[:7].lower() == "mailto:":
        value = value[7:].partition("?")[0].strip()
    return value


def _visible(text: str) -> str:
    """`text` without invisible characters, no-break spaces as spaces (see _INVISIBLE)."""
    return text if _HAS_INVISIBLE.search(text) is None else text.translate(_INVISIBLE)


def normalize_email(raw: str | None) -> str | None:
    """The normalized address, None for 'no email', InvalidEmail when malformed.

    Shape: lower-case local part, '@', lower-case IDNA (ASCII) domain.
    """
    if raw is None:
        return None
    return _normalize_clean(clean_email_text(raw).lower())


def _normalize_clean(value: str) -> str | None:
    """normalize_email of text that is cleaned and lower-cased already."""
    if value in NO_EMAIL_MARKERS:
        return None
    local, at, domain = value.rpartition("@")
    if at and _LOCAL.fullmatch(local) is not None:
        known = _domains.get(domain) or _domain(domain)
        if known is not None and len(local) <= known[1]:
            return f"{local}@{known[0]}"
    elif "@" in local and '"' not in local:  # 'a@@b', 'a@b@c': only quotes allow a 2nd @
        raise InvalidEmail("The email address has more than one @-sign.")
    return slow_normalize_email(value)


def slow_normalize_email(value: str) -> str:
    """The reference path: email-validator over the whole (cleaned, lower-case) value."""
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(str(exc)) from None
    return f"{result.local_part.lower()}@{result.ascii_domain.lower()}"


# domain as written -> (its lower-case IDNA ASCII form, the longest local part it allows),
# or None when email-validator rejects it
_domains: dict[str, tuple[str, int] | None] = {}


def _domain(domain: str) -> tuple[str, int] | None:
    """What email-validator says of a domain, checked once (see _domains)."""
    if domain in _domains:
        return _domains[domain]
    if len(_domains) >= _DOMAIN_CACHE_LIMIT:
        _domains.clear()  # bounded on files of ever-new domains; refills quickly
    try:
        result = validate_email(f"a@{domain}", check_deliverability=False)
    except EmailNotValidError:
        _domains[domain] = None
        return None
    ascii_domain = result.ascii_domain.lower()
    # email-validator checks the address as written, normalized and in ASCII form, each
    # at most 254 UTF-8 bytes, and a local part of at most 64 characters
    longest = max(len(d.encode()) for d in (domain, result.domain, ascii_domain))
    _domains[domain] = known = (ascii_domain, min(64, _MAX_LENGTH - 1 - longest))
    return known


def parse_email_cell(raw: str | None) -> EmailCell:
    """A cell that may hold several addresses ('a@x; b@y', 'a@x, b@y', 'a@x ::: b@y').

    The first valid address is the email; the others (normalized when valid, as given
    when not) come back in `others`. InvalidEmail when no address in it is valid.
    """
    if raw is None:
        return EmailCell(None)
    text = raw.strip()
    if _NEEDS_SPLIT.search(text) is None:  # one address, no display name: the hot path
        if text.isascii():
            return EmailCell(_normalize_clean(text.lower()))
        if text.count("@") <= 1:  # what clean_email_text leaves of it, below
            return EmailCell(_normalize_clean(_visible(text).strip().lower()))
    cleaned = clean_email_text(text) if text.count("@") <= 1 else text
    if cleaned.count("@") <= 1:
        return EmailCell(normalize_email(cleaned))
    parts = _candidates(text)
    email: str | None = None
    others: list[str] = []
    first_error: InvalidEmail | None = None
    for part in parts:
        try:
            address = normalize_email(part)
        except InvalidEmail as exc:
            first_error = first_error or exc
            others.append(part)
            continue
        if address is None:
            continue
        if email is None:
            email = address
        elif address != email and address not in others:
            others.append(address)
    if email is None:
        raise first_error or InvalidEmail("no valid address in the cell")
    return EmailCell(email, tuple(others))


def _candidates(text: str) -> list[str]:
    """The addresses a multi-address cell holds, display names and mailto: removed."""
    value = _NAMED_ADDRESS.sub(r" \1 ", _visible(text))  # 'Jane <j@x>' -> 'j@x'
    return [part for part in _SEPARATORS.split(value) if part and part.lower() != "mailto"]
