"""The import page: choose a file, map its columns, preview, dry-run, start the job."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any
from weakref import WeakValueDictionary

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.responses import RedirectResponse, Response

from ...bootstrap import upload_ports
from ...clock import utc_now
from ...domain.headers import LEAD_FIELDS
from ...domain.merge import ImportMode, MergePolicy
from ...jobs.uploads import start_upload
from ...ports import BlobTooLarge
from ...readers import UnreadableFile
from ..import_plan import DONT_IMPORT, Preview, build_preview, dry_run, explicit_mapping
from ..pages import CsrfChecked, WebServices, WebUser, read_form, render
from ..staging import (
    StagedFile,
    load_staged,
    local_copy,
    mark_started,
    stage_file,
    staged_chunks,
    started_job,
)

router = APIRouter(include_in_schema=False)
CHUNK = 1024 * 1024
FIELD_LABELS = {
    "name": "Full name",
    "firstName": "First name",
    "lastName": "Last name",
    "email": "Email",
    "phone": "Phone",
    "title": "Job title",
    "company": "Company",
    "remarks": "Remarks",
    "optIn": "Opt-in",
    "interests": "Interests",
}


def _chunks(upload: UploadFile) -> Iterator[bytes]:
    while chunk := upload.file.read(CHUNK):
        yield chunk


def _text(form: FormData, name: str, limit: int = 200) -> str | None:
    value = form.get(name)
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()[:limit]


def _header_row(form: FormData) -> int | None:
    value = _text(form, "headerRow", 10)
    if value is None or not value.isdigit():
        return None
    number = int(value)
    return number if 1 <= number <= 10_000 else None


def _choices(form: FormData) -> dict[str, str]:
    headers = [h for h in form.getlist("header") if isinstance(h, str)]
    fields = [f for f in form.getlist("field") if isinstance(f, str)]
    return dict(zip(headers, fields, strict=False))


def _mode(form: FormData) -> ImportMode:
    try:
        return ImportMode(_text(form, "mode") or ImportMode.CREATE_AND_UPDATE)
    except ValueError:
        return ImportMode.CREATE_AND_UPDATE


def _policy(form: FormData) -> MergePolicy:
    try:
        return MergePolicy(_text(form, "merge") or MergePolicy.REPLACE)
    except ValueError:
        return MergePolicy.REPLACE


@router.get("/import")
def import_page(request: Request, user: WebUser, services: WebServices) -> Response:
    """The import page; `?job=ID` follows that job (it survives a reload)."""
    job_id = request.query_params.get("job")
    job = services.job_document(job_id, user) if job_id else None
    missing = f"There is no job {job_id} (or it has expired)." if job_id and not job else None
    return render(request, "import.html", {"job": job, "missing": missing}, user)


class _NoRows(Exception):
    """The file, as read with the chosen options, has no columns and no rows."""


def _setup(
    request: Request,
    services: WebServices,
    user: str,
    staged: StagedFile,
    form: FormData | None,
    status_code: int = 200,
    notice: str | None = None,
) -> Response:
    """The mapping, preview and options of a staged file (an htmx fragment)."""
    chosen: dict[str, str] | None = None
    sheet = header_row = None
    if form is not None:
        chosen = _choices(form)
        sheet, header_row = _text(form, "sheet"), _header_row(form)
        saved = _text(form, "saved")
        if saved and form.get("apply") == "saved":
            chosen = services.mappings.get_mapping(user, saved) or chosen
    context: dict[str, Any] = {
        "staged": staged,
        "sheet": sheet,
        "header_row": header_row,
        "mode": _mode(form) if form is not None else ImportMode.CREATE_AND_UPDATE,
        "merge": _policy(form) if form is not None else MergePolicy.REPLACE,
        "fields": [(f, FIELD_LABELS.get(f, f)) for f in LEAD_FIELDS],
        "dont_import": DONT_IMPORT,
        "saved_names": services.mappings.mapping_names(user),
        "notice": notice,
        "preview": None,
        "error": None,
        "choice_problem": None,
    }

    def read(sheet: str | None, header_row: int | None) -> Preview:
        with local_copy(services.blobs, staged) as path:
            preview = build_preview(
                path,
                staged.file_name,
                chosen,
                services.settings.default_region,
                sheet,
                header_row,
                services.settings,
            )
        if not preview.columns and not preview.rows:
            raise _NoRows
        return preview

    try:
        context["preview"] = read(sheet, header_row)
    except (UnreadableFile, OSError, _NoRows) as exc:
        problem = "it has no rows to import" if isinstance(exc, _NoRows) else str(exc)
        if sheet or header_row:
            # The person's sheet or header row does not work: show the file as read
            # without them, so the choice can be made again (not the file chosen again).
            chosen_text = f"header row {header_row}" if header_row else f"sheet “{sheet}”"
            context.update(sheet=None, header_row=None)
            try:
                context["preview"] = read(None, None)
                context["choice_problem"] = (
                    f"With {chosen_text}, {problem}: the file is shown as read without it."
                )
            except (UnreadableFile, OSError, _NoRows):
                pass
        if context["preview"] is None:
            status_code = 422
            if isinstance(exc, _NoRows):
                context["error"] = f"{staged.file_name} has no rows to import; choose another file."
            else:
                context["error"] = f"this file cannot be read: {exc}"
    return render(request, "_import_setup.html", context, user, status_code)


@router.post("/import/files", dependencies=[CsrfChecked])
async def upload_file(request: Request, user: WebUser, services: WebServices) -> Response:
    """Keep the chosen file aside and show its columns, suggestions and first rows."""
    form = await read_form(request)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        context = {"message": "choose a file (CSV, XLSX, JSON or NDJSON) first"}
        return render(request, "_message.html", context, user, 422)
    try:
        staged = await run_in_threadpool(
            stage_file,
            services.blobs,
            user,
            upload.filename,
            _chunks(upload),
            services.settings.max_upload_bytes,
        )
    except BlobTooLarge as exc:
        return render(request, "_message.html", {"message": str(exc)}, user, 413)
    return await run_in_threadpool(_setup, request, services, user, staged, None)


def _staged_or_none(services: WebServices, user: str, staged_id: str) -> StagedFile | None:
    return load_staged(services.blobs, user, staged_id)


def _gone(request: Request, user: str) -> Response:
    context = {"message": "this file is no longer here; choose it again"}
    return render(request, "_message.html", context, user, 404)


@router.post("/import/files/{staged_id}/preview", dependencies=[CsrfChecked])
async def preview(
    staged_id: str, request: Request, user: WebUser, services: WebServices
) -> Response:
    """The setup again, with the sheet, header row or mapping the person changed."""
    staged = _staged_or_none(services, user, staged_id)
    if staged is None:
        return _gone(request, user)
    form = await read_form(request)
    notice = None
    name = _text(form, "mappingName", 80)
    if form.get("apply") == "save" and name:
        mapping = explicit_mapping(_choices(form))
        now = utc_now("seconds")
        services.mappings.save_mapping(user, name, mapping, now)
        notice = f"Mapping “{name}” saved."
    return await run_in_threadpool(_setup, request, services, user, staged, form, 200, notice)


@router.post("/import/files/{staged_id}/dry-run", dependencies=[CsrfChecked])
async def dry_run_page(
    staged_id: str, request: Request, user: WebUser, services: WebServices
) -> Response:
    """What the import would do, counted before anything is written."""
    staged = _staged_or_none(services, user, staged_id)
    if staged is None:
        return _gone(request, user)
    form = await read_form(request)

    def count() -> Any:
        with local_copy(services.blobs, staged) as path:
            return dry_run(
                services.lead_repo,
                path,
                staged.file_name,
                user,
                _choices(form),
                _mode(form),
                _policy(form),
                services.settings.default_region,
                _text(form, "sheet"),
                _header_row(form),
                settings=services.settings,
            )

    try:
        result = await run_in_threadpool(count)
    except (UnreadableFile, OSError) as exc:
        return render(request, "_message.html", {"message": f"cannot read: {exc}"}, user, 422)
    return render(request, "_dry_run.html", {"result": result}, user)


def _follow(request: Request, job_id: str) -> Response:
    target = f"/import?job={job_id}"
    if request.headers.get("HX-Request"):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


# One start at a time per staged file: a double click sends the form twice at once, and
# only the first may start a job (the second then follows it).
_start_locks: WeakValueDictionary[str, threading.Lock] = WeakValueDictionary()
_start_locks_guard = threading.Lock()


def _start_lock(staged_id: str) -> threading.Lock:
    with _start_locks_guard:
        lock = _start_locks.get(staged_id)
        if lock is None:
            lock = threading.Lock()
            _start_locks[staged_id] = lock
        return lock


@router.post("/import/files/{staged_id}/start", dependencies=[CsrfChecked])
async def start(staged_id: str, request: Request, user: WebUser, services: WebServices) -> Response:
    """Start the upload job with the chosen options; the page then follows the job.

    Starting the same file again (a double click, the back button) follows the job it
    was started as instead of starting it twice.
    """
    form = await read_form(request)
    options: dict[str, Any] = {
        "pipeline": "leads",
        "mode": _mode(form).value,
        "merge": _policy(form).value,
        "mapping": explicit_mapping(_choices(form)),
        "standardize": None,
    }
    sheet, header_row = _text(form, "sheet"), _header_row(form)
    if sheet:
        options["sheet"] = sheet
    if header_row:
        options["headerRow"] = header_row

    def run() -> str | None:
        with _start_lock(staged_id):
            already = started_job(services.blobs, user, staged_id)
            if already is not None:
                return already
            staged = _staged_or_none(services, user, staged_id)
            if staged is None:
                return None
            chunks = staged_chunks(services.blobs, staged)
            job_id = start_upload(upload_ports(services), user, staged.file_name, chunks, options)
            mark_started(services.blobs, staged, job_id)
            return job_id

    job_id = await run_in_threadpool(run)
    if job_id is None:
        return _gone(request, user)
    return _follow(request, job_id)
