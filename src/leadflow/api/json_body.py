"""Request bodies as JSON, with the failures bad clients produce turned into 400s."""

from __future__ import annotations

import json
from typing import Any

from ..domain.json_values import MAX_DEPTH, unstorable_reason
from .errors import ApiError


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def parse_json_body(raw: bytes) -> Any:
    """The body as JSON; 400 for invalid JSON, absurd nesting or invalid Unicode."""
    try:
        body = json.loads(raw, parse_constant=_reject_constant)
    except RecursionError:
        raise ApiError(400, "invalid_json", "the body is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "invalid_json", f"the body is not valid JSON: {exc}") from None
    # A records body is a list of objects: two levels more than a record's own nesting.
    reason = unstorable_reason(body, MAX_DEPTH + 2)
    if reason is not None:
        raise ApiError(400, "invalid_json", f"the body {reason}")
    return body
