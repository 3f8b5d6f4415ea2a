"""GET /v1/leads (search, filter, sort, cursor pages) and GET /v1/leads/{leadId}."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from ...ports import BadCursor, LeadQuery
from ..deps import CurrentUser, ServicesDep
from ..errors import ApiError, answers
from ..schemas import LeadPage, LeadWithHistory

router = APIRouter(prefix="/v1/leads", tags=["leads"])

SORTS = ("createdAt", "updatedAt", "name", "lastName", "company", "email")


@router.get("", response_model=LeadPage)
def list_leads(
    user: CurrentUser,
    services: ServicesDep,
    q: Annotated[
        str | None, Query(max_length=200, description="Search name, email, company, phone, title.")
    ] = None,
    company: Annotated[
        str | None, Query(max_length=200, description="Exact company (any case).")
    ] = None,
    source: Annotated[str | None, Query(pattern="^(api|upload|inbox|cli)$")] = None,
    sort: Annotated[
        str, Query(description=f"One of {', '.join(SORTS)}; prefix - for descending.")
    ] = "createdAt",
    cursor: Annotated[str | None, Query(description="nextCursor of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """The caller's leads, one page at a time."""
    descending = sort.startswith("-")
    field = sort.lstrip("-")
    if field not in SORTS:
        raise ApiError(
            422, "invalid_request", f"sort must be one of {', '.join(SORTS)}", {"sort": sort}
        )
    query = LeadQuery(
        q=q,
        company=company,
        source=source,
        sort=field,
        descending=descending,
        cursor=cursor,
        limit=limit,
        region=services.settings.default_region,
    )
    try:
        items, next_cursor = services.lead_reads.list_leads(user, query)
    except BadCursor as exc:
        raise ApiError(422, "invalid_cursor", str(exc)) from None
    return {"items": items, "nextCursor": next_cursor}


@router.get(
    "/{lead_id}",
    response_model=LeadWithHistory,
    response_model_exclude_unset=True,  # restoredValues only on import_undone entries
    responses=answers(404),
)
def get_lead(lead_id: str, user: CurrentUser, services: ServicesDep) -> dict[str, Any]:
    """One lead with its audit history (every update, with fieldsChanged)."""
    lead = services.lead_reads.get_lead(user, lead_id)
    if lead is None:
        raise ApiError(404, "not_found", f"no lead {lead_id}")
    lead["history"] = services.lead_reads.lead_history(user, lead_id)
    return lead
