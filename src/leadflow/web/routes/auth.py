"""First run (the setup code), sign-in and sign-out."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from ...api.limits import LoginThrottle
from ...security import hash_password, verify_password
from ..pages import CsrfChecked, WebServices, render
from ..sessions import end_session, session_user, start_session, take_next
from ..setup_code import code_path, consume_setup_code, ensure_setup_code

router = APIRouter(include_in_schema=False)
MIN_PASSWORD = 10


def _first_run(request: Request, services: WebServices, error: str | None, status: int) -> Response:
    ensure_setup_code(services.settings.data_dir)
    context = {"error": error, "code_file": str(code_path(services.settings.data_dir))}
    return render(request, "setup.html", context, status_code=status)


@router.get("/")
def home(request: Request, services: WebServices) -> Response:
    """First run on a fresh data directory; else the import page (or the sign-in)."""
    if not services.users.has_users():
        return _first_run(request, services, None, 200)
    if session_user(request, services.secret) is None:
        return RedirectResponse("/signin", status_code=303)
    return RedirectResponse("/import", status_code=303)


@router.post("/setup", dependencies=[CsrfChecked])
async def setup(
    request: Request,
    services: WebServices,
    code: Annotated[str, Form(max_length=100)] = "",
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """Create the first user with the one-time setup code, and sign them in."""
    if services.users.has_users():
        return RedirectResponse("/signin", status_code=303)
    username = username.strip()
    if not username or len(password) < MIN_PASSWORD:
        message = f"choose a username and a password of at least {MIN_PASSWORD} characters"
        return _first_run(request, services, message, 422)
    if not consume_setup_code(services.settings.data_dir, code):
        return _first_run(request, services, "that is not the setup code", 403)
    if services.users.has_users():  # someone else won in between (they had the code too)
        return RedirectResponse("/signin", status_code=303)
    hashed = await run_in_threadpool(hash_password, password)
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    services.users.add_user(username, hashed, now)
    response = RedirectResponse("/import", status_code=303)
    start_session(response, request, services.secret, username)
    return response


@router.get("/signin")
def signin_page(request: Request, services: WebServices) -> Response:
    if not services.users.has_users():
        return RedirectResponse("/", status_code=303)
    return render(request, "signin.html", {"error": None})


@router.post("/signin", dependencies=[CsrfChecked])
async def signin(
    request: Request,
    services: WebServices,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """Check the password (with the API's login throttle) and start a session."""
    throttle: LoginThrottle = request.app.state.login_throttle
    address = request.client.host if request.client else "unknown"
    keys = (f"user:{username}", f"addr:{address}")
    if any(throttle.retry_after(key) is not None for key in keys):
        context = {"error": "too many failed sign-ins; wait a minute and try again"}
        return render(request, "signin.html", context, status_code=429)
    stored = services.users.password_hash(username)
    if not await run_in_threadpool(verify_password, stored, password):
        for key in keys:
            throttle.failed(key)
        context = {"error": "unknown user or wrong password"}
        return render(request, "signin.html", context, status_code=401)
    throttle.succeeded(keys[0])
    response = RedirectResponse("/import", status_code=303)
    target = take_next(request, response)  # the page the session ended on, if any
    if target is not None:
        response.headers["location"] = target
    start_session(response, request, services.secret, username)
    return response


@router.post("/signout", dependencies=[CsrfChecked])
def signout() -> Response:
    response = RedirectResponse("/signin", status_code=303)
    end_session(response)
    return response
