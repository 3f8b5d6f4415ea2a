"""Request bodies as JSON, with the failures bad clients produce turned into 400s."""

from __future__ import annotations

import json
from typing import Any

from ..domain.unicode import has_lone_surrogate
from .errors import ApiError


def parse_json_body(raw: bytes) -> Any:
    """The body as JSON; 400 for invalid JSON, absurd nesting or invalid Unicode."""
    try:
        body = json.loads(raw)
        # Only \u escapes can make a lone surrogate, so most bodies skip the walk.
        invalid_text = (b"\\ud" in raw or b"\\uD" in raw) and has_lone_surrogate(body)
    except RecursionError:
        raise ApiError(400, "invalid_json", "the body is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "invalid_json", f"the body is not valid JSON: {exc}") from None
    if invalid_text:
        raise ApiError(
            400, "invalid_json", "the body holds a lone Unicode surrogate (\\ud800-\\udfff)"
        )
    return body
