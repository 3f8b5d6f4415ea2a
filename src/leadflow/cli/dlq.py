"""`leadflow dlq list|redrive|purge`: the dead-letter queue."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console

from .common import err, fail, open_services

app = typer.Typer(help="The dead-letter queue: list, redrive, purge.", no_args_is_help=True)


OwnerFilter = Annotated[
    str | None, typer.Option(help="Only this user's messages (default: every user's).")
]
IdsOption = Annotated[
    list[str] | None, typer.Option("--id", help="Only these message ids (repeatable).")
]


@app.command("list")
def dlq_list(
    owner: OwnerFilter = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many, newest first.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Messages that failed too often, newest first, with their last error."""
    services = open_services()
    letters = services.dead_letters.list(owner, limit)
    if as_json:
        for letter in letters:
            sys.stdout.write(json.dumps(letter.as_json(), ensure_ascii=False) + "\n")
        return
    total = services.dead_letters.depth(owner)
    if not letters:
        err.print("the dead-letter queue is empty")
        return
    from rich.table import Table

    table = Table("id", "owner", "receives", "dead since", "last error", "message")
    for letter in letters:
        table.add_row(
            str(letter.id),
            letter.owner or "",
            str(letter.receive_count),
            letter.dead_at,
            letter.last_error or "",
            json.dumps(letter.body, ensure_ascii=False)[:80],
        )
    Console().print(table)
    if total > len(letters):
        err.print(f"showing {len(letters)} of {total}; use --limit for more")


@app.command("redrive")
def dlq_redrive(owner: OwnerFilter = None, ids: IdsOption = None) -> None:
    """Send dead letters back to the queue, with a fresh receive count."""
    moved = open_services().dead_letters.redrive(owner, ids)
    err.print(f"{moved} message{'s' if moved != 1 else ''} sent back to the queue")


@app.command("purge")
def dlq_purge(
    owner: OwnerFilter = None,
    ids: IdsOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete dead letters for good."""
    services = open_services()
    count = services.dead_letters.depth(owner) if ids is None else len(ids)
    if not yes:
        if not sys.stdin.isatty():
            raise fail("purging deletes for good: add --yes to do it without a prompt")
        typer.confirm(f"Delete up to {count} dead letters for good?", abort=True)
    purged = services.dead_letters.purge(owner, ids)
    err.print(f"{purged} dead letter{'s' if purged != 1 else ''} deleted")
