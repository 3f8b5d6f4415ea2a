"""`leadflow serve` (the API, the web app and embedded workers) and `leadflow worker`.

The loops themselves are started and stopped by jobs/runtime.py; these commands only
print where things run and wait for the stop signal.
"""

from __future__ import annotations

import errno
import shlex
import threading
from typing import Annotated

import typer
from rich.markup import escape

from .common import err, fail, load_settings, open_services


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on [LEADFLOW_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on [LEADFLOW_PORT].")] = None,
) -> None:
    """Start the HTTP API (docs at /docs) with LEADFLOW_WORKERS embedded job workers."""
    import uvicorn

    from ..api.app import create_app
    from ..bootstrap import runtime_ports
    from ..jobs.runtime import running
    from ..logs import configure_logging

    settings = load_settings(host=host, port=port)
    configure_logging(settings.log_level)
    _check_port(settings.host, settings.port)
    services = open_services(settings)
    app_ = create_app(services)
    err.print(f"leadflow API on http://{settings.host}:{settings.port}  (docs: /docs)")
    err.print(f"web app: http://{settings.host}:{settings.port}/")
    err.print(f"data directory: {settings.data_dir.resolve()}")
    if not services.users.has_users():
        data_dir = shlex.quote(str(settings.data_dir.resolve()))
        err.print(
            "[yellow]No users yet.[/] Add one with:  "
            f"[bold]echo 'a-long-password' | LEADFLOW_DATA_DIR={escape(data_dir)} "
            ".venv/bin/leadflow users add admin[/]",
            highlight=False,
            soft_wrap=True,
        )
        from ..web.setup_code import ensure_setup_code

        err.print(
            f"Or open http://{settings.host}:{settings.port}/ and use the one-time setup code "
            f"[bold]{ensure_setup_code(settings.data_dir)}[/]",
            highlight=False,
            soft_wrap=True,
        )
    with running(runtime_ports(services), threading.Event(), settings.workers, "serve") as runtime:
        app_.state.supervisor = runtime  # /readyz reports it
        uvicorn.run(
            app_,
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=False,
            loop="auto",
            http="auto",
            # X-Forwarded-For is read by leadflow itself, and only from
            # LEADFLOW_TRUSTED_PROXIES; uvicorn's own reading believes any local peer.
            proxy_headers=False,
            h11_max_incomplete_event_size=settings.max_header_bytes,
        )


def _check_port(host: str, port: int) -> None:
    """Exit 2 with one line when the address is taken (before any thread starts)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise fail(f"cannot listen on {host}:{port} (LEADFLOW_HOST): {exc}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            reason = "is already in use" if exc.errno == errno.EADDRINUSE else f"failed: {exc}"
            raise fail(
                f"port {port} on {host} {reason}; choose another with --port or LEADFLOW_PORT"
            ) from None


def worker() -> None:
    """Run a job worker, the inbox watcher, the notifier and the sweeper in the
    foreground (several may share one data directory); each restarts after a failure.

    On SIGTERM or Ctrl-C it finishes the message in hand and exits; a worker killed
    outright leaves its messages to come back when their lease runs out.
    """
    import signal

    from ..bootstrap import runtime_ports
    from ..jobs.runtime import running
    from ..logs import configure_logging

    settings = load_settings()
    configure_logging(settings.log_level)
    services = open_services(settings)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    err.print(f"leadflow worker on {settings.data_dir.resolve()} (stop with Ctrl-C)")
    with running(runtime_ports(services), stop, 1, "worker"):
        while not stop.wait(1.0):  # the main thread only waits: signals are handled here
            pass
    err.print("worker stopped")
