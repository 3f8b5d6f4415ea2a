"""POST /v1/auth/token: a username and password for a bearer token (JWT)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, ValidationError

from ...security import issue_token
from ..deps import ServicesDep
from ..errors import ApiError, answers, too_many_requests
from ..json_body import parse_json_body
from ..login import login_attempt

router = APIRouter(prefix="/v1/auth", tags=["auth"])


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


async def _credentials(request: Request) -> Credentials:
    """JSON {username, password}, or a form (the OAuth2 password flow /docs uses)."""
    content_type = request.headers.get("content-type", "")
    try:
        raw = await request.body()
        # curl -d sends JSON labelled as a form: the body's first byte decides.
        if raw.lstrip().startswith(b"{") or not content_type.startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            data: Any = parse_json_body(raw or b"null")
        else:
            form = await request.form()
            data = {k: v for k, v in form.items() if isinstance(v, str)}
        return Credentials.model_validate(data)
    except ApiError:
        raise
    except (ValueError, ValidationError) as exc:
        details = None
        if isinstance(exc, ValidationError):
            details = [
                {"field": ".".join(map(str, e["loc"])), "message": e["msg"]} for e in exc.errors()
            ]
        raise ApiError(
            422, "invalid_request", 'send JSON {"username": ..., "password": ...}', details
        ) from None


@router.post(
    "/token",
    response_model=Token,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": Credentials.model_json_schema()}},
        }
    },
    responses=answers(400, 401, 429),
)
async def token(
    request: Request,
    services: ServicesDep,
) -> Token:
    """Exchange a username and password for a bearer token."""
    credentials = await _credentials(request)
    outcome = await login_attempt(request, services, credentials.username, credentials.password)
    if outcome.retry_after is not None:
        raise too_many_requests("too many failed logins", outcome.retry_after)
    if outcome.password_hash is None:
        raise ApiError(401, "unauthorized", "unknown user or wrong password")
    ttl = services.settings.token_ttl_seconds
    token = issue_token(services.secret, credentials.username, ttl, outcome.password_hash)
    return Token(access_token=token, expires_in=ttl)
