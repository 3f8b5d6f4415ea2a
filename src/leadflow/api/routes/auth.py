"""POST /v1/auth/token: a username and password for a bearer token (JWT)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, ValidationError

from ...bootstrap import Services
from ...security import issue_token, verify_password
from ..client_address import client_address
from ..deps import ServicesDep
from ..errors import ApiError, answers, too_many_requests
from ..json_body import parse_json_body
from ..limits import LoginThrottle

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
    throttle: LoginThrottle = request.app.state.login_throttle
    address = client_address(request, services.settings.trusted_proxy_networks)
    # Failures count per (username, address) and per address, never per username alone:
    # failing from one address cannot lock the user out from another, and a spray of
    # names from one address is still stopped.
    pair, from_address = f"pair:{credentials.username}\n{address}", f"addr:{address}"
    for key in (pair, from_address):
        wait = throttle.retry_after(key)
        if wait is not None:
            raise too_many_requests("too many failed logins", wait)
    # argon2 takes tens of milliseconds of CPU on purpose: in a thread, so that logins
    # never stall the event loop (and every other request with it).
    stored = await run_in_threadpool(_check_password, services, credentials)
    if stored is None:
        for key in (pair, from_address):
            throttle.failed(key)
        raise ApiError(401, "unauthorized", "unknown user or wrong password")
    throttle.succeeded(pair)
    ttl = services.settings.token_ttl_seconds
    return Token(
        access_token=issue_token(services.secret, credentials.username, ttl, stored),
        expires_in=ttl,
    )


def _check_password(services: Services, credentials: Credentials) -> str | None:
    """The stored hash when the password is right, else None."""
    stored = services.users.password_hash(credentials.username)
    return stored if verify_password(stored, credentials.password) else None
