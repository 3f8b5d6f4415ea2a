"""The BlobStore port on Amazon S3 (one bucket, `{prefix}-blobs`), with presigned links.

* `put_stream` buffers up to `part_size` bytes: a blob that fits is one PutObject; a
  larger one is a multipart upload of `part_size` parts (S3's minimum part is 5 MiB).
  The size limit is checked before each part goes out, and going over it (or any error)
  aborts the multipart upload, so S3 never shows a partial object and nothing is stored
  under the key (an object appears only when the upload completes).
* `open` streams the object (GetObject's StreamingBody behind an io.BufferedReader, so
  readers get `read`, `read1`, `readinto` and `peek`); FileNotFoundError when absent.
* `delete` answers whether the blob was there (HeadObject first: S3's DeleteObject
  succeeds either way). `delete_prefix` lists and deletes 1,000 keys per request.
* `link` is a presigned GET (no request is made; the link fails with 404 if the blob is
  gone), with Content-Disposition `attachment` and the download name (RFC 6266).
* `upload_form` is a presigned POST for browser uploads larger than API Gateway's 10 MB
  body: the form fields, the key fixed, the size bounded by a content-length-range
  (S3 enforces it; moto's server does not, so callers still check `size` before use).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO, cast
from urllib.parse import quote

from botocore.exceptions import ClientError

from ..ports import BadBlobKey, BlobTooLarge
from .fs_blobs import check_key

MIN_PART = 5 * 1024 * 1024  # S3's smallest part (all but the last)
DEFAULT_PART = 8 * 1024 * 1024
READ_BUFFER = 1024 * 1024
MISSING = ("404", "NoSuchKey", "NotFound")

__all__ = ["S3BlobStore", "bucket_name", "content_disposition"]


def bucket_name(prefix: str) -> str:
    """The blob bucket's name for a resource prefix (LEADFLOW_AWS_PREFIX)."""
    return f"{prefix}-blobs"


def content_disposition(name: str) -> str:
    """`attachment` with the download name: an ASCII fallback and the UTF-8 name (RFC
    6266 / 5987), so any file name survives the header."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _missing(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code", "")) in MISSING


class _Body(io.RawIOBase):
    """GetObject's StreamingBody as a raw stream (readinto), for io.BufferedReader."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._body.read(len(view))
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


class S3BlobStore:
    """Blobs as objects of one bucket, by key (see the module docstring)."""

    def __init__(self, s3: Any, bucket: str, part_size: int = DEFAULT_PART) -> None:
        if part_size < MIN_PART:
            raise ValueError(f"part_size must be at least {MIN_PART} bytes (S3's minimum)")
        self.s3 = s3
        self.bucket = bucket
        self.part_size = part_size

    def put_stream(self, key: str, chunks: Iterable[bytes], max_bytes: int | None = None) -> int:
        """Store the chunks under `key`, whole or not at all; the size in bytes.
        BlobTooLarge (nothing stored) past `max_bytes`; BadBlobKey for a bad key."""
        check_key(key)
        buffer = bytearray()
        size = 0
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        try:
            for chunk in chunks:
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise BlobTooLarge(f"{key} is over the limit of {max_bytes} bytes")
                buffer += chunk
                while len(buffer) >= self.part_size:
                    if upload_id is None:
                        upload_id = self.s3.create_multipart_upload(Bucket=self.bucket, Key=key)[
                            "UploadId"
                        ]
                    part = bytes(buffer[: self.part_size])
                    del buffer[: self.part_size]
                    parts.append(self._part(key, upload_id, len(parts) + 1, part))
            if upload_id is None:
                self.s3.put_object(Bucket=self.bucket, Key=key, Body=bytes(buffer))
                return size
            if buffer:
                parts.append(self._part(key, upload_id, len(parts) + 1, bytes(buffer)))
            self.s3.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
            upload_id = None
        finally:
            if upload_id is not None:  # an error or the limit: S3 keeps nothing
                self.s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        return size

    def _part(self, key: str, upload_id: str, number: int, data: bytes) -> dict[str, Any]:
        answer = self.s3.upload_part(
            Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data
        )
        return {"PartNumber": number, "ETag": answer["ETag"]}

    def open(self, key: str) -> BinaryIO:
        """The blob as a buffered binary stream; FileNotFoundError when absent."""
        check_key(key)
        try:
            answer = self.s3.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _missing(exc):
                raise FileNotFoundError(key) from exc
            raise
        return cast(BinaryIO, io.BufferedReader(_Body(answer["Body"]), READ_BUFFER))

    def size(self, key: str) -> int | None:
        """The blob's size in bytes (HeadObject); None when absent."""
        check_key(key)
        try:
            answer = self.s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        return int(answer["ContentLength"])

    def delete(self, key: str) -> bool:
        """Delete the blob; False when it was not there."""
        if self.size(key) is None:
            return False
        self.s3.delete_object(Bucket=self.bucket, Key=key)
        return True

    def delete_prefix(self, prefix: str) -> int:
        """Delete every blob under the folder `prefix` (it ends in "/", so "jobs/j1/"
        never reaches "jobs/j10/"; BadBlobKey otherwise); how many."""
        if not prefix.endswith("/"):
            raise BadBlobKey(f"a blob prefix is a folder ending in '/': {prefix!r}")
        check_key(prefix[:-1])
        deleted = 0
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        for page in pages:
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:  # a page holds at most 1,000 keys: DeleteObjects' limit
                answer = self.s3.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": keys, "Quiet": False}
                )
                deleted += len(answer.get("Deleted", []))
        return deleted

    def local_path(self, key: str) -> Path | None:
        """Never on this machine's disk."""
        return None

    def link(self, key: str, expires_in: int, download_name: str | None = None) -> str | None:
        """A presigned GET, good for `expires_in` s, that downloads as `download_name`."""
        check_key(key)
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if download_name:
            params["ResponseContentDisposition"] = content_disposition(download_name)
        url = self.s3.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)
        return str(url)

    def upload_form(
        self, key: str, max_bytes: int, expires_in: int = 900, content_type: str | None = None
    ) -> dict[str, Any]:
        """A presigned POST ({url, fields}) a browser can send a file of at most
        `max_bytes` to, stored under `key` (multipart/form-data, the file field last)."""
        check_key(key)
        fields: dict[str, str] = {}
        conditions: list[Any] = [["content-length-range", 0, max_bytes]]
        if content_type:
            fields["Content-Type"] = content_type
            conditions.append({"Content-Type": content_type})
        form = self.s3.generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            Fields=fields or None,
            Conditions=conditions,
            ExpiresIn=expires_in,
        )
        return {"url": str(form["url"]), "fields": dict(form["fields"])}
