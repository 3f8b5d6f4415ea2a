"""Files chosen on the import page, kept aside until the person starts the import.

A staged file is a blob under `staged/<id>/file/`, next to a small JSON note
(`staged/<id>/note.json`) naming its owner, so one user can never preview, dry-run or
start another user's file.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import unicodedata
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..jobs.uploads import safe_file_name
from ..ports import BlobStore

_ID = re.compile(r"^[0-9a-f]{32}$")
CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class StagedFile:
    staged_id: str
    owner: str
    file_name: str
    key: str
    size: int


def shown_file_name(file_name: str | None) -> str:
    """The name as uploaded, for the page and the job (escaped where shown), as the API
    keeps it: `</script>.csv` stays whole. Only control characters, which nobody can
    read, are dropped, and the name is cut at 200 characters. The blob key is built
    apart from it (safe_file_name), so no name can reach outside its folder."""
    name = "".join(c for c in (file_name or "") if unicodedata.category(c) != "Cc")
    return name[:200] if name.strip() else "upload"


def stage_file(
    blobs: BlobStore, owner: str, file_name: str | None, chunks: Iterable[bytes], max_bytes: int
) -> StagedFile:
    """Store an uploaded file for preview; BlobTooLarge over `max_bytes`."""
    staged_id = uuid.uuid4().hex
    name = shown_file_name(file_name)
    # in its own folder: a file named note.json must not land on the note's key
    key = f"staged/{staged_id}/file/{safe_file_name(name)}"
    size = blobs.put_stream(key, chunks, max_bytes)
    note = {"owner": owner, "fileName": name, "key": key, "size": size}
    blobs.put_stream(f"staged/{staged_id}/note.json", [json.dumps(note).encode()])
    return StagedFile(staged_id, owner, name, key, size)


def _note(blobs: BlobStore, owner: str, staged_id: str) -> dict[str, Any] | None:
    if not _ID.match(staged_id):
        return None
    try:
        with blobs.open(f"staged/{staged_id}/note.json") as stream:
            note = json.loads(stream.read())
    except (FileNotFoundError, ValueError):
        return None
    return note if isinstance(note, dict) and note.get("owner") == owner else None


def load_staged(blobs: BlobStore, owner: str, staged_id: str) -> StagedFile | None:
    """The owner's staged file, or None (unknown id, another user's, started, or gone)."""
    note = _note(blobs, owner, staged_id)
    if note is None or "jobId" in note:
        return None
    return StagedFile(staged_id, owner, note["fileName"], note["key"], int(note["size"]))


def started_job(blobs: BlobStore, owner: str, staged_id: str) -> str | None:
    """The job the owner's staged file was started as (None: not started, or not theirs)."""
    note = _note(blobs, owner, staged_id)
    job_id = note.get("jobId") if note is not None else None
    return job_id if isinstance(job_id, str) else None


def mark_started(blobs: BlobStore, staged: StagedFile, job_id: str) -> None:
    """Drop the staged copy but remember its job: a second "Start import" of the same
    form (a double click, the back button) then follows that job instead of failing."""
    note = {"owner": staged.owner, "fileName": staged.file_name, "jobId": job_id}
    blobs.put_stream(f"staged/{staged.staged_id}/note.json", [json.dumps(note).encode()])
    blobs.delete(staged.key)


def staged_chunks(blobs: BlobStore, staged: StagedFile) -> Iterator[bytes]:
    with blobs.open(staged.key) as stream:
        while chunk := stream.read(CHUNK):
            yield chunk


@contextmanager
def local_copy(blobs: BlobStore, staged: StagedFile) -> Iterator[Path]:
    """A path to the staged file on this machine (a temporary copy for remote stores)."""
    path = blobs.local_path(staged.key)
    if path is not None:
        yield path
        return
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / safe_file_name(staged.file_name)
        with blobs.open(staged.key) as source, copy.open("wb") as target:
            shutil.copyfileobj(source, target)
        yield copy
