"""`leadflow import`: a file through a pipeline in this process, with a progress bar."""

from __future__ import annotations

import json
import shlex
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from ..domain.merge import ImportMode, MergePolicy
from ..pipelines.importing import PipelineName
from .common import err, fail, load_settings, open_services

if TYPE_CHECKING:
    from ..bootstrap import Services
    from ..pipelines.importing import ImportOptions
    from ..pipelines.summary import ImportSummary
    from ..readers import RecordStream


def import_(
    file: Annotated[Path, typer.Argument(help="CSV, XLSX, JSON or NDJSON file.")],
    pipeline: Annotated[PipelineName, typer.Option(help="Which pipeline runs.")] = (
        PipelineName.LEADS
    ),
    owner: Annotated[
        str | None, typer.Option(help="User who owns the leads [LEADFLOW_INBOX_OWNER].")
    ] = None,
    mode: Annotated[ImportMode, typer.Option(help="Which leads may be written.")] = (
        ImportMode.CREATE_AND_UPDATE
    ),
    merge: Annotated[
        MergePolicy, typer.Option(help="replace: new values win; fill: only fill empty fields.")
    ] = MergePolicy.REPLACE,
    map_: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="Column mapping 'Column=field' (repeatable or comma-separated); fields: "
            "name, firstName, lastName, email, phone, title, company, remarks, optIn, interests.",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as one JSON line at the end.")
    ] = False,
    standardize: Annotated[
        str | None,
        typer.Option(
            help="llm: the LLM provider maps messy rows to lead fields "
            "[LEADFLOW_LLM_BASE_URL, LEADFLOW_LLM_API_KEY]."
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Worker processes for large files (0: one per core, 1: none) "
            "[LEADFLOW_IMPORT_WORKERS].",
            min=0,
        ),
    ] = None,
    header_row: Annotated[
        int | None,
        typer.Option(
            "--header-row",
            help="1-based line (CSV) or row (XLSX) holding the header; found when absent.",
            min=1,
        ),
    ] = None,
    sheet: Annotated[
        str | None,
        typer.Option(
            help="XLSX sheet by name or 1-based position; default: the first sheet "
            "that has a header row.",
        ),
    ] = None,
) -> None:
    """Import a file in-process and print what happened to its rows."""
    from ..pipelines.importing import ImportOptions
    from ..pipelines.mapping import InvalidMapping, parse_column_mapping
    from ..readers import UnreadableFile, open_records, read_options

    settings = load_settings()
    if not file.is_file():
        raise fail(f"{file} does not exist or is not a file")
    try:
        mapping = parse_column_mapping(map_ or [])
    except InvalidMapping as exc:
        raise fail(str(exc)) from None
    services = open_services(settings, bulk=True)
    owner_name = owner or settings.inbox_owner
    # a typo in --owner would file the leads under a name nobody logs in as
    unknown = services.users.password_hash(owner_name) is None
    if unknown and (owner is not None or services.users.has_users()):
        known = services.users.usernames()
        names = ", ".join(known) if known else "none yet (add one with: leadflow users add NAME)"
        err.print(
            f"[yellow]warning:[/] there is no user {escape(owner_name)!r}; the leads are stored "
            f"for that name anyway. Known users: {escape(names)}",
            highlight=False,
            soft_wrap=True,
        )
    standardizer = None
    # httpx and the provider metrics load only when a provider is used (CLI start-up)
    provider_errors: tuple[type[Exception], ...] = ()
    if standardize is not None:
        from ..providers import registry
        from ..providers.base import UnknownProvider
        from ..providers.client import ProviderError

        provider_errors = (ProviderError,)

        if standardize != "llm":
            raise fail("--standardize takes one value: llm")
        try:
            standardizer = registry.create("llm", settings)
        except UnknownProvider as exc:
            raise fail(str(exc)) from None
    options = ImportOptions(
        owner=owner or settings.inbox_owner,
        pipeline=pipeline,
        mode=mode,
        policy=merge,
        mapping=mapping,
        region=settings.default_region,
        source="cli",
        chunk_rows=settings.import_chunk_rows,
        workers=1 if standardizer else settings.import_workers if workers is None else workers,
        standardizer=standardizer,
    )
    _bulk_garbage_collection()
    try:
        stream = open_records(file, options.chunk_rows, read_options(settings, header_row, sheet))
        summary = _run_with_progress(services, file, options, stream)
    except (UnreadableFile, InvalidMapping) as exc:
        raise fail(str(exc)) from None
    except provider_errors as exc:
        raise fail(f"the LLM could not standardize the rows: {exc}") from None
    for warning in summary.warnings:
        err.print(f"[yellow]warning:[/] {warning}", highlight=False)
    if as_json:
        sys.stdout.write(json.dumps(summary.as_dict()) + "\n")
        return
    _print_summary(summary, options.owner, owner is not None)


def _bulk_garbage_collection() -> None:
    """Tune the cycle collector for this one-shot import process (and its workers).

    An import allocates millions of objects that refcounting frees; the collector's
    default (a pass every 700 allocations, full passes over every live object, the
    loaded modules included) cost about 0.4 s of 3.5 s CPU per 100k rows. The modules
    are frozen out of its passes and a pass comes every 100,000 allocations: cyclic
    garbage, which an import hardly makes, still goes.
    """
    import gc

    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


def _run_with_progress(
    services: Services, file: Path, options: ImportOptions, stream: RecordStream
) -> ImportSummary:
    """Run the import, with a progress bar (rows/s, ETA) when stderr is a terminal."""
    from ..bootstrap import write_ports_factory
    from ..pipelines.importing import import_file

    factory = write_ports_factory(services.settings)
    ports = services.write_ports(ledgered=False)  # a CLI import is never redelivered
    if not err.is_terminal:
        return import_file(ports, file, options, stream=stream, ports_factory=factory)
    from rich.progress import BarColumn, Progress, TextColumn

    started = time.perf_counter()
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn(
            "{task.fields[rows]:,} rows  {task.fields[rate]:,.0f} rows/s  ETA {task.fields[eta]}"
        ),
        console=err,
    )
    task = progress.add_task(f"importing {file.name}", total=None, rows=0, rate=0.0, eta="-")

    def on_progress(stream_: RecordStream, summary: ImportSummary) -> None:
        # Started on the first report, once the worker processes exist: forking while
        # the bar's refresh thread holds a lock could leave a child stuck on it.
        if not progress.live.is_started:
            progress.start()
        elapsed = max(time.perf_counter() - started, 1e-6)
        rate = summary.received / elapsed
        total = stream_.estimated_rows()
        # our own ETA: rich resets its speed estimate whenever the total is revised
        eta = "-" if total is None or not rate else _clock(max(0, total - summary.received) / rate)
        progress.update(
            task, completed=summary.received, total=total, rows=summary.received, rate=rate, eta=eta
        )

    try:
        summary = import_file(
            ports,
            file,
            options,
            on_progress=on_progress,
            stream=stream,
            ports_factory=factory,
        )
        progress.update(task, completed=1, total=1, eta="0:00")
    finally:
        progress.stop()
    return summary


def _clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}:{secs:02d}"


def _print_summary(summary: ImportSummary, owner: str, owner_given: bool = False) -> None:
    from rich.table import Table

    out = Console()
    table = Table(title=f"Imported for {owner}", show_header=False)
    labels = ("received", "valid", "invalid", "duplicates", "created", "updated", "unchanged")
    for label in (*labels, "ignored"):
        table.add_row(label, f"{getattr(summary, label):,}")
    table.add_row("seconds", f"{summary.seconds:.2f}")
    out.print(table)
    if summary.invalid:
        rows = "1 row was" if summary.invalid == 1 else f"{summary.invalid:,} rows were"
        # the follow-up names the same owner, or it would list another user's errors
        owner_flag = f" --owner {escape(shlex.quote(owner))}" if owner_given else ""
        out.print(
            f"{rows} rejected; the reasons: "
            f"[bold]leadflow errors list --import {summary.importId}{owner_flag}[/]",
            highlight=False,
            soft_wrap=True,
        )
