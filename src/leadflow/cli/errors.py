"""`leadflow errors list`: the schema-error log (records that failed validation)."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console

from .common import err, load_settings, open_services

app = typer.Typer(help="Read the schema-error log.", no_args_is_help=True)


@app.command("list")
def errors_list(
    owner: Annotated[str | None, typer.Option(help="Whose errors [LEADFLOW_INBOX_OWNER].")] = None,
    import_id: Annotated[
        str | None, typer.Option("--import", help="Only this import's errors.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many, newest first.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List records that failed validation, newest first, with every failing field."""
    settings = load_settings()
    services = open_services(settings)
    rows = services.schema_errors.list(
        owner or settings.inbox_owner, limit=limit, import_id=import_id
    )
    if as_json:
        for row in rows:
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    if not rows:
        err.print("no schema errors")
        return
    from rich.table import Table

    table = Table("id", "source", "index", "errors", "record")
    for row in rows:
        reasons = "\n".join(f"{e['field']}: {e['message']}" for e in row["errors"])
        record = json.dumps(row["record"], ensure_ascii=False)
        table.add_row(str(row["id"]), row["source"], str(row["index"]), reasons, record[:120])
    Console().print(table)
