"""BlobStore on the local filesystem, under <data>/blobs.

Writes go to a temporary file in the same directory and are renamed into place, so a
reader never sees half a file and a crash leaves no partial blob under its key.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from ..ports import BadBlobKey, BlobTooLarge
from ..signed_urls import sign_blob_url

_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")


def check_key(key: str) -> list[str]:
    """The key's parts; BadBlobKey for anything that could leave the blob directory."""
    parts = key.split("/")
    if not key or len(parts) > 8 or not all(_PART.fullmatch(p) for p in parts):
        raise BadBlobKey(f"not a valid blob key: {key!r}")
    return parts


class FsBlobStore:
    def __init__(self, root: Path, secret: str | None = None) -> None:
        """Blobs under `root`; `secret` signs download links (none without it)."""
        self.root = root
        self.secret = secret

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key))

    def put_stream(self, key: str, chunks: Iterable[bytes], max_bytes: int | None = None) -> int:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        size = 0
        try:
            with tmp.open("wb") as out:
                for chunk in chunks:
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise BlobTooLarge(f"{key} is over the limit of {max_bytes} bytes")
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return size

    def open(self, key: str) -> BinaryIO:
        return self._path(key).open("rb")

    def size(self, key: str) -> int | None:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> bool:
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            return False
        return True

    def local_path(self, key: str) -> Path | None:
        path = self._path(key)
        return path if path.is_file() else None

    def delete_prefix(self, prefix: str) -> int:
        """Delete every blob whose key starts with `prefix` (a folder: "jobs/<id>/"); how
        many. A prefix that is not a whole key part is refused (BadBlobKey)."""
        if not prefix.endswith("/"):
            raise BadBlobKey(f"a prefix names a folder and ends with '/': {prefix!r}")
        folder = self._path(prefix[:-1])
        if not folder.is_dir():
            return 0
        count = sum(1 for path in folder.rglob("*") if path.is_file())
        shutil.rmtree(folder, ignore_errors=True)
        return count

    def link(self, key: str, expires_in: int, download_name: str | None = None) -> str | None:
        """A signed local download path (GET /v1/blobs/{key}, to put after the API's base
        URL) valid for `expires_in` seconds; None without a secret to sign it with."""
        check_key(key)
        if self.secret is None:
            return None
        return sign_blob_url(self.secret, key, expires_in, name=download_name)
