"""POST /v1/records: seed 000's opt-in workflow over a JSON list of records."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from ...bootstrap import Services
from ...domain.optin_schema import NotAList
from ...pipelines.optin import OptinResult, run_optin
from ...readers import input_limits
from ..deps import CurrentUser
from ..errors import ApiError
from ..json_body import parse_json_body

router = APIRouter(prefix="/v1", tags=["records"])

RECORD_SCHEMA = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "required": ["name", "email", "optIn", "interests"],
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "email": {"type": "string", "format": "email"},
            "optIn": {"type": "boolean"},
            "interests": {"type": "array", "minItems": 1, "items": {"type": "string"}},
        },
    },
    "example": [
        {
            "name": "John Doe",
            "email": "john.doe@example.com",
            "optIn": True,
            "interests": ["datascience", "python"],
        }
    ],
}


class FieldProblem(BaseModel):
    field: str
    message: str


class InvalidRecord(BaseModel):
    index: int
    errors: list[FieldProblem]


class RecordsResult(BaseModel):
    received: int
    valid: int
    invalid: list[InvalidRecord]
    duplicates: int
    saved: int
    ignored: int


@router.post(
    "/records",
    response_model=RecordsResult,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": RECORD_SCHEMA}},
        }
    },
)
async def post_records(request: Request, user: CurrentUser) -> Any:
    """Validate a list of records; log the failures; save the opted-in ones, de-duplicated.

    Every invalid record is listed with every failing field, and kept in the schema-error
    log (GET /v1/errors). Records with `optIn: false` are counted as ignored.
    """
    services: Services = request.app.state.services  # not a dependency: the hot path
    body = parse_json_body(await request.body())
    try:
        # Run on the event loop, not in a thread: writes are serialized by SQLite anyway,
        # and handing each one to a thread pool costs more than the write itself.
        limits = input_limits(services.settings)
        result: OptinResult = run_optin(services.leads, user, body, limits=limits)
    except NotAList as exc:
        raise ApiError(422, "invalid_body", str(exc)) from None
    return {
        "received": result.received,
        "valid": result.valid,
        "invalid": result.invalid,
        "duplicates": result.duplicates,
        "saved": result.saved,
        "ignored": result.ignored,
    }
