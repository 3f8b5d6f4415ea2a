"""A real leadflow HTTP server on loopback, for the API tests.

`live_api(tmp_path, **settings)` bootstraps a fresh data directory, adds the users
alice and bob, and runs `create_app(services)` under uvicorn in a background thread on
a free port of 127.0.0.1. Tests talk to it over real sockets with httpx.
"""

from __future__ import annotations

import atexit
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from leadflow.api.app import create_app
from leadflow.bootstrap import Services, bootstrap
from leadflow.security import hash_password, issue_token
from leadflow.settings import Settings

PASSWORDS = {"alice": "alice-Pa55word!", "bob": "bob-Pa55word!"}
USER_CREATED_AT = "2026-01-01T00:00:00Z"
ERROR_KEYS = {"code", "message", "details"}


@cache
def _password_hash(password: str) -> str:
    # argon2 is deliberately slow: hash each test password once per session.
    return hash_password(password)


@dataclass
class LiveApi:
    """A running server: its base URL and the services behind it."""

    base_url: str
    services: Services

    def token(self, username: str, ttl_seconds: int = 3600) -> str:
        """A bearer token as POST /v1/auth/token issues it (without argon2's cost)."""
        return issue_token(self.services.secret, username, ttl_seconds)

    def client(
        self, username: str | None = None, token: str | None = None, keepalive: bool = True
    ) -> httpx.Client:
        """An httpx client for this server, authenticated as `username` or with `token`.

        keepalive=False sends `Connection: close`, a fresh connection per request (the
        server keeps a connection usable after any error, a 500 included).
        """
        headers: dict[str, str] = {}
        if not keepalive:
            headers["Connection"] = "close"
        if username is not None:
            token = self.token(username)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30.0)


def make_services(data_dir: Path, **overrides: Any) -> Services:
    """Services over a fresh data directory, with alice and bob as users."""
    # Pinned so that LEADFLOW_* variables in the environment cannot change what tests expect.
    options: dict[str, Any] = {
        "data_dir": data_dir,
        "backend": "local",
        "rate_limit": 0,
        "login_attempts": 10,
        "max_body_bytes": 10 * 1024 * 1024,
        "token_ttl_seconds": 3600,
        "secret_key": None,
        "default_region": "US",
    }
    options.update(overrides)
    settings = Settings(_env_file=None, **options)  # type: ignore[call-arg]
    services = bootstrap(settings)
    for name, password in PASSWORDS.items():
        services.users.add_user(name, _password_hash(password), USER_CREATED_AT)
    return services


_stopping: list[threading.Thread] = []


@atexit.register
def _join_stopped_servers() -> None:
    for thread in _stopping:
        thread.join(timeout=15)


@contextmanager
def run_server(services: Services, app: Any = None) -> Iterator[str]:
    """Serve create_app(services) (or `app`) on 127.0.0.1 in a thread; yields the base URL."""
    _stopping[:] = [thread for thread in _stopping if thread.is_alive()]
    config = uvicorn.Config(
        create_app(services) if app is None else app,
        host="127.0.0.1",
        port=0,
        log_config=None,
        log_level="warning",
        access_log=False,
        lifespan="off",
        proxy_headers=False,  # as `leadflow serve`: X-Forwarded-For is leadflow's to read
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="leadflow-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the test server did not start")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("the test server did not start within 15 s")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        # uvicorn takes ~0.2 s to wind down (a 0.1 s tick plus a 0.1 s grace sleep); let it
        # do so in the background instead of making every test wait for it.
        server.should_exit = True
        _stopping.append(thread)


@contextmanager
def live_api(data_dir: Path, **overrides: Any) -> Iterator[LiveApi]:
    """A fresh data directory and a running server over it."""
    services = make_services(data_dir, **overrides)
    with run_server(services) as base_url:
        yield LiveApi(base_url, services)


def assert_envelope(
    response: httpx.Response, status: int, code: str | None = None
) -> dict[str, Any]:
    """The response is the error envelope with this status (and code); returns the error."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == ERROR_KEYS, error
    assert isinstance(error["code"], str) and error["code"], error
    assert isinstance(error["message"], str) and error["message"], error
    if code is not None:
        assert error["code"] == code, error
    assert "Traceback" not in response.text
    return error
