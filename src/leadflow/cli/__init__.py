"""The `leadflow` command. Thin: it parses options and calls pipelines and services.

One module per command (group); this one assembles them into the Typer app and holds
the console script's entry point, `main`.
"""

from __future__ import annotations

import os
import sys

import typer

from ..aws.cli import aws_app
from . import dlq, errors, imports, serve, status, users

app = typer.Typer(
    help="leadflow: validate, normalize, de-duplicate and store CRM leads.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(users.app, name="users")
app.add_typer(errors.app, name="errors")
app.add_typer(dlq.app, name="dlq")
app.add_typer(aws_app, name="aws")
app.command()(serve.serve)
app.command()(serve.worker)
app.command("import")(imports.import_)
app.command()(status.status)


def main() -> None:
    """The console script: run the command, then leave without interpreter teardown.

    Once a command has finished, tearing the interpreter down and closing SQLite costs a
    quarter of a second after a large import (the close folds the write-ahead log back
    into the database and syncs it). Committed rows are already safe in the log, which
    the next connection folds in, so the process flushes its output and exits at once.
    Unexpected exceptions still unwind normally and print their traceback.
    """
    try:
        app()
        code: int | str | None = 0
    except SystemExit as exc:
        code = exc.code
    sys.stdout.flush()
    sys.stderr.flush()
    if isinstance(code, str):  # sys.exit("message") prints the message, exits 1
        print(code, file=sys.stderr, flush=True)
        code = 1
    os._exit(code or 0)
