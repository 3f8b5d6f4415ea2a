"""Errors on the web app's addresses answered as a page (or an htmx fragment), never as
the API's JSON envelope: a person in a browser reads a sentence, not `{"error": ...}`.

The API's own handlers stay in charge of the JSON API (`/v1/...`, the docs, health):
each web handler here hands anything outside the web app back to the handler it wraps.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ..api.errors import ApiError
from ..api.middleware import ResponseStarted
from .headers import is_web_path
from .pages import render
from .sessions import session_user

LOG = logging.getLogger("leadflow.web")
Handler = Callable[[Request, Any], Response | Awaitable[Response]]

# What a person is told for an HTTP error without a message of its own.
SENTENCES = {
    400: "The browser sent something this page cannot read; reload the page and try again.",
    404: "There is no page at this address.",
    405: "This address does not take that kind of request; go back and use the page's buttons.",
    413: "That is more than this server accepts at once.",
    422: "Some fields of the form are not valid.",
    429: "Too many requests at once; wait a moment and try again.",
}
SERVER_ERROR = "Something went wrong on our side; it is logged. Try again in a moment."


def _sentence(text: str) -> str:
    """A message as a sentence: a capital letter first and a full stop at the end."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _page(request: Request, message: str, status: int, headers: dict[str, str] | None) -> Response:
    services = request.app.state.services
    user = session_user(request, services.secret, services.users)
    response = render(request, "_message.html", {"message": message}, user, status)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def http_message(exc: StarletteHTTPException) -> str:
    """The sentence for a Starlette HTTP error (its detail when it is more than a phrase)."""
    default = SENTENCES.get(exc.status_code, "That did not work; go back and try again.")
    detail = exc.detail if isinstance(exc.detail, str) else ""
    generic = {"Not Found", "Method Not Allowed", "Bad Request", "Request Entity Too Large"}
    if not detail or detail in generic:
        return default
    return f"{default[:-1]}: {_sentence(detail)}" if exc.status_code == 400 else _sentence(detail)


def validation_message(exc: RequestValidationError) -> str:
    """Which form fields are wrong and why, in one sentence."""
    problems = []
    for error in exc.errors():
        field = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query"))
        problems.append(f"{field}: {error.get('msg', 'not valid')}" if field else error["msg"])
    return SENTENCES[422] if not problems else f"{SENTENCES[422][:-1]}: {'; '.join(problems)}."


async def _answer(handler: Handler, request: Request, exc: Exception) -> Response:
    answer = handler(request, exc)
    return await answer if inspect.isawaitable(answer) else answer


def install_web_error_pages(app: FastAPI) -> None:
    """Wrap the API's error handlers: web addresses get a page, the API keeps its JSON.

    Call after the API's handlers are installed (create_app does: mount_web runs later).
    """

    def wrap(kind: type[Exception], on_web: Callable[[Request, Any], Response]) -> None:
        api_handler: Handler | None = app.exception_handlers.get(kind)
        if api_handler is None:
            return

        async def handler(request: Request, exc: Any) -> Response:
            if not is_web_path(request.url.path):
                return await _answer(api_handler, request, exc)
            return on_web(request, exc)

        app.add_exception_handler(kind, handler)

    wrap(
        StarletteHTTPException,
        lambda r, e: _page(r, http_message(e), e.status_code, getattr(e, "headers", None)),
    )
    wrap(RequestValidationError, lambda r, e: _page(r, validation_message(e), 422, None))
    wrap(ApiError, lambda r, e: _page(r, _sentence(e.message), e.status, e.headers))


class WebServerErrorMiddleware:
    """A bug on a web address answers the 500 page with its sentence, not JSON.

    The API's UnexpectedErrorMiddleware, outside this one, answers any error it sees
    with the JSON envelope (an exception handler for Exception would never be reached):
    this one sits inside it and answers first for the web app's addresses. Once the
    answer has started (a download failing half-way) it lets the error through, so the
    connection is aborted rather than a file silently cut short; and if the page itself
    cannot be made (the database is what failed), the API's answer stands.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_web_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        tracked = ResponseStarted(send)

        try:
            await self.app(scope, receive, tracked)
        except Exception as error:
            if tracked.started:
                raise
            try:
                page = _page(Request(scope), SERVER_ERROR, 500, None)
            except Exception:
                raise error from None
            LOG.exception("unexpected error", extra={"path": scope["path"]})
            await page(scope, receive, send)
