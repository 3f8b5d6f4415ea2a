"""GET /v1/errors: the schema-error log of the caller's records."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from ..deps import CurrentUser, ServicesDep
from ..schemas import SchemaErrorPage

router = APIRouter(prefix="/v1", tags=["errors"])


@router.get("/errors", response_model=SchemaErrorPage)
def list_errors(
    user: CurrentUser,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="Page: ids below this one.")
    ] = None,
    import_id: Annotated[str | None, Query(alias="importId")] = None,
) -> dict[str, Any]:
    """Records that failed validation, newest first, each with every failing field."""
    items = services.schema_errors.list(user, limit=limit, before=before, import_id=import_id)
    next_before = items[-1]["id"] if len(items) == limit else None
    return {"items": items, "nextBefore": next_before}
