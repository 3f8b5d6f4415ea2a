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


MAX_ID = 200  # characters: SQS message ids are at most 100

# Dead-letter ids are strings (as GET /v1/dlq lists them); the integers that earlier
# versions listed are still taken, as their text.
DeadLetterId = Annotated[str, Field(min_length=1, max_length=MAX_ID)] | int


class Selection(BaseModel):
    # A typo such as {"id": [1]} must not mean "every dead letter": unknown keys are
    # refused, and ids are strings or integers, not true or 1.0.
    model_config = ConfigDict(extra="forbid", strict=True)

    ids: list[DeadLetterId] | None = Field(
        None, max_length=MAX_IDS, description="Only these messages (default: all)."
    )


@router.get("", response_model=DeadLetterPage)
def list_dead_letters(
    user: CurrentUser,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Messages that failed `LEADFLOW_MAX_RECEIVE_COUNT` times, newest first."""
    letters = services.dead_letters.list(user, limit)
    return {
        "items": [letter.as_json() for letter in letters],
        "depth": services.dead_letters.depth(user),
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
    return {"redriven": services.dead_letters.redrive(user, ids)}


@router.delete("", response_model=Purged)
def purge(
    user: CurrentUser,
    services: ServicesDep,
    ids: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=MAX_ID)]] | None,
        Query(max_length=MAX_IDS, description="Only these ids (default: all)."),
    ] = None,
) -> dict[str, int]:
    """Delete the caller's dead letters (or the listed ids) for good."""
    return {"purged": services.dead_letters.purge(user, ids)}


def _selected_ids(raw: bytes) -> list[str] | None:
    if not raw.strip():
        return None
    body = parse_json_body(raw)
    try:
        ids = Selection.model_validate(body).ids
    except ValueError as exc:
        raise ApiError(
            422, "invalid_request", 'send {"ids": ["12", "13"]} or no body', str(exc)
        ) from None
    return None if ids is None else [str(i) for i in ids]
