"""POST /v1/process (seed 001): enrich a list of contacts as a job."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError

from ...jobs.enrichment import MAX_CONTACTS, start_enrichment
from ...providers.base import UnknownProvider
from ..deps import CurrentUser, ServicesDep
from ..errors import ApiError
from ..json_body import parse_json_body
from ..schemas import ProcessAccepted

router = APIRouter(prefix="/v1", tags=["enrichment"])


class ProcessRequest(BaseModel):
    contacts: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_CONTACTS)
    provider: str = Field("offline", min_length=1, max_length=100)


@router.post(
    "/process",
    status_code=202,
    response_model=ProcessAccepted,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": ProcessRequest.model_json_schema()}},
        }
    },
)
async def process(request: Request, user: CurrentUser, services: ServicesDep) -> JSONResponse:
    """Enrich up to 100,000 contacts in batches of 100; poll GET /v1/status/{jobId}."""
    body = parse_json_body(await request.body())
    try:
        payload = ProcessRequest.model_validate(body)
    except ValidationError as exc:
        details = [
            {"field": ".".join(map(str, e["loc"])), "message": e["msg"]} for e in exc.errors()
        ]
        raise ApiError(
            422, "invalid_request", 'send {"contacts": [...], "provider"?}', details
        ) from None
    try:
        job_id = await run_in_threadpool(
            start_enrichment,
            services.settings,
            services.jobs,
            services.queue,
            services.blobs,
            user,
            payload.contacts,
            payload.provider,
            services.clock(),
        )
    except UnknownProvider as exc:
        raise ApiError(422, "unknown_provider", str(exc)) from None
    return JSONResponse({"jobId": job_id, "uploadId": job_id}, status_code=202)
