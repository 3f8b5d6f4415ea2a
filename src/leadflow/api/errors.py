"""The error envelope {"error": {"code", "message", "details"}} and its one set of handlers.

Bad input never produces a 500 or a stack trace: every known failure maps to a 4xx
here, and anything unexpected answers a plain 500 envelope while the trace goes to logs.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
    431: "headers_too_large",
}


class ApiError(Exception):
    """An error the API answers with its status, code, message and details."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers


def too_many_requests(message: str, retry_after: int) -> ApiError:
    """429 with Retry-After: the one shape every limit answers with."""
    return ApiError(
        429,
        "too_many_requests",
        f"{message}; retry in {retry_after} s",
        headers={"Retry-After": str(retry_after)},
    )


def envelope(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details}}
    return JSONResponse(body, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return envelope(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return envelope(exc.status_code, code, message, None, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {
                "field": ".".join(str(p) for p in err.get("loc", ()) if p != "body"),
                "message": err.get("msg", "invalid"),
            }
            for err in exc.errors()
        ]
        return envelope(422, "invalid_request", "the request is not valid", details)

    @app.exception_handler(ClientDisconnect)
    async def client_gone(_: Request, __: ClientDisconnect) -> Response:
        return Response(status_code=400)  # nobody is listening; nothing to log either

    # Anything else is answered by middleware.UnexpectedErrorMiddleware, which (unlike a
    # handler for Exception here) keeps the client's connection open afterwards.


class ErrorBody(BaseModel):
    code: str = Field(description="Stable, lower-case machine code, e.g. `not_found`.")
    message: str = Field(description="One sentence for a person.")
    details: Any = Field(None, description="More about the error, e.g. failing fields.")


class ErrorEnvelope(BaseModel):
    """Every error the API answers has this shape."""

    error: ErrorBody


_DESCRIPTIONS = {
    400: "The body is not valid JSON, or holds a number out of range.",
    401: "No token, or a token that is forged, expired or no longer valid.",
    403: "The signed link is not valid or has expired.",
    404: "No such resource for this user.",
    409: "The resource is not in a state that allows this.",
    413: "The request body is over the limit.",
    415: "The file type is not supported.",
    422: "The request is not valid; `details` names the failing fields.",
    429: "Too many requests or failed logins; wait Retry-After seconds.",
    431: "The request headers are over the limit.",
    502: "A service leadflow depends on did not answer.",
}


def _error_codes(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    """The error answers an operation can give, read from its own description."""
    codes = {422, 431}
    if method in ("post", "put", "patch", "delete"):
        codes |= {400, 413}
    if operation.get("security"):  # the bearer token: refused, or over the rate limit
        codes |= {401, 429}
    if "{" in path:
        codes.add(404)
    return codes


def document_errors(app: FastAPI) -> None:
    """List each operation's error answers, with the envelope schema, in the OpenAPI
    document (`app.openapi()`, built on first use). Routes declare their own extra
    ones with `responses=answers(...)`."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        definitions = ErrorEnvelope.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(definitions.pop("$defs", {}))
        schemas["ErrorEnvelope"] = definitions
        envelope_ref = {"$ref": "#/components/schemas/ErrorEnvelope"}
        for path, operations in document.get("paths", {}).items():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                declared = {int(code) for code in responses if code.isdigit() and code >= "400"}
                for status in sorted(_error_codes(path, method, operation) | declared):
                    if status not in _DESCRIPTIONS:  # not an envelope (/readyz's 503 report)
                        continue
                    responses[str(status)] = {
                        "description": _DESCRIPTIONS[status],
                        "content": {"application/json": {"schema": envelope_ref}},
                    }
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def answers(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: the error statuses it answers beyond the usual ones."""
    return {code: {"description": _DESCRIPTIONS[code]} for code in codes}
