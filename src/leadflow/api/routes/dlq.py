"""The caller's dead-letter queue: list, redrive, purge."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from ..deps import CurrentUser, ServicesDep
from ..errors import ApiError
from ..json_body import parse_json_body
from ..schemas import DeadLetterPage, Purged, Redriven

router = APIRouter(prefix="/v1/dlq", tags=["dlq"])


MAX_IDS = 1000


class Selection(BaseModel):
    # A typo such as {"id": [1]} must not mean "every dead letter": unknown keys are
    # refused, and ids are integers, not true or 1.0.
    model_config = ConfigDict(extra="forbid", strict=True)

    ids: list[int] | None = Field(
        None, max_length=MAX_IDS, description="Only these messages (default: all)."
    )


@router.get("", response_model=DeadLetterPage)
def list_dead_letters(
    user: CurrentUser,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Messages that failed `LEADFLOW_MAX_RECEIVE_COUNT` times, newest first."""
    letters = services.queue.dead_letters(user, limit)
    return {
        "items": [letter.as_json() for letter in letters],
        "depth": services.queue.dlq_depth(user),
    }


@router.post(
    "/redrive",
    response_model=Redriven,
    openapi_extra={
        "requestBody": {"content": {"application/json": {"schema": Selection.model_json_schema()}}}
    },
)
async def redrive(request: Request, user: CurrentUser, services: ServicesDep) -> dict[str, int]:
    """Send the caller's dead letters (or the listed ids) back to the queue."""
    ids = _selected_ids(await request.body())
    return {"redriven": services.queue.redrive(user, ids)}


@router.delete("", response_model=Purged)
def purge(
    user: CurrentUser,
    services: ServicesDep,
    ids: Annotated[
        list[int] | None, Query(max_length=MAX_IDS, description="Only these ids (default: all).")
    ] = None,
) -> dict[str, int]:
    """Delete the caller's dead letters (or the listed ids) for good."""
    return {"purged": services.queue.purge_dead(user, ids)}


def _selected_ids(raw: bytes) -> list[int] | None:
    if not raw.strip():
        return None
    body = parse_json_body(raw)
    try:
        return Selection.model_validate(body).ids
    except ValueError as exc:
        raise ApiError(
            422, "invalid_request", 'send {"ids": [1, 2]} or no body', str(exc)
        ) from None
