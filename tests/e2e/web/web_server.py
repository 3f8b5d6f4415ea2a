"""A real leadflow server (API, web app and embedded workers) on loopback, for the
browser tests, and the helpers they share: screenshots, axe-core, session cookies."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import uvicorn
from playwright.sync_api import BrowserContext, Page

from leadflow.api.app import create_app
from leadflow.bootstrap import Services, bootstrap, runtime_ports
from leadflow.jobs.runtime import build_runtime
from leadflow.security import hash_password, issue_token
from leadflow.settings import Settings
from leadflow.web.sessions import SESSION_COOKIE

PASSWORDS = {"alice": "alice-Pa55word!", "bob": "bob-Pa55word!"}
AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"


@cache
def _password_hash(password: str) -> str:
    return hash_password(password)  # argon2 is slow on purpose: once per session


@dataclass
class WebServer:
    base_url: str
    services: Services
    data_dir: Path

    def url(self, path: str) -> str:
        return self.base_url + path

    def sign_in(self, context: BrowserContext, user: str = "alice") -> None:
        """A session cookie as the sign-in form sets it (the sign-in test uses the form)."""
        stored = self.services.users.password_hash(user)
        token = issue_token(self.services.secret, user, 3600, stored)
        context.add_cookies(
            [
                {
                    "name": SESSION_COOKIE,
                    "value": token,
                    "url": self.base_url,
                    "httpOnly": True,
                    "sameSite": "Strict",
                }
            ]
        )


def make_services(data_dir: Path, users: bool = True, **overrides: Any) -> Services:
    options: dict[str, Any] = {
        "data_dir": data_dir,
        "backend": "local",
        "rate_limit": 0,
        "secret_key": None,
        "default_region": "US",
        "batch_size": 100,
        "access_log": False,
        "workers": 2,
    }
    options.update(overrides)
    services = bootstrap(Settings(_env_file=None, **options))  # type: ignore[call-arg]
    if users:
        for name, password in PASSWORDS.items():
            services.users.add_user(name, _password_hash(password), "2026-01-01T00:00:00Z")
    return services


@contextmanager
def run_web_server(data_dir: Path, users: bool = True, **overrides: Any) -> Iterator[WebServer]:
    """Serve the whole app (with its workers) on 127.0.0.1 in threads."""
    services = make_services(data_dir, users, **overrides)
    stop = threading.Event()
    runtime = build_runtime(runtime_ports(services), stop, services.settings.workers, "web-test")
    workers = runtime.start()
    config = uvicorn.Config(
        create_app(services),
        host="127.0.0.1",
        port=0,
        log_config=None,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="leadflow-web-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield WebServer(f"http://127.0.0.1:{port}", services, data_dir)
    finally:
        server.should_exit = True
        stop.set()
        thread.join(timeout=15)
        for worker in workers:
            worker.join(timeout=15)
        runtime.close()


def screenshot(page: Page, folder: Path, name: str) -> Path:
    """Save a full-page PNG of the page into the test's output folder."""
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now.

    The page's context must be made with bypass_csp=True: axe is injected as a script,
    which the app's Content-Security-Policy would (rightly) refuse.
    """
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document)")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def describe(violations: list[dict[str, Any]]) -> str:
    return json.dumps(violations, indent=1)
