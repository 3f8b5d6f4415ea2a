"""The `leadflow` command. Thin: it parses options and calls pipelines and services."""

from __future__ import annotations

import errno
import json
import os
import shlex
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from .aws.cli import aws_app as _aws_app
from .domain.merge import ImportMode, MergePolicy
from .pipelines.importing import PipelineName
from .settings import Settings

if TYPE_CHECKING:
    from .bootstrap import Services
    from .pipelines.importing import ImportOptions
    from .pipelines.summary import ImportSummary
    from .readers import RecordStream

app = typer.Typer(
    help="leadflow: validate, normalize, de-duplicate and store CRM leads.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
users_app = typer.Typer(help="Manage API users.", no_args_is_help=True)
errors_app = typer.Typer(help="Read the schema-error log.", no_args_is_help=True)
dlq_app = typer.Typer(help="The dead-letter queue: list, redrive, purge.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(errors_app, name="errors")
app.add_typer(dlq_app, name="dlq")
app.add_typer(_aws_app, name="aws")

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


def _services(settings: Settings | None = None, bulk: bool = False) -> Services:
    import sqlite3

    from .bootstrap import UnsupportedBackend, bootstrap

    settings = settings or load_settings()
    try:
        return bootstrap(settings, bulk=bulk)
    except UnsupportedBackend as exc:
        raise fail(str(exc)) from None
    except (OSError, sqlite3.Error) as exc:
        raise fail(
            f"cannot use the data directory {settings.data_dir} (LEADFLOW_DATA_DIR): {exc}"
        ) from None


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print `message` as one line on stderr; the Exit to raise."""
    line = " ".join(message.split())  # a parser's multi-line message is still one line
    err.print(f"[bold red]error:[/] {escape(line)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on [LEADFLOW_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on [LEADFLOW_PORT].")] = None,
) -> None:
    """Start the HTTP API (docs at /docs) with LEADFLOW_WORKERS embedded job workers."""
    import uvicorn

    from .api.app import create_app
    from .jobs.runtime import build_runtime
    from .logs import configure_logging

    settings = load_settings(host=host, port=port)
    configure_logging(settings.log_level)
    _check_port(settings.host, settings.port)
    services = _services(settings)
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
        from .web.setup_code import ensure_setup_code

        err.print(
            f"Or open http://{settings.host}:{settings.port}/ and use the one-time setup code "
            f"[bold]{ensure_setup_code(settings.data_dir)}[/]",
            highlight=False,
            soft_wrap=True,
        )
    stop = threading.Event()
    runtime = build_runtime(services, stop, settings.workers, "serve")
    app_.state.supervisor = runtime  # /readyz reports it
    threads = runtime.start()
    try:
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
    finally:
        stop.set()  # each worker finishes the message in hand
        for thread in threads:
            thread.join()
        runtime.close()


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


@app.command()
def worker() -> None:
    """Run a job worker, the inbox watcher, the notifier and the sweeper in the
    foreground (several may share one data directory); each restarts after a failure.

    On SIGTERM or Ctrl-C it finishes the message in hand and exits; a worker killed
    outright leaves its messages to come back when their lease runs out.
    """
    import signal

    from .jobs.runtime import build_runtime
    from .logs import configure_logging

    settings = load_settings()
    configure_logging(settings.log_level)
    services = _services(settings)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    err.print(f"leadflow worker on {settings.data_dir.resolve()} (stop with Ctrl-C)")
    runtime = build_runtime(services, stop, 1, "worker")
    threads = runtime.start()
    while not stop.wait(1.0):  # the main thread only waits: signals are handled here
        pass
    for thread in threads:
        thread.join()
    runtime.close()
    err.print("worker stopped")


@app.command("import")
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
    from .pipelines.importing import ImportOptions
    from .pipelines.mapping import InvalidMapping, parse_column_mapping
    from .readers import UnreadableFile, open_records, read_options

    settings = load_settings()
    if not file.is_file():
        raise fail(f"{file} does not exist or is not a file")
    try:
        mapping = parse_column_mapping(map_ or [])
    except InvalidMapping as exc:
        raise fail(str(exc)) from None
    services = _services(settings, bulk=True)
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
        from .providers import registry
        from .providers.base import UnknownProvider
        from .providers.client import ProviderError

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
        source="upload",
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
    from .bootstrap import lead_store_factory
    from .pipelines.importing import import_file

    factory = lead_store_factory(services.settings)
    if not err.is_terminal:
        return import_file(services.leads, file, options, stream=stream, store_factory=factory)
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
            services.leads,
            file,
            options,
            on_progress=on_progress,
            stream=stream,
            store_factory=factory,
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


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="User name.")],
) -> None:
    """Add a user (or reset their password); the password is read from stdin.

    Resetting a password ends every token issued with the old one.
    """
    _save_password(name, must_exist=False)


@users_app.command("passwd")
def users_passwd(
    name: Annotated[str, typer.Argument(help="An existing user's name.")],
) -> None:
    """Set a new password for an existing user (read from stdin); their tokens end."""
    _save_password(name, must_exist=True)


def _save_password(name: str, must_exist: bool) -> None:
    from .pipelines.importing import utc_now
    from .security import hash_password

    if not name.strip() or len(name) > 64:
        raise fail("the user name must be 1 to 64 characters")
    services = _services()
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


@errors_app.command("list")
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
    services = _services(settings)
    rows = services.leads.list_schema_errors(
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


@app.command()
def status(
    job_id: Annotated[
        str | None,
        typer.Argument(help="The uploadId (or jobId) of a job; without it, the runtime."),
    ] = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Show progress until the job ends.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the status document (or runtime report).")
    ] = False,
) -> None:
    """A job's status document; with --follow, a progress bar until it ends.

    Without a job id: each running `leadflow serve`/`worker` on the data directory and
    the state of its loops, as GET /readyz shows them; exit 1 while one is down.
    """
    from .jobs.status_store import ENDED

    if job_id is None:
        if follow:
            raise fail("--follow needs a job id")
        _runtime_status(load_settings(), as_json)
        return
    services = _services()
    job = services.status.get_job(job_id)
    if job is None:
        raise fail(f"no job {job_id}")

    def document() -> dict[str, Any]:
        doc = services.status.document(job_id, job.owner)
        if doc is None:
            raise fail(f"job {job_id} is gone (its status expired)")
        return doc

    doc = document()
    if follow and doc["status"] not in ENDED:
        from rich.progress import BarColumn, Progress, TextColumn

        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%  {task.fields[detail]}"),
            console=err,
        ) as bar:
            task = bar.add_task(job_id[:8], total=100, detail="")
            while doc["status"] not in ENDED:
                progress = doc["progress"]
                assert isinstance(progress, dict)
                done, total = progress["processedLeads"], progress["totalLeads"]
                detail = f"{doc['stage']}  {done:,}/{total:,} rows"
                bar.update(task, completed=progress["percentage"], detail=detail)
                time.sleep(0.5)
                doc = document()
            bar.update(task, completed=100 if doc["status"] == "completed" else None)
    if as_json:
        sys.stdout.write(json.dumps(doc) + "\n")
        return
    progress = doc["progress"]
    assert isinstance(progress, dict)
    err.print(f"{job_id}: {doc['status']} ({doc['stage']}), {progress['percentage']}%")
    summary = doc.get("summary")
    if summary:
        counts = {k: v for k, v in summary.items() if isinstance(v, int)}  # not `columns`
        err.print("  " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    if doc.get("error"):
        err.print(f"  {_error_sentence(doc['error'])}", highlight=False, soft_wrap=True)
    if doc["status"] == "error":
        raise typer.Exit(1)


def _runtime_status(settings: Settings, as_json: bool) -> None:
    from rich.table import Table

    from .jobs.supervisor import runtime_report

    report = runtime_report(settings.data_dir / "run")
    if as_json:
        sys.stdout.write(json.dumps(report) + "\n")
    elif not report["processes"]:
        err.print(f"no leadflow serve or worker is running on {settings.data_dir.resolve()}")
    else:
        table = Table("Process", "Component", "State", "Restarts", "Since", "Last error")
        for process in report["processes"]:
            for component in process["components"]:
                table.add_row(
                    f"{process['role']} {process['pid']}",
                    component["name"],
                    component["state"],
                    str(component["restarts"]),
                    component["since"],
                    " ".join(filter(None, [component["lastErrorAt"], component["lastError"]])),
                )
        Console().print(table)
        err.print("ready" if report["ready"] else "not ready: a component is down")
    if not report["ready"] or not report["processes"]:
        raise typer.Exit(1)


def _error_sentence(error: Any) -> str:
    """A job's error document as one sentence: 'Error (code): message.'"""
    if not isinstance(error, dict):
        return escape(f"Error: {' '.join(str(error).split())}")
    message = " ".join(str(error.get("message") or "no details were recorded").split())
    code = error.get("code")
    text = f"Error ({code}): {message}" if code else f"Error: {message}"
    return escape(text if text.endswith((".", "!", "?")) else text + ".")


OwnerFilter = Annotated[
    str | None, typer.Option(help="Only this user's messages (default: every user's).")
]
IdsOption = Annotated[
    list[int] | None, typer.Option("--id", help="Only these message ids (repeatable).")
]


@dlq_app.command("list")
def dlq_list(
    owner: OwnerFilter = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many, newest first.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Messages that failed too often, newest first, with their last error."""
    services = _services()
    letters = services.queue.dead_letters(owner, limit)
    if as_json:
        for letter in letters:
            sys.stdout.write(json.dumps(letter.as_json(), ensure_ascii=False) + "\n")
        return
    total = services.queue.dlq_depth(owner)
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


@dlq_app.command("redrive")
def dlq_redrive(owner: OwnerFilter = None, ids: IdsOption = None) -> None:
    """Send dead letters back to the queue, with a fresh receive count."""
    moved = _services().queue.redrive(owner, ids)
    err.print(f"{moved} message{'s' if moved != 1 else ''} sent back to the queue")


@dlq_app.command("purge")
def dlq_purge(
    owner: OwnerFilter = None,
    ids: IdsOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete dead letters for good."""
    services = _services()
    count = services.queue.dlq_depth(owner) if ids is None else len(ids)
    if not yes:
        if not sys.stdin.isatty():
            raise fail("purging deletes for good: add --yes to do it without a prompt")
        typer.confirm(f"Delete up to {count} dead letters for good?", abort=True)
    purged = services.queue.purge_dead(owner, ids)
    err.print(f"{purged} dead letter{'s' if purged != 1 else ''} deleted")


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
