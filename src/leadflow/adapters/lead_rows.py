"""Stored lead rows -> the API's camelCase lead documents."""

from __future__ import annotations

import json
from typing import Any


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
