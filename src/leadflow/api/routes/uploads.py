"""POST /v1/uploads (a file becomes a job) and the job's status document."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse

from ...bootstrap import Services, upload_ports
from ...domain.merge import ImportMode, MergePolicy
from ...domain.spreadsheet_safety import neutralize
from ...jobs.status import UNDO_STALE_SECONDS, iso
from ...jobs.uploads import start_upload
from ...pipelines.importing import PipelineName
from ...pipelines.mapping import InvalidMapping, parse_column_mapping
from ...ports import BlobTooLarge
from ...providers import registry
from ...providers.base import UnknownProvider
from ...signed_urls import download_link
from ..deps import CurrentUser, ServicesDep
from ..errors import ApiError, answers
from ..links import public_base_url
from ..schemas import CancelResult, StatusDocument, UndoDone, UploadAccepted

router = APIRouter(prefix="/v1", tags=["uploads"])
URL_TTL = 3600  # result links stay valid an hour after each status read
CHUNK = 1024 * 1024


def _chunks(upload: UploadFile) -> Iterator[bytes]:
    while chunk := upload.file.read(CHUNK):
        yield chunk


@router.post("/uploads", status_code=202, response_model=UploadAccepted, responses=answers(413))
async def upload(
    user: CurrentUser,
    services: ServicesDep,
    file: Annotated[UploadFile, File(description="CSV, XLSX, JSON or NDJSON.")],
    pipeline: PipelineName = PipelineName.LEADS,
    mode: ImportMode = ImportMode.CREATE_AND_UPDATE,
    merge: MergePolicy = MergePolicy.REPLACE,
    map_: Annotated[
        list[str] | None,
        Query(alias="map", description="Column mapping 'Column=field', repeatable."),
    ] = None,
    standardize: Annotated[
        str | None,
        Query(pattern="^llm$", description="llm: the LLM maps messy rows to lead fields."),
    ] = None,
    header_row: Annotated[
        int | None,
        Query(
            alias="headerRow",
            ge=1,
            le=1_048_576,
            description="1-based line (CSV) or row (XLSX) of the header; found when absent.",
        ),
    ] = None,
    sheet: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="XLSX sheet by name or 1-based position; default: the first sheet "
            "that has a header row.",
        ),
    ] = None,
) -> JSONResponse:
    """Store the file and start a job; poll GET /v1/status/{uploadId} for its progress."""
    try:
        mapping = parse_column_mapping(map_ or [])
    except InvalidMapping as exc:
        raise ApiError(422, "invalid_mapping", str(exc)) from None
    options: dict[str, Any] = {
        "pipeline": pipeline.value,
        "mode": mode.value,
        "merge": merge.value,
        "mapping": mapping,
        "standardize": standardize,
        # how the worker reads the file: the same header row and sheet as asked here
        "headerRow": header_row,
        "sheet": sheet,
    }
    if standardize:
        try:
            registry.create(standardize, services.settings)
        except UnknownProvider as exc:
            raise ApiError(422, "unknown_provider", str(exc)) from None
    try:
        job_id = await run_in_threadpool(
            start_upload, upload_ports(services), user, file.filename, _chunks(file), options
        )
    except BlobTooLarge as exc:
        raise ApiError(413, "payload_too_large", str(exc)) from None
    return JSONResponse({"uploadId": job_id, "status": "uploaded"}, status_code=202)


@router.get(
    "/status/{job_id}",
    response_model=StatusDocument,
    response_model_exclude_unset=True,  # the result links only once the job completed
    responses=answers(404),
)
def job_status(
    job_id: str, request: Request, user: CurrentUser, services: ServicesDep
) -> dict[str, Any]:
    """The job's status document: status, stage, progress, metadata, error, summary."""
    document = services.job_document(job_id, user)
    if document is None:
        raise ApiError(404, "not_found", f"no job {job_id}")
    job = services.jobs.get(job_id, user)
    if job is not None and job.result_key is not None:
        base = public_base_url(request, services.settings)
        for name, suffix in (("resultUrl", ".csv"), ("resultJsonUrl", ".json")):
            document[name] = _download_url(services, base, job.result_key + suffix)
    return document


def _download_url(services: Services, base: str, key: str) -> str:
    link = download_link(services.blobs, services.secret, key, URL_TTL)
    return base + link if link.startswith("/") else link


@router.post("/status/{job_id}/cancel", response_model=CancelResult, responses=answers(404, 409))
def cancel(job_id: str, user: CurrentUser, services: ServicesDep) -> dict[str, Any]:
    """Cancel a job: batches already running finish, the others are skipped."""
    cancelled = services.jobs.cancel(job_id, user)
    if cancelled is None:
        raise ApiError(404, "not_found", f"no job {job_id}")
    if not cancelled:
        raise ApiError(409, "conflict", f"job {job_id} has ended already")
    return {
        "uploadId": job_id,
        "status": "cancelled",
        "message": "processing cancellation requested",
    }


@router.post("/uploads/{job_id}/undo", response_model=UndoDone, responses=answers(404, 409))
def undo(job_id: str, user: CurrentUser, services: ServicesDep) -> dict[str, Any]:
    """Delete the leads the upload created; give the leads it updated their old values.

    A lead that a later import or API call changed is left as it is and listed in
    `conflictLeadIds`. Of two concurrent undos of one upload, one runs, the other gets 409.
    """
    job = services.jobs.get(job_id, user)
    if job is None:
        raise ApiError(404, "not_found", f"no job {job_id}")
    if job.status not in ("completed", "cancelled", "error"):
        raise ApiError(409, "conflict", f"job {job_id} is still {job.status}; undo it once it ends")
    if not services.jobs.claim_undo(job_id, user, UNDO_STALE_SECONDS):
        job = services.jobs.get(job_id, user)
        undo = job.undo if job is not None else None
        if undo is not None and undo.get("state") == "running":
            raise ApiError(409, "conflict", f"job {job_id} is being undone", undo)
        raise ApiError(409, "conflict", f"job {job_id} was undone already", undo)
    try:
        now = iso(services.clock())
        result = services.lead_repo.undo_import(user, job_id, now)
    except BaseException:
        services.jobs.release_undo(job_id)
        raise
    record = {
        "state": "done",
        "undoneAt": now,
        "deleted": result.deleted,
        "restored": result.restored,
        # leads later work changed: they keep their values (SPEC: undo never destroys it)
        "conflicts": len(result.conflicts),
        "conflictLeadIds": result.conflicts,
    }
    services.jobs.update(job_id, undo=record)
    return {"uploadId": job_id, **record}


@router.get(
    "/uploads/{job_id}/errors.csv",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "The rejected rows with their reasons, as CSV.",
        },
        **answers(404),
    },
)
def errors_csv(job_id: str, user: CurrentUser, services: ServicesDep) -> StreamingResponse:
    """Every rejected row of the upload as received, with a `reason` column."""
    if services.jobs.get(job_id, user) is None:
        raise ApiError(404, "not_found", f"no job {job_id}")
    errors = services.schema_errors.list(user, limit=10**9, import_id=job_id)
    errors.sort(key=lambda e: e["index"])
    columns: dict[str, None] = {}
    for error in errors:
        if isinstance(error["record"], dict):
            columns.update(dict.fromkeys(error["record"]))
    # lines that were not records at all (an NDJSON line that is not JSON) keep their text
    raw = any(not isinstance(error["record"], dict) for error in errors)
    header = [*(["raw"] if raw else []), *columns, "reason"]

    def rows() -> Iterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([neutralize(str(h)) for h in header])
        for error in errors:
            record = error["record"]
            fields = record if isinstance(record, dict) else {}
            cells = ["" if fields.get(c) is None else str(fields.get(c)) for c in columns]
            if raw:
                cells.insert(0, "" if isinstance(record, dict) else str(record))
            reason = "; ".join(f"{e['field']}: {e['message']}" for e in error["errors"])
            writer.writerow([neutralize(c) for c in [*cells, reason]])
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue().encode()

    headers = {"Content-Disposition": f'attachment; filename="errors-{job_id}.csv"'}
    return StreamingResponse(rows(), media_type="text/csv; charset=utf-8", headers=headers)
