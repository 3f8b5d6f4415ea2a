"""Dependencies shared by the routers: the services and the authenticated user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBearer

from ..bootstrap import Services
from ..security import InvalidToken, mark_matches, read_token_claims_cached
from .cognito import CognitoVerifier, is_cognito_token
from .errors import ApiError, too_many_requests
from .limits import RateLimiter


async def get_services(request: Request) -> Services:
    # async on purpose: FastAPI runs a plain `def` dependency in the thread pool, and that
    # hop cost more than the rest of the dependency work on every request.
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


class BearerUser(HTTPBearer):
    """The user named by a valid bearer token; 401 without one, 429 over the rate limit.

    A security scheme (so /docs shows the Authorize button and the OpenAPI document marks
    the operations) that does the whole check itself: one dependency per request instead
    of a scheme plus a function, which FastAPI resolves at a cost on every request.
    """

    async def __call__(self, request: Request) -> str:  # type: ignore[override]
        return await current_user(request)


bearer_user = BearerUser(
    auto_error=False, scheme_name="HTTPBearer", description="A token from POST /v1/auth/token."
)


async def current_user(request: Request) -> str:
    """The user named by the request's bearer token (see BearerUser)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip() if scheme.lower() == "bearer" else ""
    if not token:
        raise ApiError(
            401,
            "unauthorized",
            "a bearer token is required: POST /v1/auth/token, then send "
            "'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    services: Services = request.app.state.services
    cognito: CognitoVerifier | None = getattr(request.app.state, "cognito", None)
    password_mark: str | None = None
    try:
        if cognito is not None and is_cognito_token(token):  # seed 004: the user pool's
            username = cognito.owner(token)
        else:
            claims = read_token_claims_cached(services.secret, token)
            username, password_mark = claims.username, claims.password_mark
    except InvalidToken as exc:
        raise ApiError(
            401, "unauthorized", str(exc), headers={"WWW-Authenticate": "Bearer"}
        ) from None
    # Tokens from POST /v1/auth/token carry the password's mark. One primary-key read per
    # request: a reset password (or a removed user) ends every token issued before, at
    # once and in every process. (Tokens the server issues to itself carry no mark.)
    if password_mark is not None:
        if not mark_matches(password_mark, services.users.password_hash(username)):
            raise ApiError(
                401,
                "unauthorized",
                "the token is no longer valid (the password was changed); ask for a new one",
                headers={"WWW-Authenticate": "Bearer"},
            )
    limiter: RateLimiter = request.app.state.rate_limiter
    wait = limiter.retry_after(username)
    if wait is not None:
        raise too_many_requests(
            f"rate limit of {limiter.per_minute} requests per minute reached", wait
        )
    return username


CurrentUser = Annotated[str, Depends(bearer_user)]
