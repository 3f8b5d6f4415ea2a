"""`leadflow users add|passwd`: API users and their passwords (read from stdin)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from .common import err, fail, open_services

app = typer.Typer(help="Manage API users.", no_args_is_help=True)


@app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="User name.")],
) -> None:
    """Add a user (or reset their password); the password is read from stdin.

    Resetting a password ends every token issued with the old one.
    """
    _save_password(name, must_exist=False)


@app.command("passwd")
def users_passwd(
    name: Annotated[str, typer.Argument(help="An existing user's name.")],
) -> None:
    """Set a new password for an existing user (read from stdin); their tokens end."""
    _save_password(name, must_exist=True)


def _save_password(name: str, must_exist: bool) -> None:
    from ..clock import utc_now
    from ..security import hash_password

    if not name.strip() or len(name) > 64:
        raise fail("the user name must be 1 to 64 characters")
    services = open_services()
    if must_exist and services.users.password_hash(name.strip()) is None:
        raise fail(f"no user {name.strip()!r}; add one with: leadflow users add {name.strip()}")
    if sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < 8:
        raise fail("the password must be at least 8 characters long")
    services.users.add_user(name.strip(), hash_password(password), utc_now())
    err.print(f"user {name.strip()!r} saved", highlight=False)
