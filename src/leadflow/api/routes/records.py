"""POST /v1/records: seed 000's opt-in workflow over a JSON list of records."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.routing import Match, Route
from starlette.types import Scope

from ...bootstrap import Services
from ...domain.limits import InputLimits
from ...domain.optin_schema import NotAList
from ...pipelines.optin import OptinResult, run_optin
from ...readers import input_limits
from ..deps import current_user
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
        },
        # The bearer check runs in the handler (below), not as a dependency: FastAPI's
        # dependency machinery cost more per request than the check itself.
        "security": [{"HTTPBearer": []}],
    },
)
async def post_records(request: Request) -> Any:
    """Validate a list of records; log the failures; save the opted-in ones, de-duplicated.

    Every invalid record is listed with every failing field, and kept in the schema-error
    log (GET /v1/errors). Records with `optIn: false` are counted as ignored.
    """
    user = await current_user(request)  # 401 / 429 as for every other route
    services: Services = request.app.state.services  # not a dependency: the hot path
    raw = await request.body()
    body = parse_json_body(raw)
    try:
        # Run on the event loop, not in a thread: writes are serialized by SQLite anyway,
        # and handing each one to a thread pool costs more than the write itself.
        limits = input_limits(services.settings)
        checked = None if _cannot_exceed(raw, limits) else limits
        result: OptinResult = run_optin(
            services.write_ports(ledgered=False), user, body, limits=checked
        )
    except NotAList as exc:
        raise ApiError(422, "invalid_body", str(exc)) from None
    # Answered as it is: the response model documents it, and validating this dict we
    # built again would cost more than building it.
    return JSONResponse(
        {
            "received": result.received,
            "valid": result.valid,
            "invalid": result.invalid,
            "duplicates": result.duplicates,
            "saved": result.saved,
            "ignored": result.ignored,
        }
    )


# POST /v1/records is served by this plain Starlette route, which create_app puts ahead
# of every other route: the same handler, without FastAPI's per-request route contexts
# and dependency solving (55 us of each request, measured; the handler takes only the
# Request and answers its own JSONResponse, so none of that work had any effect). The
# APIRoute above stays: it documents the operation in the OpenAPI schema.
class _ServingRoute(Route):
    """A Starlette route that names itself in the scope, as FastAPI's routes do (the
    metrics middleware labels requests with the matched route's path)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match != Match.NONE:
            child_scope["route"] = self
        return match, child_scope


serving_route = _ServingRoute(
    "/v1/records", post_records, methods=["POST"], include_in_schema=False
)


def _cannot_exceed(raw: bytes, limits: InputLimits) -> bool:
    """Whether no record of this JSON body can be over a limit, from its bytes alone.

    A decoded string is never longer than the bytes it came from, a record has no more
    keys than the body has colons, and no deeper nesting than the body has brackets.
    Then the per-record walk (which costs more than the parse) is not needed.
    """
    return (
        len(raw) <= limits.max_field_chars
        and raw.count(b":") <= limits.max_columns
        and raw.count(b"[") + raw.count(b"{") <= limits.max_depth
    )
