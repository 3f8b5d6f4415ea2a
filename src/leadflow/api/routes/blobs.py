"""GET /v1/blobs/{key}: downloads by signed, expiring URL (no bearer token needed).

The local blob store's `link` points here; a store without links of its own is served
here too. The file goes out through sendfile when the store has it on this machine's
disk, else streamed from `BlobStore.open` in chunks.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, BinaryIO

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, StreamingResponse
from starlette.responses import Response

from ...jobs.uploads import safe_file_name
from ...ports import BadBlobKey
from ...signed_urls import BadSignature, verify_blob_url
from ..deps import ServicesDep
from ..errors import ApiError, answers

router = APIRouter(prefix="/v1/blobs", tags=["downloads"])
CHUNK = 1024 * 1024


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    with stream:
        while chunk := stream.read(CHUNK):
            yield chunk


@router.get(
    "/{key:path}",
    response_class=Response,
    responses={
        200: {
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
            "description": "The file (CSV, JSON or XLSX), as an attachment.",
        },
        **answers(403, 404),
    },
)
def download(
    key: str,
    services: ServicesDep,
    expires: Annotated[int, Query(ge=0, le=2**62)],
    sig: Annotated[str, Query(min_length=1, max_length=128)],
    name: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
) -> Response:
    """A result or error file, by the signed link a status document or API call gave."""
    try:
        verify_blob_url(services.secret, key, expires, sig, name=name)
    except BadSignature as exc:
        raise ApiError(403, "forbidden", str(exc)) from None
    filename = safe_file_name(name) if name else key.rsplit("/", 1)[-1]
    try:
        path = services.blobs.local_path(key)
        if path is not None:
            return FileResponse(path, filename=filename)
        stream = services.blobs.open(key)
    except (BadBlobKey, FileNotFoundError):
        raise ApiError(404, "not_found", "this file no longer exists") from None
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return StreamingResponse(
        _chunks(stream), media_type="application/octet-stream", headers=headers
    )
