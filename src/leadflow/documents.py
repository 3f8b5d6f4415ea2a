"""Stored lead rows -> the API's camelCase lead documents, a page at a time.

Shared by the storage adapters (which hand these documents out) and the API (whose
response models in api/models.py describe them); cursors are opaque to both callers.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from .domain.json_values import has_lone_surrogate
from .domain.merge import MERGED_COLUMNS
from .ports import BadCursor


def lead_to_api(row: dict[str, Any]) -> dict[str, Any]:
    """A stored row as the Lead document of SPEC 'Concepts'."""

    def parsed(value: str | None) -> Any:
        return None if value is None else json.loads(value)

    return {
        "leadId": row["lead_id"],
        "owner": row["owner"],
        "firstName": row["first_name"],
        "lastName": row["last_name"],
        "name": row["name"],
        "email": row["email"],
        "phone": row["phone"],
        "phoneValid": None if row["phone_valid"] is None else bool(row["phone_valid"]),
        "title": row["title"],
        "company": row["company"],
        "remarks": row["remarks"],
        "optIn": None if row["opt_in"] is None else bool(row["opt_in"]),
        "interests": parsed(row["interests"]),
        "source": row["source"],
        "sourceFile": row["source_file"],
        "attributes": parsed(row["attributes"]) or {},
        "enrichment": parsed(row["enrichment"]) or {},
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
    }


_API_NAMES = {**MERGED_COLUMNS, "phone_valid": "phoneValid", "opt_in": "optIn"}


def audit_to_api(row: dict[str, Any]) -> dict[str, Any]:
    """A stored audit entry as the history item of GET /v1/leads/{leadId}."""
    previous = json.loads(row["previous"])
    document = {
        "action": row["action"],
        "leadId": row["lead_id"],
        "email": row["email"],
        "previousSourceFile": row["previous_source_file"],
        "newSourceFile": row["new_source_file"],
        "fieldsChanged": json.loads(row["fields_changed"]),
        "previousValues": {_API_NAMES.get(k, k): v for k, v in previous.items()},
        "batchId": row["batch_id"],
        "importId": row["import_id"],
        "timestamp": row["timestamp"],
    }
    if row.get("restored") is not None:  # an import_undone entry: what it gave back
        restored = json.loads(row["restored"])
        document["restoredValues"] = {_API_NAMES.get(k, k): v for k, v in restored.items()}
    return document


def page_of(
    rows: list[dict[str, Any]], limit: int, column: str
) -> tuple[list[dict[str, Any]], str | None]:
    """Up to `limit` rows as lead documents, and the cursor of the next page, if any.

    `rows` holds up to limit + 1 rows sorted by (`column`, seq): the extra one only says
    that a next page exists.
    """
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        value = "" if column == "seq" else (last[column] or "")
        next_cursor = encode_cursor(value, last["seq"])
    return [lead_to_api(r) for r in rows], next_cursor


def encode_cursor(value: Any, seq: int) -> str:
    """An opaque page cursor for (sort value, seq): URL-safe base64 of JSON, unpadded."""
    raw = json.dumps([value, seq]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, int]:
    """(sort value, seq) of a cursor this service handed out; BadCursor otherwise."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, seq = json.loads(base64.urlsafe_b64decode(padded))
        if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq < 2**63:
            raise ValueError
        if not isinstance(value, str) or has_lone_surrogate(value):
            raise ValueError
    except (ValueError, TypeError) as exc:
        raise BadCursor("the cursor is not valid; start again without one") from exc
    return value, seq
