"""Accepting an upload: store the file, open its job, queue the split."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from typing import Any

from ..bootstrap import Services
from ..clock import iso
from ..ports import BlobTooLarge

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_file_name(name: str | None) -> str:
    """A file name usable as a blob key part: 'Q3 leads (final).csv' -> 'Q3_leads_final_.csv'."""
    cleaned = _UNSAFE.sub("_", (name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1])
    cleaned = cleaned.lstrip("._-")[:120]
    return cleaned or "upload"


def start_upload(
    services: Services,
    owner: str,
    file_name: str | None,
    chunks: Iterable[bytes],
    options: dict[str, Any],
) -> str:
    """Store the upload and queue its split; the job id. BlobTooLarge over the limit."""
    job_id = str(uuid.uuid4())
    status = services.status
    status.create(job_id, owner, "upload", options, file_name)
    key = f"uploads/{job_id}/{safe_file_name(file_name)}"
    try:
        size = services.blobs.put_stream(key, chunks, services.settings.max_upload_bytes)
    except BlobTooLarge as exc:
        error = {"message": str(exc), "code": "file_too_large", "timestamp": iso(status.clock())}
        status.update(job_id, status="error", error=error)
        raise
    status.update(job_id, status="uploaded", blob_key=key, file_size=size)
    services.queue.send_many([{"kind": "split", "jobId": job_id}], owner)
    return job_id
