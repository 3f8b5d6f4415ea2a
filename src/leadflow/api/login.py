"""One password check for every sign-in (the API's token endpoint, the web app's form).

- Failures count per (username, address) and per address, never per username alone:
  failing from one address cannot lock the user out from another, and a spray of names
  from one address is still stopped (429 with Retry-After).
- The address is the TCP peer, or what a trusted proxy forwarded (client_address).
- argon2 takes tens of milliseconds of CPU on purpose: it runs in the thread pool, so a
  burst of logins never stalls the event loop and every other request with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.concurrency import run_in_threadpool
from starlette.requests import Request

from ..bootstrap import Services
from ..security import verify_password
from .client_address import client_address
from .limits import LoginThrottle


@dataclass(frozen=True, slots=True)
class LoginOutcome:
    """`password_hash` when the password was right; `retry_after` seconds when throttled."""

    password_hash: str | None = None
    retry_after: int | None = None


async def login_attempt(
    request: Request, services: Services, username: str, password: str
) -> LoginOutcome:
    """Check a username and password under the login limits (see the module docstring)."""
    throttle: LoginThrottle = request.app.state.login_throttle
    address = client_address(request, services.settings.trusted_proxy_networks)
    pair, from_address = f"pair:{username}\n{address}", f"addr:{address}"
    for key in (pair, from_address):
        wait = throttle.retry_after(key)
        if wait is not None:
            return LoginOutcome(retry_after=wait)
    stored = await run_in_threadpool(_check_password, services, username, password)
    if stored is None:
        for key in (pair, from_address):
            throttle.failed(key)
        return LoginOutcome()
    throttle.succeeded(pair)
    return LoginOutcome(password_hash=stored)


def _check_password(services: Services, username: str, password: str) -> str | None:
    """The stored hash when the password is right, else None."""
    stored = services.users.password_hash(username)
    return stored if verify_password(stored, password) else None
