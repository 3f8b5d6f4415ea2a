"""First run (the setup code), sign-in and sign-out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from ...api.login import login_attempt
from ...clock import utc_now
from ...security import hash_password
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
    if session_user(request, services.secret, services.users) is None:
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
    now = utc_now("seconds")
    services.users.add_user(username, hashed, now)
    response = RedirectResponse("/import", status_code=303)
    start_session(response, request, services.secret, username, hashed)
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
    """Check the password under the API's login limits and start a session.

    The same check as POST /v1/auth/token (api.login): failures count per (username,
    address) and per address, so nobody can lock a user out from another address.
    """
    outcome = await login_attempt(request, services, username, password)
    if outcome.retry_after is not None:
        context = {"error": throttled_sentence(outcome.retry_after)}
        response = render(request, "signin.html", context, status_code=429)
        response.headers["Retry-After"] = str(outcome.retry_after)
        return response
    if outcome.password_hash is None:
        context = {"error": "unknown user or wrong password"}
        return render(request, "signin.html", context, status_code=401)
    response = RedirectResponse("/import", status_code=303)
    target = take_next(request, response)  # the page the session ended on, if any
    if target is not None:
        response.headers["location"] = target
    start_session(response, request, services.secret, username, outcome.password_hash)
    return response


def throttled_sentence(seconds: int) -> str:
    """What a throttled sign-in page says: why, and when to try again."""
    wait = f"{seconds} seconds" if seconds != 1 else "1 second"
    return f"Too many failed sign-ins from this address. Try again in {wait}."


@router.post("/signout", dependencies=[CsrfChecked])
def signout() -> Response:
    response = RedirectResponse("/signin", status_code=303)
    end_session(response)
    return response
