"""JSON values the service will not keep: lone surrogates, and absurd nesting.

A lone UTF-16 surrogate (JSON's \\ud800 escape) is not valid UTF-8, so no database can
store it; a value nested hundreds deep cannot be serialized back. Both are refused at the
door with a clear reason instead of failing later.
"""

from __future__ import annotations

import re
from typing import Any

MAX_DEPTH = 32  # lists and objects inside a record; real CRM data uses 2 or 3
_SURROGATE = re.compile("[\ud800-\udfff]")


def has_lone_surrogate(value: Any) -> bool:
    """True when any string (or key) in a JSON-like value holds a lone surrogate."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item) is not None:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """True when lists/objects nest more than `limit` levels (checked without recursion)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth >= limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def unstorable_reason(value: Any, limit: int = MAX_DEPTH) -> str | None:
    """Why a JSON value cannot be kept, or None when it can."""
    if too_deep(value, limit):
        return f"nested more than {limit} levels deep"
    if has_lone_surrogate(value):
        return "holds a lone Unicode surrogate (\\ud800-\\udfff), which is not valid text"
    return None
