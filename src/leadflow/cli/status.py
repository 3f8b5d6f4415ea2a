"""`leadflow status`: a job's status document, or each running process's loops."""

from __future__ import annotations

import json
import sys
import time
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from ..settings import Settings
from .common import err, fail, load_settings, open_services


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
    from ..jobs.status import ENDED

    if job_id is None:
        if follow:
            raise fail("--follow needs a job id")
        _runtime_status(load_settings(), as_json)
        return
    services = open_services()
    job = services.jobs.get(job_id)
    if job is None:
        raise fail(f"no job {job_id}")

    def document() -> dict[str, Any]:
        doc = services.job_document(job_id, job.owner)
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

    from ..jobs.supervisor import runtime_report

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
