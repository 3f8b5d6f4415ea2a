"""Rendering pages: the Jinja2 environment (autoescaped) and the per-request context."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData
from starlette.responses import Response

from ..api.deps import ServicesDep
from ..api.errors import too_many_requests
from ..api.limits import RateLimiter
from ..bootstrap import Services
from .sessions import (
    CSRF_FIELD,
    CSRF_HEADER,
    SignInRequired,
    check_csrf,
    csrf_seed,
    csrf_token,
    session_user,
    set_csrf_cookie,
)

HERE = Path(__file__).parent
# Jinja2Templates turns autoescape on for .html: every lead value is escaped.
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals["NAV"] = (
    ("Import", "/import"),
    ("Leads", "/leads"),
    ("Jobs", "/jobs"),
    ("Dead letters", "/dead-letters"),
    ("Orders", "/orders"),
    ("Chat", "/chat"),
)


def _query(base: dict[str, Any], **changes: Any) -> str:
    """A query string from `base` with `changes` (None removes a key)."""
    merged = {**base, **changes}
    return urlencode([(k, v) for k, v in merged.items() if v not in (None, "")], doseq=True)


templates.env.globals["query"] = _query


# The same dependency the API's routes use: pages read the same stores and ports.
WebServices = ServicesDep


def web_user(request: Request, services: WebServices) -> str:
    """The signed-in user; SignInRequired sends the browser to the sign-in page."""
    user = session_user(request, services.secret, services.users)
    if user is None:
        raise SignInRequired
    limiter: RateLimiter = request.app.state.rate_limiter  # the API's budget, shared
    wait = limiter.retry_after(user)
    if wait is not None:
        raise too_many_requests(f"rate limit of {limiter.per_minute} requests per minute", wait)
    return user


WebUser = Annotated[str, Depends(web_user)]


# The import form carries two fields per column of the file (its header and its choice),
# and a file may have thousands of columns: Starlette's default of 1,000 fields would
# refuse the dry run and the start of a file with 500 columns.
FORM_MAX_FIELDS = 50_000


async def read_form(request: Request) -> FormData:
    """The request's form (parsed once, then cached by Starlette) with room for wide files."""
    return await request.form(max_fields=FORM_MAX_FIELDS)


async def checked_csrf(request: Request, services: WebServices) -> None:
    """Every state-changing web request carries the CSRF token (header or form field)."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await read_form(request)
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    check_csrf(request, services.secret, sent)


CsrfChecked = Depends(checked_csrf)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    user: str | None = None,
    status_code: int = 200,
) -> Response:
    """A page or fragment, with the CSRF token its forms need (and its cookie if new)."""
    services: Services = request.app.state.services
    seed, new = csrf_seed(request)
    data = {"user": user, "csrf": csrf_token(services.secret, seed), "path": request.url.path}
    data.update(context or {})
    if template == "_message.html" and not request.headers.get("HX-Request"):
        template = "error.html"  # a message opened as a page gets the whole page around it
    response = templates.TemplateResponse(request, template, data, status_code=status_code)
    if new:
        set_csrf_cookie(response, request, seed)
    return response
