"""What every command shares: settings with clear errors, the services, one-line failures."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape

from ..settings import Settings

if TYPE_CHECKING:
    from ..bootstrap import Services

err = Console(stderr=True)


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment and .env, with CLI flags on top; clear errors."""
    from pydantic import ValidationError

    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"LEADFLOW_{'_'.join(map(str, e['loc'])).upper()}: "
            + str(e["msg"]).removeprefix("Value error, ")
            for e in exc.errors()
        )
        raise fail(f"invalid configuration: {problems}") from None


def open_services(settings: Settings | None = None, bulk: bool = False) -> Services:
    """The wired services for `settings` (default: from the environment); exit 2 with
    one line when the backend is not supported or the data directory cannot be used."""
    from ..bootstrap import BackendUnreachable, StoreUnreachable, UnsupportedBackend, bootstrap

    settings = settings or load_settings()
    try:
        return bootstrap(settings, bulk=bulk)
    except (UnsupportedBackend, BackendUnreachable) as exc:
        raise fail(str(exc)) from None
    except StoreUnreachable as exc:
        raise fail(
            f"cannot use the data directory {settings.data_dir} (LEADFLOW_DATA_DIR): {exc}"
        ) from None


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print `message` as one line on stderr; the Exit to raise."""
    line = " ".join(message.split())  # a parser's multi-line message is still one line
    err.print(f"[bold red]error:[/] {escape(line)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)
