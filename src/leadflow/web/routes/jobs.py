"""Jobs: the list, one job's live panel (polled every 2 s), cancel, undo, downloads."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from ...clock import parse_iso, utc_datetime
from ...jobs.status import ENDED
from ...signed_urls import download_link
from ..api_calls import call_api, error_message
from ..pages import CsrfChecked, WebServices, WebUser, render

router = APIRouter(include_in_schema=False)
DOWNLOAD_SECONDS = 300


def seconds_left(document: dict[str, Any], now: dt.datetime | None = None) -> int | None:
    """Seconds until the estimated completion of a running job (None: unknown)."""
    if document["status"] in ENDED:
        return None
    stamp = document["metadata"].get("estimatedCompletion")
    if not stamp:
        return None
    left = (parse_iso(stamp) - (now or utc_datetime())).total_seconds()
    return max(0, round(left))


def eta_text(seconds: int | None) -> str | None:
    """'about 45 s left', 'about 3 min left', 'about 2 h 5 min left' (None: unknown)."""
    if seconds is None:
        return None
    if seconds < 90:
        return f"about {seconds} s left"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"about {minutes} min left"
    return f"about {minutes // 60} h {minutes % 60} min left"


def applied_something(document: dict[str, Any]) -> bool:
    """Whether the job created or updated a lead: only then is there anything to undo.

    A job that ended in error (or was cancelled) before its first batch, or whose rows
    were all unchanged, invalid or duplicates, wrote nothing.
    """
    summary = document.get("summary") or {}
    applied = (summary.get(name) for name in ("created", "updated"))
    return any(isinstance(count, int) and count > 0 for count in applied)


def _panel(
    request: Request,
    user: str,
    document: dict[str, Any],
    undo: dict[str, Any] | None = None,
    message: str | None = None,
) -> Response:
    context = {
        "job": document,
        "ended": document["status"] in ENDED,
        "eta": eta_text(seconds_left(document)),
        "undo_result": undo,
        "undoable": applied_something(document),
        "message": message,
    }
    return render(request, "_job_panel.html", context, user)


@router.get("/jobs")
def jobs_page(request: Request, user: WebUser, services: WebServices) -> Response:
    """Every upload and enrichment job of the user, newest first."""
    documents = []
    kinds = {}
    for job in services.jobs.list(user, 200):
        documents.append(services.document_of(job))
        kinds[job.job_id] = job.kind
    running = any(d["status"] not in ENDED for d in documents)
    context = {"jobs": documents, "kinds": kinds, "running": running}
    template = "_jobs_table.html" if request.headers.get("HX-Request") else "jobs.html"
    return render(request, template, context, user)


def _not_found(request: Request, user: str, job_id: str) -> Response:
    return render(request, "_message.html", {"message": f"no job {job_id}"}, user, 404)


@router.get("/jobs/{job_id}/panel")
def job_panel(job_id: str, request: Request, user: WebUser, services: WebServices) -> Response:
    """The job's progress; while it runs, the fragment asks for itself again in 2 s."""
    document = services.job_document(job_id, user)
    if document is None:
        return _not_found(request, user, job_id)
    return _panel(request, user, document)


@router.post("/jobs/{job_id}/cancel", dependencies=[CsrfChecked])
def cancel(job_id: str, request: Request, user: WebUser, services: WebServices) -> Response:
    """Cancel: running batches finish, the others are skipped."""
    cancelled = services.jobs.cancel(job_id, user)
    document = services.job_document(job_id, user)
    if cancelled is None or document is None:
        return _not_found(request, user, job_id)
    message = None if cancelled else "the job had ended already"
    return _panel(request, user, document, message=message)


@router.post("/jobs/{job_id}/undo", dependencies=[CsrfChecked])
async def undo(job_id: str, request: Request, user: WebUser, services: WebServices) -> Response:
    """Undo the import (POST /v1/uploads/{id}/undo): its result, conflicts included."""
    answer = await call_api(request, user, "POST", f"/v1/uploads/{job_id}/undo")
    document = services.job_document(job_id, user)
    if document is None:
        return _not_found(request, user, job_id)
    if answer.status_code != 200:
        return _panel(request, user, document, message=error_message(answer))
    return _panel(request, user, document, undo=answer.json())


@router.get("/jobs/{job_id}/errors.csv")
async def error_file(job_id: str, request: Request, user: WebUser) -> Response:
    """The error file: the rejected rows as received, each with its reasons."""
    answer = await call_api(request, user, "GET", f"/v1/uploads/{job_id}/errors.csv")
    if answer.status_code != 200:
        return render(request, "_message.html", {"message": error_message(answer)}, user, 404)
    headers = {"Content-Disposition": f'attachment; filename="errors-{job_id}.csv"'}
    return Response(answer.content, media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/jobs/{job_id}/result.{suffix}")
def result_file(
    job_id: str, suffix: str, request: Request, user: WebUser, services: WebServices
) -> Response:
    """The job's result file, through a short signed download link."""
    job = services.jobs.get(job_id, user)
    if job is None or job.result_key is None or suffix not in ("csv", "json"):
        return _not_found(request, user, job_id)
    return RedirectResponse(
        download_link(
            services.blobs, services.secret, f"{job.result_key}.{suffix}", DOWNLOAD_SECONDS
        ),
        status_code=303,
    )
