"""Request bodies as JSON, with the failures bad clients produce turned into 400s.

Numbers: a float that overflows (`1e400`) would become infinity and then be stored as
null; it is refused with its reason instead. Integers keep their exact value (up to
Python's 4,300-digit conversion limit, refused above it): whether a huge number is a
valid quantity is the domain's decision, not the parser's.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from ..domain.json_values import MAX_DEPTH, unstorable_reason
from .errors import ApiError

MAX_NUMBER_CHARS = 4300  # CPython's own limit for int(str); longer numbers are refused
# A lone surrogate can only arrive as a \\uD800-\\uDFFF escape or as its raw UTF-8 form
# (json.loads decodes bytes with "surrogatepass"); without either, none can be inside.
_MAYBE_SURROGATE = re.compile(rb"\\u[dD][89abcdefABCDEF]|\xed[\xa0-\xbf]")


class _NumberOutOfRange(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NumberOutOfRange(
            f"the number {_shown(text)} is out of range (a float is at most about 1.8e308)"
        )
    return value


def _exact_int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise _NumberOutOfRange(
            f"the number {_shown(text)} has {len(text):,} digits; at most "
            f"{MAX_NUMBER_CHARS:,} are accepted"
        )
    return int(text)


def _shown(text: str) -> str:
    return text if len(text) <= 40 else f"{text[:20]}...{text[-10:]}"


_DECODER = json.JSONDecoder(
    parse_constant=_reject_constant, parse_float=_finite_float, parse_int=_exact_int
)


def parse_json_body(raw: bytes) -> Any:
    """The body as JSON; 400 for invalid JSON, absurd nesting, invalid Unicode or a
    number out of range (code `number_out_of_range`, the number in `details`)."""
    try:
        # json.loads(raw, ...) itself, minus building a decoder for every request
        body = _DECODER.decode(raw.decode(json.detect_encoding(raw), "surrogatepass"))
    except RecursionError:
        raise ApiError(400, "invalid_json", "the body is nested too deeply") from None
    except _NumberOutOfRange as exc:
        raise ApiError(400, "number_out_of_range", str(exc)) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "invalid_json", f"the body is not valid JSON: {exc}") from None
    # A records body is a list of objects: two levels more than a record's own nesting.
    # Walking the whole value costs more than parsing it; two byte scans say when it
    # cannot be needed: nesting is at most the number of opening brackets, and see above.
    limit = MAX_DEPTH + 2
    if raw.count(b"[") + raw.count(b"{") > limit or _maybe_surrogate(raw):
        reason = unstorable_reason(body, limit)
        if reason is not None:
            raise ApiError(400, "invalid_json", f"the body {reason}")
    return body


def _maybe_surrogate(raw: bytes) -> bool:
    """_MAYBE_SURROGATE.search, after two substring scans that are 10x cheaper than the
    regex's alternation and rule out nearly every body."""
    return (b"\\u" in raw or b"\xed" in raw) and _MAYBE_SURROGATE.search(raw) is not None
